/**
 * The real DatasetsService over test stores, and datasets made by uploading real CSV / NDJSON
 * bytes through its real ingest path: for service-level suites (policies, listings, access)
 * that need datasets without an HTTP server. HTTP suites use startTestExchange instead.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import type { AuditTrail } from "../../src/audit-trail.ts";
import type { DatasetVersion } from "../../src/datasets/model.ts";
import { DatasetsService } from "../../src/datasets/service.ts";
import type { BlobStore, DocumentStore, Stored } from "../../src/store/port.ts";
import { blobStoreFactories, documentStoreFactories, type BlobStoreFactory, type DocumentStoreFactory } from "./stores.ts";

/** A document store and the blob store that goes with it in production. */
export interface StorePair {
  /** "sqlite" (SQLite + files) or "mongodb" (MongoDB + GridFS): the describe title. */
  name: string;
  documents: DocumentStoreFactory;
  blobs: BlobStoreFactory;
}

const BLOBS_FOR: Record<DocumentStoreFactory["kind"], BlobStoreFactory["kind"]> = { sqlite: "files", mongodb: "gridfs" };

/** Every adapter pair this run can reach: SQLite + files always, MongoDB + GridFS with MONGODB_URI. */
export function storePairs(): StorePair[] {
  const blobs = blobStoreFactories();
  return documentStoreFactories().map((documents) => {
    const b = blobs.find((f) => f.kind === BLOBS_FOR[documents.kind]);
    if (!b) throw new Error(`no blob store factory for ${documents.name}`);
    return { name: documents.name, documents, blobs: b };
  });
}

/**
 * Opens a DatasetsService before the enclosing describe's tests (once the stores returned by
 * the getters are open, i.e. register this after useStore) and removes its spool dir after them.
 */
export function useDatasetsService(
  store: () => DocumentStore,
  blobs: () => BlobStore,
  audit: () => AuditTrail,
  options: { chunkRows?: number; uploadMaxBytes?: number } = {},
): () => DatasetsService {
  let service: DatasetsService | undefined;
  let dataDir: string | undefined;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "datasets-test-"));
    service = await DatasetsService.open(store(), blobs(), {
      audit: audit(),
      dataDir,
      uploadMaxBytes: options.uploadMaxBytes ?? 256 * 1024 * 1024,
      ...(options.chunkRows ? { chunkRows: options.chunkRows } : {}),
    });
  });
  afterAll(async () => {
    service = undefined;
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });
  return () => {
    if (!service) throw new Error("DatasetsService is not open (did its beforeAll fail?)");
    return service;
  };
}

/** File contents: one string, or lines / pieces produced lazily (for large files). */
export type UploadData = string | Iterable<string>;

async function* bytesOf(data: UploadData): AsyncGenerator<Uint8Array> {
  if (typeof data === "string") {
    yield Buffer.from(data, "utf8");
    return;
  }
  // Batch small pieces into ~256 KiB writes so a generated file of millions of lines stays fast.
  let batch: string[] = [];
  let size = 0;
  for (const piece of data) {
    batch.push(piece);
    size += piece.length;
    if (size >= 256 * 1024) {
      yield Buffer.from(batch.join(""), "utf8");
      batch = [];
      size = 0;
    }
  }
  if (batch.length > 0) yield Buffer.from(batch.join(""), "utf8");
}

/** Uploads `data` as the next version of the owner's dataset through the real ingest path. */
export async function uploadVersion(
  datasets: DatasetsService,
  ownerId: string,
  datasetId: string,
  data: UploadData,
  format: "csv" | "ndjson" = "csv",
): Promise<Stored<DatasetVersion>> {
  const { version } = await datasets.uploadVersion(ownerId, datasetId, { source: bytesOf(data), format });
  return version;
}

/** Creates a dataset for `ownerId` (a unique name unless given) and uploads `data` as its version 1. */
export async function uploadDataset(
  datasets: DatasetsService,
  ownerId: string,
  data: UploadData,
  options: { format?: "csv" | "ndjson"; name?: string } = {},
): Promise<{ datasetId: string; version: Stored<DatasetVersion> }> {
  const ds = await datasets.createDataset(ownerId, { name: options.name ?? `test dataset ${randomBytes(6).toString("hex")}` });
  return { datasetId: ds._id, version: await uploadVersion(datasets, ownerId, ds._id, data, options.format ?? "csv") };
}

/** uploadDataset for a CSV file. */
export function uploadCsvDataset(
  datasets: DatasetsService,
  ownerId: string,
  csv: UploadData,
  name?: string,
): Promise<{ datasetId: string; version: Stored<DatasetVersion> }> {
  return uploadDataset(datasets, ownerId, csv, { format: "csv", ...(name ? { name } : {}) });
}
