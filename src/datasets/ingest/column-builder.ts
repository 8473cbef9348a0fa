/**
 * One column while a file is converted: its type (declared, or inferred so far), the current
 * chunk's values and null bitmap, its dictionary (strings) and its statistics. The converter
 * (converter.ts) drives it row by row and hands finished chunks to the chunk writer.
 */
import type { ChunkStorage, ColumnChunks, ColumnStats, ColumnType } from "../model.ts";
import { bitmapBytes, storageFor } from "../chunk-format.ts";
import { INT32_MAX, INT32_MIN, textToNumber, valueToNumber, valueToText } from "./values.ts";

export type ChunkValues = Int32Array | Float64Array | Uint8Array;

/** Thrown by a put when a dictionary outgrows its limit (the converter adds the position). */
export class DictionaryFull extends Error {}

export class ColumnBuilder {
  readonly name: string;
  readonly index: number;
  /** The owner (or the Parquet schema) said what this column is: values must fit it. */
  readonly declared: boolean;
  /**
   * Take every text a declared column could mean (booleans as 1/0, numbers into string
   * columns): declared columns, and every column in a second pass whose types are final.
   */
  readonly lenient: boolean;
  /** Declared, or the join of every value inferred so far; null while every value was null. */
  type: ColumnType | null;
  /** How chunks are stored; fixed once the first chunk with a value is encoded. */
  storage: ChunkStorage | null = null;

  #values: ChunkValues | null = null;
  #nulls: Uint8Array;
  #chunkNulls = 0;
  readonly #chunkRows: number;
  readonly #maxDistinct: number;

  readonly dict = new Map<string, number>();
  dictUtf8Bytes = 0;

  // Statistics of encoded values; min/max also track the range of inferred values (int32 decision).
  count = 0;
  nullCount = 0;
  min = Infinity;
  max = -Infinity;
  sum = 0;

  readonly nullChunks: number[] = [];
  /** Chunks flushed while the type was still unknown (so all null): written once it is known. */
  readonly deferredChunks: Array<{ chunk: number; rows: number }> = [];

  constructor(
    name: string,
    index: number,
    type: ColumnType | null,
    options: { declared: boolean; lenient: boolean; chunkRows: number; maxDistinct: number },
  ) {
    const { chunkRows, maxDistinct } = options;
    this.name = name;
    this.index = index;
    this.declared = options.declared;
    this.lenient = options.lenient;
    this.type = type;
    this.#chunkRows = chunkRows;
    this.#maxDistinct = maxDistinct;
    this.#nulls = new Uint8Array(bitmapBytes(chunkRows));
  }

  /** Whether every int seen so far fits in int32 (true when none was seen). */
  get fitsInt32(): boolean {
    return this.min >= INT32_MIN && this.max <= INT32_MAX;
  }

  /** Fixes the storage (and allocates the chunk buffer) for the current type. */
  fixStorage(storage?: ChunkStorage): void {
    if (this.type === null) return;
    this.storage = storage ?? storageFor(this.type, this.fitsInt32);
    this.#allocate();
  }

  #allocate(): void {
    const n = this.#chunkRows;
    this.#values = this.storage === "float64" ? new Float64Array(n) : this.storage === "uint8" ? new Uint8Array(n) : new Int32Array(n);
    // Null string cells hold code -1 (numbers hold 0); the bitmap is authoritative either way.
    if (this.type === "string") this.#values.fill(-1);
  }

  /** Resets statistics (before a second pass re-encodes everything). */
  resetStats(): void {
    this.count = 0;
    this.nullCount = 0;
    this.min = Infinity;
    this.max = -Infinity;
    this.sum = 0;
  }

  /** Records that `v` (a number of this column's type) was seen, for inference-only passes. */
  observeNumber(v: number): void {
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  setNull(i: number): void {
    this.#nulls[i >>> 3]! |= 1 << (i & 7);
    this.#chunkNulls++;
    this.nullCount++;
  }

  /**
   * Encodes a CSV cell at chunk row i. Returns false if the text does not fit the column's type
   * or storage (an int beyond int32 in an int32 column): the converter decides what that means.
   */
  putText(i: number, s: string): boolean {
    if (this.type === "string") {
      (this.#values as Int32Array)[i] = this.#code(s);
      this.count++;
      return true;
    }
    const v = textToNumber(this.type!, s, this.lenient);
    return this.#putNumber(i, v);
  }

  /** Encodes a JSON/Parquet value (not null) at chunk row i; false if it does not fit. */
  putValue(i: number, v: unknown): boolean {
    if (this.type === "string") {
      if (!this.lenient && typeof v !== "string") return false;
      (this.#values as Int32Array)[i] = this.#code(valueToText(v));
      this.count++;
      return true;
    }
    return this.#putNumber(i, valueToNumber(this.type!, v, this.lenient));
  }

  #putNumber(i: number, v: number): boolean {
    if (v !== v) return false; // NaN
    const values = this.#values!;
    if (this.storage === "int32" && this.type === "int" && (v < INT32_MIN || v > INT32_MAX)) return false;
    values[i] = v;
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    return true;
  }

  #code(s: string): number {
    let code = this.dict.get(s);
    if (code === undefined) {
      code = this.dict.size;
      if (code >= this.#maxDistinct) throw new DictionaryFull();
      this.dict.set(s, code);
      this.dictUtf8Bytes += Buffer.byteLength(s, "utf8");
    }
    return code;
  }

  /**
   * Hands over the current chunk (the first `rows` rows) and starts a fresh one. Returns null
   * values when the type is still unknown (every row was null).
   */
  takeChunk(rows: number): { values: Uint8Array | null; nulls: Uint8Array | null } {
    const nulls = this.#chunkNulls > 0 ? this.#nulls.subarray(0, bitmapBytes(rows)) : null;
    let values: Uint8Array | null = null;
    if (this.#values !== null) {
      const v = this.#values;
      values = new Uint8Array(v.buffer, v.byteOffset, rows * v.BYTES_PER_ELEMENT);
      this.#allocate();
    }
    if (nulls !== null) this.#nulls = new Uint8Array(this.#nulls.length);
    this.#chunkNulls = 0;
    return { values, nulls };
  }

  /** The bytes of an all-null chunk of `rows` rows in this column's storage. */
  allNullChunk(rows: number): { values: Uint8Array; nulls: Uint8Array } {
    const storage = this.storage!;
    const width = storage === "float64" ? 8 : storage === "uint8" ? 1 : 4;
    const values = new Uint8Array(rows * width);
    if (this.type === "string") new Int32Array(values.buffer).fill(-1);
    const nulls = new Uint8Array(bitmapBytes(rows)).fill(0xff);
    if (rows % 8 !== 0) nulls[nulls.length - 1] = (1 << (rows % 8)) - 1;
    return { values, nulls };
  }

  stats(): ColumnStats {
    const t = this.type;
    const numeric = t !== "string" && this.count > 0;
    return {
      count: this.count,
      nullCount: this.nullCount,
      min: numeric ? this.min : null,
      max: numeric ? this.max : null,
      mean: numeric ? this.sum / this.count : null,
      distinct: t === "string" ? this.dict.size : t === "boolean" ? (this.count === 0 ? 0 : this.min === this.max ? 1 : 2) : null,
    };
  }

  chunksInfo(): ColumnChunks {
    return {
      storage: this.storage!,
      nullChunks: [...this.nullChunks].sort((a, b) => a - b),
      dictionarySize: this.type === "string" ? this.dict.size : null,
      stats: this.stats(),
    };
  }
}
