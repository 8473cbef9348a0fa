/**
 * What the native path (native-path.ts) needs before DuckDB reads a file: each column's type and
 * storage. CSV: the header and the first rows of the spool are fed to a real Converter, so the
 * sample is typed by the JS path's own code; every later cell is then checked in SQL against
 * that type (a cell that needs a wider one declines). Parquet: the file's own types.
 * Throws NativeDeclined for whatever only the JS path handles exactly: a header or sample it
 * would refuse, a column empty throughout the sample, a single-column CSV (blank lines are rows
 * there), Parquet types without a plain SQL equivalent, declarations that differ from Parquet's.
 */
import { open } from "node:fs/promises";
import type { ColumnType } from "../model.ts";
import { ChunkWriter } from "./chunk-writer.ts";
import { Converter } from "./converter.ts";
import { csvCore } from "./csv-source.ts";
import { NativeDeclined, type NativeColumn } from "./native-path.ts";
import type { ParquetLayout } from "./parquet-source.ts";
import type { BlobStore } from "../../store/port.ts";

/** Bytes of the file's head read for the sample (the sample is at most one chunk of rows). */
const HEAD_BYTES = 16 * 1024 * 1024;
const PLAN_SLICE_BYTES = 256 * 1024;

/** Never written to: the sampling converter stops before it would write a chunk. */
const NO_BLOBS = {} as BlobStore;

export async function csvPlan(
  path: string,
  delimiter: string,
  declared: ReadonlyMap<string, ColumnType>,
  chunkRows: number,
): Promise<NativeColumn[]> {
  const file = await open(path);
  let head: Buffer;
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await file.read(buf, 0, HEAD_BYTES, 0);
    head = buf.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) head = head.subarray(3);
  const conv = new Converter({ writer: new ChunkWriter(NO_BLOBS), blobPrefix: "", chunkRows, declared });
  const core = csvCore(delimiter);
  let header = true;
  const full = (): boolean => !header && conv.rows >= conv.sampleRows - 1;
  try {
    // In slices, stopping once the sample is full: parsing the rest of the head costs ~3x more.
    for (let at = 0; at < head.length && !full(); at += PLAN_SLICE_BYTES) {
      const err = core.parse(
        head.subarray(at, at + PLAN_SLICE_BYTES),
        false,
        (record) => {
          const line = core.info.lines;
          if (header) {
            header = false;
            conv.setColumns(record, line);
          } else if (!full()) {
            conv.textRow(record, line);
          }
        },
        () => {},
      );
      if (err) throw err;
    }
  } catch {
    throw new NativeDeclined("the JS path refuses the header or a sampled row");
  }
  if (header || conv.rows === 0) throw new NativeDeclined("no sampled row");
  const cols = conv.sampledColumns();
  if (cols.length < 2) throw new NativeDeclined("a single-column CSV");
  return cols.map((c, i) => {
    if (c.type === null || c.storage === null) throw new NativeDeclined(`column ${i} is empty in the sample`);
    return { name: c.name, type: c.type, storage: c.storage, lenient: c.declared };
  });
}

export function parquetPlan(layout: ParquetLayout, declared: ReadonlyMap<string, ColumnType>, chunkRows: number): NativeColumn[] {
  for (const [name, type] of declared) if (layout.types.get(name) !== type) throw new NativeDeclined("a declared type differs from the Parquet type");
  const lower = new Set(layout.names.map((n) => n.toLowerCase()));
  if (lower.size !== layout.names.length) throw new NativeDeclined("column names that differ only in case");
  try {
    new Converter({ writer: new ChunkWriter(NO_BLOBS), blobPrefix: "", chunkRows, declared: new Map() }).setColumns(layout.names, null);
  } catch {
    throw new NativeDeclined("the JS path refuses the column names");
  }
  const schema = layout.metadata.schema.slice(1);
  return layout.names.map((name) => {
    const el = schema.find((e) => e.name === name);
    const lt = el?.logical_type?.type;
    const ct = el?.converted_type;
    // Only types whose DuckDB reading gives exactly hyparquet's value.
    const plain =
      el !== undefined &&
      ((el.type === "BYTE_ARRAY" &&
        (lt === "STRING" || ct === "UTF8") &&
        (lt === undefined || lt === "STRING") &&
        (ct === undefined || ct === "UTF8")) ||
        (el.type === "BOOLEAN" && lt === undefined) ||
        ((el.type === "INT32" || el.type === "INT64") &&
          (lt === undefined || lt === "INTEGER" || lt === "DATE") &&
          (ct === undefined || ct === "DATE" || ct === "INT_8" || ct === "INT_16" || ct === "INT_32" || ct === "INT_64")) ||
        (el.type === "INT64" && (lt === undefined || lt === "TIMESTAMP") && (ct === "TIMESTAMP_MILLIS" || ct === "TIMESTAMP_MICROS")) ||
        ((el.type === "FLOAT" || el.type === "DOUBLE") && lt === undefined));
    if (!plain) throw new NativeDeclined("a Parquet type without a plain SQL equivalent");
    const type = layout.types.get(name)!;
    const storage = type === "int" ? "int32" : type === "float" || type === "timestamp" ? "float64" : type === "boolean" ? "uint8" : "int32";
    return { name, type, storage, lenient: true };
  });
}
