/**
 * One column on the native path: DuckDB's result vectors (numbers already in the chunk's
 * storage type, strings as string_t's) are copied into the current chunk with the null bitmap,
 * the statistics and (strings) the dictionary built exactly as column-builder.ts builds them:
 * sums in row order (so the mean is bit-identical), codes in order of first appearance.
 * The per-value JS work is one typed-array pass (statistics, or a string's table lookup).
 */
import bindings from "@duckdb/node-bindings";
import type { ChunkStorage, ColumnChunks, ColumnStats, ColumnType } from "../model.ts";
import { bitmapBytes, BYTES_PER_ELEMENT } from "../chunk-format.ts";
import { StringCodes } from "./string-codes.ts";

type Values = Int32Array | Float64Array | Uint8Array;

/**
 * Chunk arrays kept for reuse per column once written. Every chunk array is external memory to
 * V8, and allocating one per chunk made major GCs run every ~100 ms during an upload (their
 * cost grows with the server's heap); a few spares cover the writes in flight.
 */
const SPARES = 4;

export class VectorColumn {
  readonly name: string;
  readonly type: ColumnType;
  readonly storage: ChunkStorage;
  readonly #chunkRows: number;
  #values: Values;
  readonly #spares: Values[] = [];
  #nulls: Uint8Array;
  #chunkNulls = 0;
  readonly codes: StringCodes | null;
  count = 0;
  nullCount = 0;
  min = Infinity;
  max = -Infinity;
  sum = 0;
  readonly nullChunks: number[] = [];

  constructor(name: string, type: ColumnType, storage: ChunkStorage, chunkRows: number, maxDistinct: number) {
    this.name = name;
    this.type = type;
    this.storage = storage;
    this.#chunkRows = chunkRows;
    this.#values = this.#allocate();
    this.#nulls = new Uint8Array(bitmapBytes(chunkRows));
    this.codes = type === "string" ? new StringCodes(maxDistinct) : null;
  }

  #allocate(): Values {
    const spare = this.#spares.pop();
    if (spare) return spare; // every row of a chunk is written before it is taken
    const n = this.#chunkRows;
    return this.storage === "float64" ? new Float64Array(n) : this.storage === "uint8" ? new Uint8Array(n) : new Int32Array(n);
  }

  /** Copies rows [from, from+n) of a result vector of `size` rows to chunk rows [at, at+n). */
  put(vector: bindings.Vector, size: number, from: number, n: number, at: number): void {
    const width = this.codes ? 16 : BYTES_PER_ELEMENT[this.storage];
    let data = bindings.vector_get_data(vector, size * width).subarray(from * width, (from + n) * width);
    // DuckDB's buffers are aligned; copy if one ever is not (typed views need alignment).
    if (data.byteOffset % (this.codes ? 4 : width) !== 0) data = data.slice();
    const validity = bindings.vector_get_validity(vector, Math.ceil(size / 64) * 8) as Uint8Array | null;
    const isValid = (i: number): boolean => validity === null || (validity[(from + i) >>> 3]! & (1 << ((from + i) & 7))) !== 0;
    if (this.codes) {
      const values = this.#values as Int32Array;
      this.codes.encode(data, n, validity, from, values, at);
      let nulls = 0;
      if (validity !== null) for (let i = 0; i < n; i++) if (!isValid(i)) nulls += this.#setNull(at + i);
      this.count += n - nulls;
      return;
    }
    const values = this.#values;
    const src = new (values.constructor as Int32ArrayConstructor)(data.buffer, data.byteOffset, n);
    values.set(src, at);
    let nulls = 0;
    if (validity !== null) {
      for (let i = 0; i < n; i++) {
        if (!isValid(i)) {
          values[at + i] = 0; // DuckDB leaves whatever was there under a null
          nulls += this.#setNull(at + i);
        }
      }
    }
    let min = this.min;
    let max = this.max;
    let sum = this.sum;
    if (nulls === 0) {
      for (let i = at, end = at + n; i < end; i++) {
        const v = values[i]!;
        sum += v;
        if (v < min) min = v;
        if (v > max) max = v;
      }
    } else {
      const bits = this.#nulls;
      for (let i = at, end = at + n; i < end; i++) {
        if ((bits[i >>> 3]! & (1 << (i & 7))) !== 0) continue;
        const v = values[i]!;
        sum += v;
        if (v < min) min = v;
        if (v > max) max = v;
      }
    }
    this.min = min;
    this.max = max;
    this.sum = sum;
    this.count += n - nulls;
  }

  #setNull(r: number): number {
    this.#nulls[r >>> 3]! |= 1 << (r & 7);
    this.#chunkNulls++;
    this.nullCount++;
    return 1;
  }

  /**
   * The finished chunk (its first `rows` rows): values bytes, and the bitmap if a row is null;
   * `reuse` hands the values' array back once they are written.
   */
  takeChunk(chunk: number, rows: number): { values: Uint8Array; nulls: Uint8Array | null; reuse: () => void } {
    const v = this.#values;
    const values = new Uint8Array(v.buffer, v.byteOffset, rows * v.BYTES_PER_ELEMENT);
    const nulls = this.#chunkNulls > 0 ? this.#nulls.subarray(0, bitmapBytes(rows)) : null;
    this.#values = this.#allocate();
    if (nulls !== null) {
      this.#nulls = new Uint8Array(this.#nulls.length);
      this.nullChunks.push(chunk);
    }
    this.#chunkNulls = 0;
    const reuse = (): void => {
      if (this.#spares.length < SPARES) this.#spares.push(v);
    };
    return { values, nulls, reuse };
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
      distinct: this.codes ? this.codes.size : t === "boolean" ? (this.count === 0 ? 0 : this.min === this.max ? 1 : 2) : null,
    };
  }

  chunksInfo(): ColumnChunks {
    return { storage: this.storage, nullChunks: [...this.nullChunks], dictionarySize: this.codes ? this.codes.size : null, stats: this.stats() };
  }
}
