/**
 * One upload from bytes to chunks: sniff the format, convert (CSV and NDJSON while the bytes
 * arrive; Parquet once they are all spooled), and if a cell needed a wider type than was
 * already written, delete those chunks and convert again from the spool with final types.
 * Memory is bounded by buffers, one chunk per column and the string dictionaries, never by the
 * file size. On failure, waits until no write is in flight (the caller deletes the prefix).
 */
import { createReadStream } from "node:fs";
import { rm } from "node:fs/promises";
import type { BlobStore } from "../../store/port.ts";
import type { ColumnChunks, ColumnType, DatasetSchema, SourceFormat } from "../model.ts";
import { UploadRejected } from "../errors.ts";
import { ChunkWriter } from "./chunk-writer.ts";
import { Converter, type ConvertOutcome, type FixedColumn } from "./converter.ts";
import { readCsv } from "./csv-source.ts";
import { readNdjson } from "./ndjson-source.ts";
import { inspectParquet, readParquet } from "./parquet-source.ts";
import type { UploadProgress } from "./progress.ts";
import { detectFormat, SNIFF_BYTES } from "./sniff.ts";
import { textChunks } from "./text-chunks.ts";
import { UploadReader } from "./upload-reader.ts";

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
}

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
}

const SPOOL_READ_BYTES = 256 * 1024;

export async function runIngest(req: IngestRequest, env: IngestEnv): Promise<IngestResult> {
  const { blobs, blobPrefix, spoolPath, progress } = env;
  const reader = new UploadReader(req.source, { maxBytes: env.maxBytes, spoolPath });
  const writer = new ChunkWriter(blobs);
  const converter = (fixed: FixedColumn[] | null, declared: ReadonlyMap<string, ColumnType>): Converter =>
    new Converter({ writer, blobPrefix, chunkRows: env.chunkRows, declared, fixed });
  try {
    const head = await reader.head(SNIFF_BYTES);
    if (head.length === 0) throw new UploadRejected("empty_file", "the file is empty");
    const format = detectFormat(head, req.format, req.filename);
    progress.report({ format, phase: "receiving" }, true);

    let outcome: ConvertOutcome;
    let secondPass = false;
    if (format === "parquet") {
      await reader.drain(() => progress.report({ bytesDone: reader.bytesRead }));
      await reader.close();
      const layout = await inspectParquet(spoolPath);
      // Parquet's own types count as declared; the owner's declarations override them.
      const declared = new Map([...layout.types, ...req.declared]);
      const pass = async (fixed: FixedColumn[] | null): Promise<ConvertOutcome> => {
        const conv = converter(fixed, declared);
        await readParquet(spoolPath, layout, conv, () => progress.report({ rowsDone: conv.rows }));
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
      progress.report({ phase: "converting" }, true);
      let bytes = 0;
      const onBuffer = (n: number): void => {
        bytes += n;
        progress.report({ rowsDone: conv.rows, bytesDone: bytes });
      };
      const chunks = textChunks(reader.chunks(), true);
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
        const spooled = textChunks(createReadStream(spoolPath, { highWaterMark: SPOOL_READ_BYTES }), false);
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
    };
  } catch (e) {
    await writer.quiesce();
    throw e;
  } finally {
    await reader.close().catch(() => undefined);
    await rm(spoolPath, { force: true }).catch(() => undefined);
  }
}

/** Drops what the first pass wrote before the second pass writes the same keys again. */
async function restart(writer: ChunkWriter, blobs: BlobStore, prefix: string, progress: UploadProgress): Promise<void> {
  await writer.settle();
  await blobs.deletePrefix(prefix);
  progress.report({ phase: "reconverting", rowsDone: 0, bytesDone: 0 }, true);
}
