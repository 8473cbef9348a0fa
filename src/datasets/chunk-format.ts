/**
 * The columnar chunk layout (format 1), shared by the writer (ingest/) and the reader
 * (chunk-reader.ts). Described for readers in ./FORMAT.md; change both together.
 */
import { endianness } from "node:os";
import type { ChunkStorage, ColumnType } from "./model.ts";

export const CHUNK_FORMAT = 1 as const;
/** Rows per chunk (row group): 64 Ki. The last chunk of a version may be shorter. */
export const CHUNK_ROWS = 65_536;

// Typed arrays are written as raw host-order bytes; the format is little-endian.
if (endianness() !== "LE") throw new Error("dataset chunks are little-endian; this host is big-endian");

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

/** Blob key prefix of one upload's chunks; a version keeps the prefix of the upload that made it. */
export function uploadBlobPrefix(datasetId: string, uploadId: string): string {
  return `datasets/${datasetId}/${uploadId}/`;
}

/** Values of column `column` (schema index) in chunk `chunk`. */
export function valuesKey(prefix: string, column: number, chunk: number): string {
  return `${prefix}c${pad(column, 4)}-r${pad(chunk, 6)}.values`;
}

/** Null bitmap of column `column` in chunk `chunk` (present only for chunks with a null). */
export function nullsKey(prefix: string, column: number, chunk: number): string {
  return `${prefix}c${pad(column, 4)}-r${pad(chunk, 6)}.nulls`;
}

/** Dictionary of string column `column`. */
export function dictionaryKey(prefix: string, column: number): string {
  return `${prefix}c${pad(column, 4)}.dict`;
}

/** How each column type is stored. Ints are int32 when every value fits, else float64. */
export function storageFor(type: ColumnType, intFitsInt32: boolean): ChunkStorage {
  switch (type) {
    case "int":
      return intFitsInt32 ? "int32" : "float64";
    case "float":
    case "timestamp":
      return "float64";
    case "boolean":
      return "uint8";
    case "date":
    case "string":
      return "int32";
  }
}

export const BYTES_PER_ELEMENT: Record<ChunkStorage, number> = { int32: 4, float64: 8, uint8: 1 };

/** Rows in chunk `chunk` of a version with `rowCount` rows. */
export function rowsInChunk(rowCount: number, chunkRows: number, chunk: number): number {
  return Math.max(0, Math.min(chunkRows, rowCount - chunk * chunkRows));
}

/** Bytes of a null bitmap for `rows` rows: bit i (LSB first) of byte i>>3 is 1 when row i is null. */
export function bitmapBytes(rows: number): number {
  return (rows + 7) >>> 3;
}

/** Whether row `i` is null in a chunk's bitmap (null bitmap means the chunk has no nulls). */
export function isNull(nulls: Uint8Array | null, i: number): boolean {
  return nulls !== null && (nulls[i >>> 3]! & (1 << (i & 7))) !== 0;
}

/** A stored date (days since 1970-01-01) as YYYY-MM-DD. */
export function dateText(epochDays: number): string {
  return new Date(epochDays * 86_400_000).toISOString().slice(0, 10);
}

/**
 * Dictionary blob: u32 count, u32 byte offsets[count + 1], then the UTF-8 bytes of every entry
 * back to back; entry i is bytes [offsets[i], offsets[i+1]). Code i in the values is entry i.
 */
export function encodeDictionary(entries: Iterable<string>, count: number, utf8Bytes: number): Uint8Array {
  const headerBytes = 4 * (count + 2);
  const out = new Uint8Array(headerBytes + utf8Bytes);
  const view = new DataView(out.buffer);
  view.setUint32(0, count, true);
  const encoder = new TextEncoder();
  let at = headerBytes;
  let i = 0;
  for (const entry of entries) {
    view.setUint32(4 + 4 * i, at - headerBytes, true);
    at += encoder.encodeInto(entry, out.subarray(at)).written;
    i++;
  }
  if (i !== count || at !== out.length) throw new Error("dictionary size mismatch");
  view.setUint32(4 + 4 * count, at - headerBytes, true);
  return out;
}

export function decodeDictionary(blob: Uint8Array): string[] {
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const count = view.getUint32(0, true);
  const headerBytes = 4 * (count + 2);
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const out = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    const start = view.getUint32(4 + 4 * i, true);
    const end = view.getUint32(8 + 4 * i, true);
    out[i] = decoder.decode(blob.subarray(headerBytes + start, headerBytes + end));
  }
  return out;
}
