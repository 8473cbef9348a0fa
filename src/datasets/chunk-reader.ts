/**
 * Reading a version's columns back, for the query engine: one column of one chunk as a typed
 * array plus its null bitmap, and a string column's dictionary. See ./FORMAT.md.
 *
 *   const v = await datasets.getVersion(datasetId, n);
 *   for (let k = 0; k < v.chunkCount; k++) {
 *     const fare = await readColumnChunk(blobs, v, "fare_yuan", k);   // Float64Array
 *     for (let i = 0; i < fare.rows; i++) if (!isNull(fare.nulls, i)) sum += fare.values[i];
 *   }
 */
import type { BlobStore } from "../store/port.ts";
import type { ChunkStorage, ColumnType, DatasetVersion } from "./model.ts";
import { BYTES_PER_ELEMENT, bitmapBytes, decodeDictionary, dictionaryKey, nullsKey, rowsInChunk, valuesKey } from "./chunk-format.ts";

export { isNull } from "./chunk-format.ts";

export type ChunkValues = Int32Array | Float64Array | Uint8Array;

export interface ColumnChunk {
  /** Column index in `version.schema.columns`. */
  column: number;
  name: string;
  type: ColumnType;
  storage: ChunkStorage;
  chunk: number;
  /** Index of this chunk's first row in the version. */
  rowStart: number;
  rows: number;
  /**
   * `rows` values: int32 (ints that fit, dates as epoch days, string dictionary codes with -1 for
   * null), float64 (floats, wide ints, timestamps as epoch ms) or uint8 (booleans 0/1).
   * A null row holds 0 (or -1 for string codes); `nulls` is authoritative.
   */
  values: ChunkValues;
  /** Null bitmap (bit i of byte i>>3, LSB first, 1 = null), or null if no row of the chunk is null. */
  nulls: Uint8Array | null;
}

export interface ReadChunkOptions {
  /** Put the values (and bitmap) in SharedArrayBuffers, for sandbox isolates and worker threads. */
  shared?: boolean;
}

type VersionLayout = Pick<DatasetVersion, "schema" | "columns" | "rowCount" | "chunkRows" | "chunkCount" | "blobPrefix">;

export class ChunkMissing extends Error {
  constructor(key: string) {
    super(`dataset blob ${key} is missing or has the wrong size`);
    this.name = "ChunkMissing";
  }
}

function columnIndex(version: VersionLayout, column: string | number): number {
  const i = typeof column === "number" ? column : version.schema.columns.findIndex((c) => c.name === column);
  if (i < 0 || i >= version.schema.columns.length || !Number.isInteger(i))
    throw new RangeError(`no column ${JSON.stringify(column)} in this version`);
  return i;
}

function copyInto(bytes: Uint8Array, shared: boolean): ArrayBufferLike {
  const buf = shared ? new SharedArrayBuffer(bytes.byteLength) : new ArrayBuffer(bytes.byteLength);
  new Uint8Array(buf).set(bytes);
  return buf;
}

function typed(storage: ChunkStorage, bytes: Uint8Array, shared: boolean): ChunkValues {
  const width = BYTES_PER_ELEMENT[storage];
  // A view is enough when the bytes are aligned and not wanted in shared memory; else one copy.
  const aligned = bytes.byteOffset % width === 0;
  const buffer = shared || !aligned ? copyInto(bytes, shared) : bytes.buffer;
  const offset = shared || !aligned ? 0 : bytes.byteOffset;
  const length = bytes.byteLength / width;
  if (storage === "float64") return new Float64Array(buffer, offset, length);
  if (storage === "int32") return new Int32Array(buffer, offset, length);
  return new Uint8Array(buffer, offset, length);
}

/** One column of one chunk. Throws RangeError for an unknown column or chunk. */
export async function readColumnChunk(
  blobs: BlobStore,
  version: VersionLayout,
  column: string | number,
  chunk: number,
  options: ReadChunkOptions = {},
): Promise<ColumnChunk> {
  const c = columnIndex(version, column);
  if (!Number.isInteger(chunk) || chunk < 0 || chunk >= version.chunkCount) throw new RangeError(`no chunk ${chunk} in this version`);
  const layout = version.columns[c]!;
  const rows = rowsInChunk(version.rowCount, version.chunkRows, chunk);
  const vKey = valuesKey(version.blobPrefix, c, chunk);
  const hasNulls = layout.nullChunks.includes(chunk);
  const nKey = nullsKey(version.blobPrefix, c, chunk);
  const [valueBytes, nullBytes] = await Promise.all([blobs.get(vKey), hasNulls ? blobs.get(nKey) : Promise.resolve(null)]);
  if (valueBytes === null || valueBytes.byteLength !== rows * BYTES_PER_ELEMENT[layout.storage]) throw new ChunkMissing(vKey);
  if (hasNulls && (nullBytes === null || nullBytes.byteLength !== bitmapBytes(rows))) throw new ChunkMissing(nKey);
  const shared = options.shared === true;
  return {
    column: c,
    name: version.schema.columns[c]!.name,
    type: version.schema.columns[c]!.type,
    storage: layout.storage,
    chunk,
    rowStart: chunk * version.chunkRows,
    rows,
    values: typed(layout.storage, valueBytes, shared),
    nulls: nullBytes === null ? null : shared ? new Uint8Array(copyInto(nullBytes, true)) : nullBytes,
  };
}

/** A string column's dictionary: entry i is the text of code i. */
export async function readDictionary(blobs: BlobStore, version: VersionLayout, column: string | number): Promise<string[]> {
  const c = columnIndex(version, column);
  if (version.schema.columns[c]!.type !== "string") throw new RangeError(`column ${JSON.stringify(column)} is not a string column`);
  const key = dictionaryKey(version.blobPrefix, c);
  const blob = await blobs.get(key);
  if (blob === null) throw new ChunkMissing(key);
  const entries = decodeDictionary(blob);
  if (entries.length !== version.columns[c]!.dictionarySize) throw new ChunkMissing(key);
  return entries;
}

/** Every chunk of one column, in order. */
export async function* readColumn(
  blobs: BlobStore,
  version: VersionLayout,
  column: string | number,
  options: ReadChunkOptions = {},
): AsyncGenerator<ColumnChunk> {
  for (let k = 0; k < version.chunkCount; k++) yield await readColumnChunk(blobs, version, column, k, options);
}
