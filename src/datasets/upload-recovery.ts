/**
 * Finishing uploads whose process died. A running upload refreshes its job's `updatedAt` every
 * few seconds; a job silent for longer than `staleMs` has no process left, so its chunks are
 * deleted and it is marked failed (`interrupted`) — unless its version document was committed
 * before the crash, in which case the job is completed (and the dataset's latestVersion raised).
 * Spool files that no live upload owns are removed too. Runs when the service opens (start-up)
 * and every minute after, so uploads of a crashed peer process are finished as well.
 */
import { readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { BlobStore, Collection, Stored } from "../store/port.ts";
import type { Logger } from "../logger.ts";
import type { Dataset, DatasetVersion, UploadJob } from "./model.ts";

export interface RecoveryReport {
  cleaned: number;
  completed: number;
  spoolFiles: number;
}

export class UploadRecovery {
  readonly #datasets: Collection<Dataset>;
  readonly #versions: Collection<DatasetVersion>;
  readonly #jobs: Collection<UploadJob>;
  readonly #blobs: BlobStore;
  readonly #spoolDir: string;
  readonly #staleMs: number;
  readonly #now: () => Date;
  readonly #log: Logger | undefined;
  #sweeper: NodeJS.Timeout | null = null;

  constructor(deps: {
    datasets: Collection<Dataset>;
    versions: Collection<DatasetVersion>;
    jobs: Collection<UploadJob>;
    blobs: BlobStore;
    spoolDir: string;
    staleMs: number;
    now: () => Date;
    log?: Logger | undefined;
  }) {
    this.#datasets = deps.datasets;
    this.#versions = deps.versions;
    this.#jobs = deps.jobs;
    this.#blobs = deps.blobs;
    this.#spoolDir = deps.spoolDir;
    this.#staleMs = deps.staleMs;
    this.#now = deps.now;
    this.#log = deps.log;
  }

  /** Moves a dataset's latestVersion up to `n` (never down). */
  async raiseLatest(datasetId: string, n: number): Promise<void> {
    await this.#datasets.updateOne({ _id: datasetId, latestVersion: { $lt: n } }, { $set: { latestVersion: n } });
  }

  /** If a version of this upload exists, marks the job succeeded (and the dataset's latest) and says so. */
  async completeIfCommitted(job: Stored<UploadJob>): Promise<boolean> {
    const version = await this.#versions.findOne({ uploadId: job._id });
    if (!version) return false;
    await this.raiseLatest(version.datasetId, version.version);
    const at = this.#now().toISOString();
    await this.#jobs.updateOne(
      { _id: job._id, state: "running" },
      { $set: { state: "succeeded", phase: "done", version: version.version, rowsDone: version.rowCount, updatedAt: at, finishedAt: at } },
    );
    return true;
  }

  async run(): Promise<RecoveryReport> {
    const cutoff = new Date(this.#now().getTime() - this.#staleMs).toISOString();
    let cleaned = 0;
    let completed = 0;
    for (;;) {
      const page = await this.#jobs.find({ state: "running", updatedAt: { $lt: cutoff } }, { sort: [["updatedAt", 1]], limit: 50 });
      if (page.items.length === 0) break;
      for (const job of page.items) {
        if (await this.completeIfCommitted(job)) {
          completed++;
          continue;
        }
        await this.#blobs.deletePrefix(job.blobPrefix);
        const at = this.#now().toISOString();
        await this.#jobs.updateOne(
          { _id: job._id, state: "running" },
          {
            $set: {
              state: "failed",
              phase: "done",
              error: {
                rule: "interrupted",
                message: "the upload was interrupted (the server stopped) and nothing was kept; upload the file again",
                line: null,
                row: null,
                column: null,
              },
              updatedAt: at,
              finishedAt: at,
            },
          },
        );
        cleaned++;
      }
    }
    const spoolFiles = await this.#removeStaleSpoolFiles(cutoff);
    if (cleaned + completed + spoolFiles > 0) this.#log?.info({ cleaned, completed, spoolFiles }, "interrupted uploads recovered");
    return { cleaned, completed, spoolFiles };
  }

  async #removeStaleSpoolFiles(cutoff: string): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.#spoolDir);
    } catch {
      return 0;
    }
    let removed = 0;
    for (const name of names) {
      // A spool and its segments (spool.ts): `upl_….upload`, `upl_….upload.1`, …
      const jobId = /^(upl_[a-z0-9]+)\.upload(?:\.\d+)?$/.exec(name)?.[1];
      const job = jobId ? await this.#jobs.get(jobId) : null;
      if (job && job.state === "running" && job.updatedAt >= cutoff) continue;
      const file = join(this.#spoolDir, name);
      const info = await stat(file).catch(() => null);
      if (!info || info.mtime.toISOString() >= cutoff) continue;
      await rm(file, { force: true });
      removed++;
    }
    return removed;
  }

  startSweeping(intervalMs: number): void {
    if (this.#sweeper) return;
    this.#sweeper = setInterval(() => {
      this.run().catch((err: unknown) => this.#log?.warn({ err }, "upload recovery sweep failed"));
    }, intervalMs);
  }

  stopSweeping(): void {
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.#sweeper = null;
  }
}
