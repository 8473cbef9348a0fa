/**
 * Datasets and their versions. An owner creates a dataset, then uploads files; each upload is
 * a job that converts the file into columnar chunks in the blob store (./ingest/) and, only if
 * the whole file converted, commits a new immutable version document. A failed upload deletes
 * whatever chunks it wrote; an upload whose process died is cleaned up by the recovery sweep
 * (upload-recovery.ts, at start and every minute). Everything goes through the storage port, so it behaves the same
 * on SQLite + files and on MongoDB + GridFS.
 */
import { createHash } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { DuplicateKeyError, type BlobStore, type Collection, type DocumentStore, type Page, type Stored } from "../store/port.ts";
import { NotFound, invalidInputFromZod } from "../errors.ts";
import { newId } from "../ids.ts";
import type { Logger } from "../logger.ts";
import type { AuditTrail } from "../audit-trail.ts";
import { ACTIONS, auditEvent } from "../audit-actions.ts";
import { COLLECTIONS, type Dataset, type DatasetVersion, type UploadErrorInfo, type UploadJob } from "./model.ts";
import { CHUNK_FORMAT, CHUNK_ROWS, uploadBlobPrefix } from "./chunk-format.ts";
import { DatasetNameTaken, UploadRejected } from "./errors.ts";
import { parseUploadOptions, type UploadOptionsInput } from "./upload-options.ts";
import { runIngest, type IngestResult } from "./ingest/pipeline.ts";
import { UploadProgress } from "./ingest/progress.ts";
import { readColumnChunk, readDictionary, type ColumnChunk, type ReadChunkOptions } from "./chunk-reader.ts";
import { UploadRecovery, type RecoveryReport } from "./upload-recovery.ts";

export interface DatasetsServiceOptions {
  audit: AuditTrail;
  /** Spool files live under `<dataDir>/upload-spool`. */
  dataDir: string;
  /** Largest upload accepted (UPLOAD_MAX_BYTES). */
  uploadMaxBytes: number;
  /** Rows per chunk; tests use small chunks to exercise many. */
  chunkRows?: number;
  /** An upload whose heartbeat is older than this is presumed dead and cleaned up. */
  staleUploadMs?: number;
  now?: () => Date;
  log?: Logger;
}

export interface UploadInput extends UploadOptionsInput {
  /** The file's bytes, streamed (a Node Readable, a web stream's async iterator…). */
  source: AsyncIterable<Uint8Array>;
  filename?: string | null;
  /** The size the client announced (Content-Length), checked against the limit before reading. */
  bytesTotal?: number | null;
  /** Called once the job exists, before any byte is read: lets a caller show its id. */
  onJob?: (job: Stored<UploadJob>) => void;
}

export interface UploadOutcome {
  job: Stored<UploadJob>;
  version: Stored<DatasetVersion>;
}

const datasetInput = z.object({
  name: z.string().trim().min(1, "is required").max(200, "must be at most 200 characters"),
  description: z.string().trim().max(5000, "must be at most 5000 characters").default(""),
});

const SWEEP_MS = 60_000;
const DEFAULT_STALE_MS = 60_000;

export class DatasetsService {
  readonly #datasets: Collection<Dataset>;
  readonly #versions: Collection<DatasetVersion>;
  readonly #jobs: Collection<UploadJob>;
  readonly #blobs: BlobStore;
  readonly #audit: AuditTrail;
  readonly #spoolDir: string;
  readonly #maxBytes: number;
  readonly #chunkRows: number;
  readonly #now: () => Date;
  readonly #log: Logger | undefined;
  readonly #recovery: UploadRecovery;

  private constructor(
    cols: { datasets: Collection<Dataset>; versions: Collection<DatasetVersion>; jobs: Collection<UploadJob> },
    blobs: BlobStore,
    o: DatasetsServiceOptions,
  ) {
    this.#datasets = cols.datasets;
    this.#versions = cols.versions;
    this.#jobs = cols.jobs;
    this.#blobs = blobs;
    this.#audit = o.audit;
    this.#spoolDir = join(o.dataDir, "upload-spool");
    this.#maxBytes = o.uploadMaxBytes;
    this.#chunkRows = o.chunkRows ?? CHUNK_ROWS;
    this.#now = o.now ?? (() => new Date());
    this.#log = o.log;
    this.#recovery = new UploadRecovery({
      ...cols,
      blobs,
      spoolDir: this.#spoolDir,
      staleMs: o.staleUploadMs ?? DEFAULT_STALE_MS,
      now: this.#now,
      log: o.log,
    });
  }

  /** Opens the collections, registers audit fact checks and cleans up uploads a crash left behind. */
  static async open(store: DocumentStore, blobs: BlobStore, options: DatasetsServiceOptions): Promise<DatasetsService> {
    const c = COLLECTIONS;
    const service = new DatasetsService(
      {
        datasets: await store.collection<Dataset>(c.datasets.name, c.datasets.indexes),
        versions: await store.collection<DatasetVersion>(c.versions.name, c.versions.indexes),
        jobs: await store.collection<UploadJob>(c.uploads.name, c.uploads.indexes),
      },
      blobs,
      options,
    );
    service.#registerFactChecks();
    await mkdir(service.#spoolDir, { recursive: true, mode: 0o700 });
    await service.recoverInterruptedUploads();
    return service;
  }

  get uploadMaxBytes(): number {
    return this.#maxBytes;
  }

  #registerFactChecks(): void {
    const drift = this.#audit.drift;
    drift.registerFactCheck(ACTIONS.datasetCreated, async (e) => (await this.#datasets.get(e.subject.datasetId ?? "")) !== null);
    drift.registerFactCheck(ACTIONS.datasetVersionCreated, async (e) => (await this.#versions.get(e.subject.versionId ?? "")) !== null);
  }

  // ---- datasets ---------------------------------------------------------------------------

  async createDataset(ownerId: string, input: { name: string; description?: string | null }): Promise<Stored<Dataset>> {
    const parsed = datasetInput.safeParse({ name: input.name, description: input.description ?? undefined });
    if (!parsed.success) throw invalidInputFromZod(parsed.error);
    const id = newId("ds");
    const eventId = `dataset.created:${id}`;
    const event = auditEvent(ACTIONS.datasetCreated, { actor: ownerId, subject: { datasetId: id, ownerId }, data: {}, eventId });
    try {
      return await this.#audit.drift.withEvent({ ...event, eventId }, () =>
        this.#datasets.insert({
          _id: id,
          ownerId,
          name: parsed.data.name,
          description: parsed.data.description,
          createdAt: this.#now().toISOString(),
          latestVersion: 0,
          versionSeq: 0,
        }),
      );
    } catch (e) {
      if (e instanceof DuplicateKeyError && e.fields.includes("name")) throw new DatasetNameTaken();
      throw e;
    }
  }

  /** Any dataset by id (for the catalog side, which checks ownership itself). */
  getDataset(datasetId: string): Promise<Stored<Dataset> | null> {
    return this.#datasets.get(datasetId);
  }

  /** The owner's dataset; NotFound for a missing dataset and for someone else's alike. */
  async getOwnedDataset(ownerId: string, datasetId: string): Promise<Stored<Dataset>> {
    const ds = await this.#datasets.get(datasetId);
    if (!ds || ds.ownerId !== ownerId) throw new NotFound("dataset");
    return ds;
  }

  /** The owner's datasets, newest first. */
  listDatasets(ownerId: string, first: number, after?: string | null): Promise<Page<Stored<Dataset>>> {
    return this.#datasets.find({ ownerId }, { sort: [["createdAt", -1]], limit: first, ...(after ? { after } : {}) });
  }

  // ---- versions ---------------------------------------------------------------------------

  getVersion(datasetId: string, version: number): Promise<Stored<DatasetVersion> | null> {
    if (!Number.isInteger(version) || version < 1) return Promise.resolve(null);
    return this.#versions.get(`${datasetId}@${version}`);
  }

  /** Versions of a dataset, newest first (at most `limit`). */
  async listVersions(datasetId: string, limit = 100): Promise<Stored<DatasetVersion>[]> {
    return (await this.#versions.find({ datasetId }, { sort: [["version", -1]], limit })).items;
  }

  /** One column of one chunk of a version (see chunk-reader.ts and FORMAT.md). */
  readColumnChunk(version: DatasetVersion, column: string | number, chunk: number, options?: ReadChunkOptions): Promise<ColumnChunk> {
    return readColumnChunk(this.#blobs, version, column, chunk, options);
  }

  /** A string column's dictionary (entry i is the text of code i). */
  readDictionary(version: DatasetVersion, column: string | number): Promise<string[]> {
    return readDictionary(this.#blobs, version, column);
  }

  // ---- uploads ----------------------------------------------------------------------------

  getUploadJob(jobId: string): Promise<Stored<UploadJob> | null> {
    return this.#jobs.get(jobId);
  }

  async getOwnedUploadJob(ownerId: string, jobId: string): Promise<Stored<UploadJob>> {
    const job = await this.#jobs.get(jobId);
    if (!job || job.ownerId !== ownerId) throw new NotFound("upload job");
    return job;
  }

  /** A dataset's uploads, newest first. */
  async listUploadJobs(datasetId: string, limit = 20): Promise<Stored<UploadJob>[]> {
    return (await this.#jobs.find({ datasetId }, { sort: [["startedAt", -1]], limit })).items;
  }

  /**
   * Converts one uploaded file into a new version of the owner's dataset. Resolves once the
   * version is committed; rejects with UploadRejected (its `jobId` set) or NotFound/InvalidInput,
   * having kept nothing. Progress is on the job document meanwhile.
   */
  async uploadVersion(ownerId: string, datasetId: string, input: UploadInput): Promise<UploadOutcome> {
    const options = parseUploadOptions(input);
    const dataset = await this.getOwnedDataset(ownerId, datasetId);
    if (input.bytesTotal != null && input.bytesTotal > this.#maxBytes) {
      throw new UploadRejected(
        "too_large",
        `the upload is ${input.bytesTotal} bytes, larger than the limit of ${this.#maxBytes} bytes (UPLOAD_MAX_BYTES)`,
      );
    }
    const jobId = newId("upl");
    const blobPrefix = uploadBlobPrefix(dataset._id, jobId);
    const startedAt = this.#now().toISOString();
    let job = await this.#jobs.insert({
      _id: jobId,
      datasetId: dataset._id,
      ownerId,
      state: "running",
      phase: "receiving",
      format: options.format,
      bytesDone: 0,
      bytesTotal: input.bytesTotal ?? null,
      rowsDone: 0,
      blobPrefix,
      version: null,
      error: null,
      startedAt,
      updatedAt: startedAt,
      finishedAt: null,
    });
    input.onJob?.(job);
    const progress = new UploadProgress(this.#jobs, jobId, this.#now, this.#log);
    progress.start();
    let version: Stored<DatasetVersion>;
    let passes = 1;
    let ingestPath: "native" | "js" = "js";
    try {
      const result = await runIngest(
        { source: input.source, format: options.format, delimiter: options.delimiter, declared: options.declared, filename: input.filename ?? null },
        {
          blobs: this.#blobs,
          blobPrefix,
          spoolPath: join(this.#spoolDir, `${jobId}.upload`),
          maxBytes: this.#maxBytes,
          chunkRows: this.#chunkRows,
          progress,
          log: this.#log,
        },
      );
      await progress.stop();
      passes = result.secondPass ? 2 : 1;
      ingestPath = result.path;
      version = await this.#commit(dataset, job, result);
    } catch (e) {
      await progress.stop();
      await this.#failJob(job, e);
      if (e instanceof UploadRejected) e.jobId = jobId;
      throw e;
    }
    const finishedAt = this.#now().toISOString();
    job =
      (await this.#jobs.updateOne(
        { _id: jobId },
        {
          $set: {
            state: "succeeded",
            phase: "done",
            version: version.version,
            passes,
            ingestPath,
            rowsDone: version.rowCount,
            bytesDone: version.sourceBytes,
            updatedAt: finishedAt,
            finishedAt,
          },
        },
      )) ?? job;
    this.#log?.info(
      { datasetId: dataset._id, jobId, version: version.version, rows: version.rowCount, bytes: version.sourceBytes, ingestPath },
      "dataset version created",
    );
    return { job, version };
  }

  /** Numbers and inserts the version (the commit point), then moves the dataset's latestVersion. */
  async #commit(dataset: Stored<Dataset>, job: Stored<UploadJob>, r: IngestResult): Promise<Stored<DatasetVersion>> {
    // A job the recovery sweep reaped (its heartbeat stalled) must not commit over deleted chunks.
    const claimed = await this.#jobs.updateOne(
      { _id: job._id, state: "running" },
      { $set: { phase: "committing", updatedAt: this.#now().toISOString() } },
    );
    if (!claimed) throw new Error(`upload ${job._id} was reaped before it could commit`);
    const numbered = await this.#datasets.updateOne({ _id: dataset._id }, { $inc: { versionSeq: 1 } });
    if (!numbered) throw new NotFound("dataset");
    const n = numbered.versionSeq!;
    const versionId = `${dataset._id}@${n}`;
    const doc = {
      _id: versionId,
      datasetId: dataset._id,
      ownerId: dataset.ownerId,
      version: n,
      schema: r.schema,
      rowCount: r.rowCount,
      chunkRows: r.chunkRows,
      chunkCount: r.chunkCount,
      blobPrefix: job.blobPrefix,
      sourceFormat: r.format,
      sourceBytes: r.sourceBytes,
      sourceSha256: r.sourceSha256,
      createdAt: this.#now().toISOString(),
      chunkFormat: CHUNK_FORMAT,
      uploadId: job._id,
      columns: r.columns,
    } satisfies DatasetVersion & { _id: string };
    const schemaHash = createHash("sha256")
      .update(JSON.stringify(r.schema.columns.map((c) => [c.name, c.type, c.nullable])))
      .digest("hex");
    // Event ids allow [A-Za-z0-9_.:+/=-] only (no "@"). The row count goes as `rowCount`: the
    // audit log refuses a data key named `rows` (it guards against raw rows), whatever the
    // catalogue in audit/actions.ts says.
    const eventId = `dataset.version_created:${dataset._id}:v${n}`;
    const event = {
      actor: dataset.ownerId,
      action: ACTIONS.datasetVersionCreated,
      subject: { datasetId: dataset._id, ownerId: dataset.ownerId, versionId },
      data: { version: n, contentHash: r.sourceSha256, rowCount: r.rowCount, schemaHash },
      eventId,
    };
    const version = await this.#audit.drift.withEvent(event, () => this.#versions.insert(doc));
    await this.#recovery.raiseLatest(dataset._id, n);
    return version;
  }

  /**
   * Ends a failed job: deletes its chunks and records why. If its version was committed after
   * all (a failure after the commit point), the job is completed instead. If the chunks cannot
   * be deleted now, the job stays `running` and the recovery sweep finishes the cleanup.
   */
  async #failJob(job: Stored<UploadJob>, error: unknown): Promise<void> {
    const info: UploadErrorInfo =
      error instanceof UploadRejected
        ? error.toInfo()
        : {
            rule: "internal_error",
            message: "the upload failed because of an internal error; nothing was kept",
            line: null,
            row: null,
            column: null,
          };
    if (!(error instanceof UploadRejected)) this.#log?.error({ err: error, jobId: job._id }, "upload failed");
    try {
      if (await this.#recovery.completeIfCommitted(job)) return;
      await this.#blobs.deletePrefix(job.blobPrefix);
      const at = this.#now().toISOString();
      await this.#jobs.updateOne(
        { _id: job._id, state: "running" },
        { $set: { state: "failed", phase: "done", error: { ...info }, updatedAt: at, finishedAt: at } },
      );
    } catch (err) {
      this.#log?.warn({ err, jobId: job._id }, "failed upload not cleaned up yet; the recovery sweep will");
    }
  }

  // ---- recovery ---------------------------------------------------------------------------

  /**
   * Finishes uploads whose process died (no heartbeat for `staleUploadMs`): see
   * upload-recovery.ts. Runs at open and every minute (startSweeping).
   */
  recoverInterruptedUploads(): Promise<RecoveryReport> {
    return this.#recovery.run();
  }

  /** Runs the recovery every minute in the background (for uploads of a crashed peer process). */
  startSweeping(intervalMs = SWEEP_MS): void {
    this.#recovery.startSweeping(intervalMs);
  }

  stopSweeping(): void {
    this.#recovery.stopSweeping();
  }
}
