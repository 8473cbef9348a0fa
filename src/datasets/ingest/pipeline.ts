/**
 * One upload from bytes to chunks: sniff the format, then
 *   CSV           spool the file in segments cut at record ends (spool.ts, csv-records.ts;
 *                 UTF-8 checked, bytes and rows reported as they arrive) while the native path
 *                 (native-path.ts: DuckDB reads, types and codes each segment) stores the
 *                 segments already received;
 *   Parquet       spool the whole file, then the native path over it;
 *                 if the native path declines (logged with its reason), or the file is small,
 *                 the JS path below over the spool;
 *   JS path       convert row by row (NDJSON while the bytes arrive), and if a cell needed a
 *                 wider type than was already written, delete those chunks and convert again
 *                 from the spool with final types.
 * Memory is bounded by buffers, one chunk per column and the string dictionaries, never by the
 * file size. On failure, waits until no write is in flight (the caller deletes the prefix).
 */
import type { BlobStore } from "../../store/port.ts";
import type { Logger } from "../../logger.ts";
import type { ColumnChunks, ColumnType, DatasetSchema, SourceFormat } from "../model.ts";
import { UploadRejected } from "../errors.ts";
import { ChunkWriter } from "./chunk-writer.ts";
import { Converter, MAX_DISTINCT, type ConvertOutcome, type FixedColumn } from "./converter.ts";
import { CsvRecords } from "./csv-records.ts";
import { MAX_RECORD_CHARS, readCsv } from "./csv-source.ts";
import { readNdjson } from "./ndjson-source.ts";
import { inspectParquet, readParquet, type ParquetLayout } from "./parquet-source.ts";
import type { UploadProgress } from "./progress.ts";
import { detectFormat, SNIFF_BYTES } from "./sniff.ts";
import { Spool } from "./spool.ts";
import { textChunks } from "./text-chunks.ts";
import { UploadReader } from "./upload-reader.ts";
import { Utf8Checker } from "./utf8.ts";

export interface IngestRequest {
  source: AsyncIterable<Uint8Array>;
  /** The owner's word; sniffed from the bytes (and file name) when null. */
  format: SourceFormat | null;
  /** CSV field delimiter (one character). */
  delimiter: string;
  /** Owner-declared column types by name; other columns are inferred. */
  declared: ReadonlyMap<string, ColumnType>;
  filename: string | null;
}

export interface IngestEnv {
  blobs: BlobStore;
  blobPrefix: string;
  spoolPath: string;
  maxBytes: number;
  chunkRows: number;
  progress: UploadProgress;
  /**
   * The native path for CSV and Parquet files of at least this many bytes (default 1 MiB;
   * smaller files are converted by the JS path alone); null turns it off.
   */
  nativeMinBytes?: number | null;
  /** A CSV spool's segment size for the native path (default 32 MiB; tests make it small). */
  segmentBytes?: number;
  log?: Logger;
}

/** Which path stored a version, and why the native one did not (for logs and the bench). */
export type IngestPath = "native" | "js";

export interface IngestResult {
  format: SourceFormat;
  schema: DatasetSchema;
  columns: ColumnChunks[];
  rowCount: number;
  chunkCount: number;
  chunkRows: number;
  sourceBytes: number;
  sourceSha256: string;
  /** Whether the file was converted twice (a type widened after chunks were written). */
  secondPass: boolean;
  path: IngestPath;
  /** Why the native path declined (no value from the file), or null. */
  declined: string | null;
  /** Segments the spool was cut into (1 unless a CSV was read while it arrived). */
  segments: number;
}

const DEFAULT_NATIVE_MIN_BYTES = 1024 * 1024;

const SPOOL_READ_BYTES = 256 * 1024;

/**
 * A CSV spool is cut into segments of at least this many bytes: DuckDB reads each on its own
 * while the next arrives; big enough that a segment's own start-up cost is small.
 */
const SEGMENT_BYTES = 32 * 1024 * 1024;

export async function runIngest(req: IngestRequest, env: IngestEnv): Promise<IngestResult> {
  const { blobs, blobPrefix, spoolPath, progress } = env;
  const spool = new Spool(spoolPath);
  const reader = new UploadReader(req.source, { maxBytes: env.maxBytes, spool });
  const writer = new ChunkWriter(blobs);
  const converter = (fixed: FixedColumn[] | null, declared: ReadonlyMap<string, ColumnType>): Converter =>
    new Converter({ writer, blobPrefix, chunkRows: env.chunkRows, declared, fixed });
  try {
    const head = await reader.head(SNIFF_BYTES);
    if (head.length === 0) throw new UploadRejected("empty_file", "the file is empty");
    const format = detectFormat(head, req.format, req.filename);
    progress.report({ format, phase: "receiving" }, true);

    let outcome: ConvertOutcome | null = null;
    let secondPass = false;
    let path: IngestPath = "js";
    let declined: string | null = null;
    const nativeMin = env.nativeMinBytes === undefined ? DEFAULT_NATIVE_MIN_BYTES : env.nativeMinBytes;
    const spoolFirst = format === "parquet" || (format === "csv" && nativeMin !== null);
    // Readers of files: spool the upload, reporting bytes from the first buffer on, and (CSV)
    // rows as record ends are counted; a CSV's native path starts on the first segment.
    let receiving: Promise<void> | null = null;
    if (spoolFirst) receiving = receive(reader, spool, format, progress, env.segmentBytes ?? SEGMENT_BYTES);
    if (format === "parquet") await receiving;
    const layout = format === "parquet" ? await inspectParquet(spool.paths[0]!) : null;
    if (receiving !== null && nativeMin !== null) {
      const tried = await tryNative(format, layout, req, env, spool, receiving, () => reader.bytesRead >= nativeMin);
      if (tried.kind === "done") {
        outcome = tried.outcome;
        path = "native";
      } else if (tried.kind === "declined") {
        declined = tried.reason;
        env.log?.info({ blobPrefix, reason: declined }, "native ingest declined; converting with the JS path");
      }
    }
    // The whole file is on disk (or the upload's failure is thrown).
    await receiving;
    if (outcome !== null) {
      // stored by the native path
    } else if (layout) {
      // Parquet's own types count as declared; the owner's declarations override them.
      const declared = new Map([...layout.types, ...req.declared]);
      const pass = async (fixed: FixedColumn[] | null): Promise<ConvertOutcome> => {
        const conv = converter(fixed, declared);
        await readParquet(spool.paths[0]!, layout, conv, () => progress.report({ rowsDone: conv.rows }));
        if (conv.rows === 0) throw new UploadRejected("no_rows", "the Parquet file has no rows");
        return conv.finish();
      };
      progress.report({ phase: "converting", rowsDone: 0 }, true);
      outcome = await pass(null);
      if (outcome.kind === "restart") {
        await restart(writer, blobs, blobPrefix, progress);
        secondPass = true;
        outcome = await pass(outcome.fixed);
      }
    } else {
      const conv = converter(null, req.declared);
      progress.report({ phase: "converting", ...(spoolFirst ? { rowsDone: 0, bytesDone: 0 } : {}) }, true);
      let bytes = 0;
      const onBuffer = (n: number): void => {
        bytes += n;
        progress.report({ rowsDone: conv.rows, bytesDone: bytes });
      };
      // Streaming from the upload, or from the spool (already UTF-8 checked).
      const chunks = spoolFirst ? textChunks(spool.read(SPOOL_READ_BYTES), false) : textChunks(reader.chunks(), true);
      if (format === "csv") await readCsv(chunks, { delimiter: req.delimiter }, conv, onBuffer);
      else await readNdjson(chunks, conv, onBuffer);
      await reader.close();
      if (conv.rows === 0) throw new UploadRejected("no_rows", format === "csv" ? "the file has a header but no data rows" : "the file has no rows");
      outcome = await conv.finish();
      if (outcome.kind === "restart") {
        await restart(writer, blobs, blobPrefix, progress);
        secondPass = true;
        const again = converter(outcome.fixed, req.declared);
        let reread = 0;
        const onReread = (n: number): void => {
          reread += n;
          progress.report({ rowsDone: again.rows, bytesDone: reread });
        };
        const spooled = textChunks(spool.read(SPOOL_READ_BYTES), false);
        if (format === "csv") await readCsv(spooled, { delimiter: req.delimiter }, again, onReread);
        else await readNdjson(spooled, again, onReread);
        outcome = await again.finish();
      }
    }
    if (outcome.kind !== "done") throw new Error("second conversion pass asked for a third");
    progress.report({ rowsDone: outcome.rowCount, bytesDone: reader.bytesRead, phase: "committing" }, true);
    return {
      format,
      schema: outcome.schema,
      columns: outcome.columns,
      rowCount: outcome.rowCount,
      chunkCount: outcome.chunkCount,
      chunkRows: env.chunkRows,
      sourceBytes: reader.bytesRead,
      sourceSha256: reader.sha256(),
      secondPass,
      path,
      declined,
      segments: Math.max(1, spool.paths.length),
    };
  } catch (e) {
    await writer.quiesce();
    throw e;
  } finally {
    await reader.close().catch(() => undefined);
    await spool.remove();
  }
}

/**
 * Reads the whole upload into the spool (UTF-8 checked for CSV); resolves when it is all on
 * disk. A CSV's spool is cut into segments at record ends, and the rows received so far (records
 * ended, less the header) are reported with the bytes. A failure also fails the spool's readers.
 */
function receive(reader: UploadReader, spool: Spool, format: SourceFormat, progress: UploadProgress, segmentBytes: number): Promise<void> {
  const checker = format === "csv" ? new Utf8Checker() : null;
  const records = format === "csv" ? new CsvRecords() : null;
  let bytes = 0;
  const done = reader
    .drain((buf) => {
      if (checker === null || records === null) {
        progress.report({ bytesDone: reader.bytesRead });
        return -1;
      }
      checker.check(buf);
      const end = records.scan(buf);
      bytes += buf.length;
      let cut = -1;
      if (end >= 0 && bytes >= segmentBytes) {
        cut = end;
        bytes = buf.length - end;
      }
      progress.report({ bytesDone: reader.bytesRead, rowsDone: Math.max(0, records.records - 1) });
      return cut;
    })
    .then(async () => {
      checker?.end();
      await reader.close();
    });
  done.catch((err: unknown) => spool.fail(err));
  return done;
}

/** Drops what the first pass wrote before the second pass writes the same keys again. */
async function restart(writer: ChunkWriter, blobs: BlobStore, prefix: string, progress: UploadProgress): Promise<void> {
  await writer.settle();
  await blobs.deletePrefix(prefix);
  progress.report({ phase: "reconverting", rowsDone: 0, bytesDone: 0 }, true);
}

type NativeTry = { kind: "done"; outcome: ConvertOutcome } | { kind: "declined"; reason: string } | { kind: "skipped" };

/**
 * The native path, with its own writer, over the spool's segments as they arrive. A file that
 * ends up smaller than `large()` asks is left to the JS path. Declined (or DuckDB not installed):
 * what it wrote is deleted and the reason returned, for the JS path to store the file or name
 * what is wrong. While the upload still arrives, progress shows rows received; then rows stored.
 */
async function tryNative(
  format: SourceFormat,
  layout: ParquetLayout | null,
  req: IngestRequest,
  env: IngestEnv,
  spool: Spool,
  receiving: Promise<void>,
  large: () => boolean,
): Promise<NativeTry> {
  const { blobs, blobPrefix, progress, chunkRows } = env;
  // The first segment: cut once it is large, or the whole file.
  const first = await spool.segments().next();
  if (first.done || (spool.ended && !large())) return { kind: "skipped" };
  let native: typeof import("./native.ts");
  try {
    native = await import("./native.ts");
  } catch {
    return { kind: "declined", reason: "DuckDB (@duckdb/node-api) is not installed" };
  }
  const writer = new ChunkWriter(blobs);
  let received = false;
  let active = true;
  let stored = 0;
  receiving.then(
    () => {
      received = true;
      if (active) progress.report({ phase: "converting", rowsDone: stored }, true);
    },
    () => undefined,
  );
  try {
    const columns = layout
      ? native.parquetPlan(layout, req.declared, chunkRows)
      : await native.csvPlan(first.value, req.delimiter, req.declared, chunkRows);
    const outcome = await native.nativeIngest({
      segments: () => spool.segments(),
      source: layout ? { kind: "parquet", names: layout.names } : { kind: "csv", delimiter: req.delimiter, maxLineBytes: MAX_RECORD_CHARS },
      columns,
      writer,
      blobPrefix,
      chunkRows,
      maxDistinct: MAX_DISTINCT,
      onRows: (rows) => {
        stored = rows;
        if (received) progress.report({ rowsDone: rows });
      },
    });
    return { kind: "done", outcome };
  } catch (err) {
    active = false;
    await writer.quiesce();
    if (!(err instanceof native.NativeDeclined)) throw err;
    await blobs.deletePrefix(blobPrefix);
    progress.report({ rowsDone: 0, bytesDone: 0 }, true);
    return { kind: "declined", reason: err.message };
  }
}
