/**
 * The dataset contract shared by ingestion (src/datasets), policies and listings (src/privacy,
 * src/catalog) and, later, the query engine. Rows live as columnar chunks in the blob store;
 * this is the metadata that lives in the document store (every document well under 1 MB:
 * large dictionaries go to the blob store too).
 */

export const COLUMN_TYPES = ["int", "float", "boolean", "date", "timestamp", "string"] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

export interface ColumnSchema {
  name: string;
  type: ColumnType;
  /** Whether any row had no value for this column. */
  nullable: boolean;
}

export interface DatasetSchema {
  columns: ColumnSchema[];
}

/** A dataset: an owner's named collection of versions. `_id` is "ds_…". */
export interface Dataset {
  ownerId: string;
  name: string;
  description: string;
  createdAt: string;
  /** Highest committed version number, 0 before the first upload completes. */
  latestVersion: number;
  /**
   * Version numbers handed out so far (atomic $inc at commit; missing means 0). Normally equal
   * to latestVersion; a crash between numbering and writing a version can leave a gap.
   */
  versionSeq?: number;
}

/** One immutable, fully written upload. `_id` is `${datasetId}@${version}`. */
export interface DatasetVersion {
  datasetId: string;
  ownerId: string;
  version: number;
  schema: DatasetSchema;
  rowCount: number;
  /** Rows per chunk (row group); the last chunk may be shorter. */
  chunkRows: number;
  chunkCount: number;
  /** Blob key prefix of this version's chunks, e.g. "datasets/ds_x/v1/". */
  blobPrefix: string;
  sourceFormat: "csv" | "ndjson" | "parquet";
  sourceBytes: number;
  /** SHA-256 of the uploaded bytes, for the audit log. */
  sourceSha256: string;
  createdAt: string;
  /** Version of the chunk layout described in ./FORMAT.md. */
  chunkFormat: 1;
  /** The upload job that wrote this version ("upl_…"). */
  uploadId: string;
  /** Per column (parallel to schema.columns): storage type, null chunks, dictionary, owner-only stats. */
  columns: ColumnChunks[];
}

// ---------------------------------------------------------------------------------------------
// Ingestion: how a version's rows are laid out in the blob store (see ./FORMAT.md) and the
// upload jobs that produce versions. Added by the ingestion module.
// ---------------------------------------------------------------------------------------------

export const SOURCE_FORMATS = ["csv", "ndjson", "parquet"] as const;
export type SourceFormat = (typeof SOURCE_FORMATS)[number];

/** Element type of a column's values blobs. */
export type ChunkStorage = "int32" | "float64" | "uint8";

/**
 * Exact statistics of one column of one version. OWNER ONLY: real minima, maxima and counts
 * are never shown to anyone else (buyers see declared bounds and rounded counts instead).
 * Dates are epoch days, timestamps epoch milliseconds, booleans 0/1.
 */
export interface ColumnStats {
  /** Rows with a value. */
  count: number;
  nullCount: number;
  /** Numeric, boolean, date and timestamp columns; null for strings or when every row is null. */
  min: number | null;
  max: number | null;
  mean: number | null;
  /** Distinct values: the dictionary size for strings, ≤ 2 for booleans; null for other types. */
  distinct: number | null;
}

/** Where one column's chunks are and how to read them; parallel to `schema.columns`. */
export interface ColumnChunks {
  storage: ChunkStorage;
  /** Chunk indexes that have a null bitmap blob (chunks with at least one null), ascending. */
  nullChunks: number[];
  /** Entries in the dictionary blob (string columns), else null. */
  dictionarySize: number | null;
  stats: ColumnStats;
}

export const UPLOAD_STATES = ["running", "succeeded", "failed"] as const;
export type UploadState = (typeof UPLOAD_STATES)[number];

/** What the pipeline is doing: receiving and converting, re-reading the spooled file, committing. */
export type UploadPhase = "receiving" | "converting" | "reconverting" | "committing" | "done";

/** Why an upload was rejected: machine-readable rule plus where. Never a value from the file. */
export interface UploadErrorInfo {
  rule: string;
  message: string;
  /** Physical line in the file (1-based; the header is line 1), when known. */
  line: number | null;
  /** Data row (1-based, header excluded), when known. */
  row: number | null;
  column: string | null;
}

/** One upload: a job the owner can poll while it runs. `_id` is "upl_…". */
export interface UploadJob {
  datasetId: string;
  ownerId: string;
  state: UploadState;
  phase: UploadPhase;
  format: SourceFormat | null;
  /** Bytes of the upload read so far (in the second pass, bytes re-read). */
  bytesDone: number;
  /** Declared size (Content-Length or file size) when known. */
  bytesTotal: number | null;
  /** Data rows converted so far. */
  rowsDone: number;
  /** Blob key prefix the job writes under; deleted if the job fails or its process dies. */
  blobPrefix: string;
  /** The version this job created, once it succeeded. */
  version: number | null;
  /** Conversion passes over the file (2 when a type widened after chunks were written); set on success. */
  passes?: number;
  /** Which ingest path stored the file: "native" (DuckDB) or "js"; set on success. */
  ingestPath?: "native" | "js";
  error: UploadErrorInfo | null;
  startedAt: string;
  /** Heartbeat: refreshed every few seconds while the job runs. */
  updatedAt: string;
  finishedAt: string | null;
}

export const COLLECTIONS = {
  datasets: {
    name: "datasets",
    indexes: [{ fields: ["ownerId", "name"], unique: true }, { fields: ["ownerId", "createdAt"] }],
  },
  versions: {
    name: "dataset_versions",
    indexes: [{ fields: ["datasetId", "version"], unique: true }, { fields: ["uploadId"] }],
  },
  uploads: {
    name: "dataset_uploads",
    indexes: [{ fields: ["datasetId", "startedAt"] }, { fields: ["state", "updatedAt"] }],
  },
} as const satisfies Record<string, { name: string; indexes: Array<{ fields: string[]; unique?: boolean }> }>;
