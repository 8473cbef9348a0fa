/**
 * Loads the columns a kernel reads: every chunk of a dataset version's column, joined into one
 * typed array with one null bitmap (chunks hold 65 536 rows, a multiple of 8, so bitmaps join
 * byte-aligned), plus the dictionary of string columns. Kept in a small LRU by bytes, because
 * the same version is queried again and again.
 */
import type { DatasetVersion } from "../datasets/model.ts";
import type { DatasetsService } from "../datasets/service.ts";
import type { ColumnValues, ColumnView } from "./kernel-abi.ts";

export class ColumnLoader {
  private readonly cache = new Map<string, { view: ColumnView; bytes: number }>();
  private cachedBytes = 0;
  private readonly datasets: DatasetsService;
  private readonly maxBytes: number;

  constructor(datasets: DatasetsService, maxBytes = 512 * 1024 * 1024) {
    this.datasets = datasets;
    this.maxBytes = maxBytes;
  }

  async load(version: DatasetVersion & { _id: string }, names: string[]): Promise<Record<string, ColumnView>> {
    const out: Record<string, ColumnView> = {};
    for (const name of names) out[name] = await this.column(version, name);
    return out;
  }

  private async column(version: DatasetVersion & { _id: string }, name: string): Promise<ColumnView> {
    const key = `${version._id}\u0000${name}`;
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key); // refresh its place in the LRU order
      this.cache.set(key, hit);
      return hit.view;
    }
    const index = version.schema.columns.findIndex((c) => c.name === name);
    if (index < 0) throw new Error(`column ${JSON.stringify(name)} is not in version ${version._id}`);
    const rows = version.rowCount;
    let values: ColumnValues | null = null;
    let nulls: Uint8Array | null = null;
    for (let chunk = 0; chunk < version.chunkCount; chunk++) {
      const part = await this.datasets.readColumnChunk(version, index, chunk);
      const offset = chunk * version.chunkRows;
      if (!values) values = new (part.values.constructor as new (n: number) => ColumnValues)(rows);
      values.set(part.values as never, offset);
      if (part.nulls) {
        nulls ??= new Uint8Array(Math.ceil(rows / 8));
        nulls.set(part.nulls.subarray(0, Math.ceil(part.values.length / 8)), offset / 8);
      }
    }
    values ??= new Float64Array(0);
    const dictionary = version.schema.columns[index]!.type === "string" ? await this.datasets.readDictionary(version, index) : null;
    const view: ColumnView = { values, nulls, dictionary };
    const bytes = values.byteLength + (nulls?.byteLength ?? 0);
    this.cache.set(key, { view, bytes });
    this.cachedBytes += bytes;
    for (const [k, v] of this.cache) {
      if (this.cachedBytes <= this.maxBytes || k === key) break;
      this.cache.delete(k);
      this.cachedBytes -= v.bytes;
    }
    return view;
  }
}
