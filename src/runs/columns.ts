/**
 * Loads the columns a kernel reads: every chunk of a dataset version's column, joined into one
 * typed array with one null bitmap (chunks hold 65 536 rows, a multiple of 8, so bitmaps join
 * byte-aligned), plus the dictionary of string columns. Kept in a small LRU by bytes, because
 * the same version is queried again and again.
 *
 * Clustered columns (what the compiled kernels read, compile.ts): the rows reordered by privacy
 * unit — partition of the unit first (the kernels' `u % P` rule), then the unit, then file order
 * (a stable counting sort) — so each unit's rows are contiguous and each partition is one row
 * range that one isolate scans alone. Rows whose unit is null (or NaN, which ingestion never
 * stores) never count and are left out. The order is computed once per (version, unit column,
 * partitions) and cached with the reordered columns; only reordered columns are cached on that
 * path.
 */
import { LRUCache } from "lru-cache";
import { createHash } from "node:crypto";
import { isNull, type DatasetVersion, type DatasetsService } from "../datasets/index.ts";
import { ROW_INDEX_COLUMN, type ColumnValues, type ColumnView } from "../queries/index.ts";

type Version = DatasetVersion & { _id: string };

/** Where each file row goes in the clustered order, and the row range of each partition. */
export interface UnitLayout {
  /** dest[i] is the clustered row of file row i, or −1 when its unit is null (left out). */
  dest: Int32Array;
  /** Clustered rows. */
  rows: number;
  /** Partition p is clustered rows [partStarts[p], partStarts[p + 1]). */
  partStarts: number[];
  partitions: number;
}

export interface ClusteredColumns {
  /** Each column reordered by the layout (dictionaries unchanged). */
  views: Record<string, ColumnView>;
  layout: UnitLayout;
  /** Clustered rows: the version's rows whose unit is not null. */
  rows: number;
  /** Names exactly this column set (version, unit column, partitions, columns), for the sandbox's cache. */
  key: string;
}

/** The partition of a numeric unit value: the kernels' rule (compile.ts `own`). */
const numericPartition = (u: number, p: number) => ((u * 2654435761) >>> 0) % p;

/**
 * The clustered order of a unit column: by partition, then unit (dictionary code, or numeric
 * value ascending), then file row. A unit's rows are contiguous and units ascend within a
 * partition, which the kernels check.
 */
export function unitLayout(unit: ColumnView, partitions: number): UnitLayout {
  const P = Math.max(1, Math.floor(partitions));
  const values = unit.values;
  const n = values.length;
  // Each unit gets an id; ids are ordered (partition, unit) below.
  let ids: Int32Array;
  let idOrder: number[];
  let partitionOf: (id: number) => number;
  if (unit.dictionary) {
    const D = unit.dictionary.length;
    ids = values instanceof Int32Array ? values : Int32Array.from(values);
    idOrder = [];
    for (let p = 0; p < P; p++) for (let k = p; k < D; k += P) idOrder.push(k);
    partitionOf = (id) => id % P;
  } else {
    ids = new Int32Array(n);
    const index = new Map<number, number>();
    const distinct: number[] = [];
    for (let i = 0; i < n; i++) {
      const v = values[i]!;
      if (v !== v || isNull(unit.nulls, i)) {
        ids[i] = -1;
        continue;
      }
      let id = index.get(v);
      if (id === undefined) {
        id = distinct.push(v) - 1;
        index.set(v, id);
      }
      ids[i] = id;
    }
    idOrder = distinct.map((_, id) => id);
    idOrder.sort((a, b) => numericPartition(distinct[a]!, P) - numericPartition(distinct[b]!, P) || distinct[a]! - distinct[b]!);
    partitionOf = (id) => numericPartition(distinct[id]!, P);
  }
  const idCount = unit.dictionary ? unit.dictionary.length : idOrder.length;
  const valid = (i: number) => {
    const id = ids[i]!;
    return id >= 0 && id < idCount && !isNull(unit.nulls, i);
  };
  const counts = new Int32Array(idCount);
  for (let i = 0; i < n; i++) if (valid(i)) counts[ids[i]!]!++;
  // Start of each id's rows, walking ids in clustered order; partition boundaries on the way.
  const next = new Int32Array(idCount);
  const partStarts: number[] = [0];
  let at = 0;
  let p = 0;
  for (const id of idOrder) {
    const q = partitionOf(id);
    while (p < q) {
      partStarts.push(at);
      p++;
    }
    next[id] = at;
    at += counts[id]!;
  }
  while (partStarts.length <= P) partStarts.push(at);
  const dest = new Int32Array(n);
  for (let i = 0; i < n; i++) dest[i] = valid(i) ? next[ids[i]!]!++ : -1;
  return { dest, rows: at, partStarts, partitions: P };
}

/**
 * A column in the clustered order (values, and the null bitmap when any kept row is null).
 * Scattered from file order: reading sequentially and writing at random is the cheaper way.
 */
export function reorderColumn(view: ColumnView, layout: UnitLayout): ColumnView {
  const { dest, rows } = layout;
  const src = view.values;
  const values = new (src.constructor as new (n: number) => ColumnValues)(rows);
  for (let i = 0; i < dest.length; i++) {
    const d = dest[i]!;
    if (d >= 0) values[d] = src[i]!;
  }
  let nulls: Uint8Array | null = null;
  if (view.nulls) {
    const bits = new Uint8Array(Math.ceil(rows / 8));
    let any = false;
    for (let i = 0; i < dest.length; i++) {
      const d = dest[i]!;
      if (d >= 0 && isNull(view.nulls, i)) {
        bits[d >>> 3]! |= 1 << (d & 7);
        any = true;
      }
    }
    if (any) nulls = bits;
  }
  return { values, nulls, dictionary: view.dictionary };
}

/** The row-index column in the clustered order: each clustered row's index in the version (compile.ts ROW_INDEX_COLUMN). */
export function rowIndexColumn(layout: UnitLayout): ColumnView {
  const values = new Int32Array(layout.rows);
  const { dest } = layout;
  for (let i = 0; i < dest.length; i++) {
    const d = dest[i]!;
    if (d >= 0) values[d] = i;
  }
  return { values, nulls: null, dictionary: null };
}

/** Clusters in-memory columns (tests, the bench); the service goes through ColumnLoader.loadClustered. */
export function clusterColumns(
  views: Record<string, ColumnView>,
  unitColumn: string,
  names: readonly string[],
  partitions: number,
): ClusteredColumns {
  const unit = views[unitColumn];
  if (!unit) throw new Error(`column ${JSON.stringify(unitColumn)} was not loaded`);
  const layout = unitLayout(unit, partitions);
  const out: Record<string, ColumnView> = {};
  for (const name of names) {
    if (name === ROW_INDEX_COLUMN) {
      out[name] = rowIndexColumn(layout);
      continue;
    }
    const v = views[name];
    if (!v) throw new Error(`column ${JSON.stringify(name)} was not loaded`);
    out[name] = reorderColumn(v, layout);
  }
  return { views: out, layout, rows: layout.rows, key: clusteredKey("memory", unitColumn, layout.partitions, names) };
}

function clusteredKey(versionId: string, unitColumn: string, partitions: number, names: readonly string[]): string {
  const digest = createHash("sha256")
    .update(JSON.stringify([unitColumn, partitions, names]))
    .digest("hex")
    .slice(0, 32);
  return `${versionId.slice(0, 200)}:clustered:${digest}`;
}

/** What a cached column or layout holds in memory. */
function bytesOf(value: ColumnView | UnitLayout): number {
  return Math.max(1, "dest" in value ? value.dest.byteLength : value.values.byteLength + (value.nulls?.byteLength ?? 0));
}

export class ColumnLoader {
  /** Least recently used first out, bounded by bytes (an entry over the bound is not kept). */
  private readonly cache: LRUCache<string, ColumnView | UnitLayout>;
  private readonly pending = new Map<string, Promise<ColumnView | UnitLayout>>();
  private readonly datasets: DatasetsService;

  constructor(datasets: DatasetsService, maxBytes = 512 * 1024 * 1024) {
    this.datasets = datasets;
    this.cache = new LRUCache({ maxSize: maxBytes, sizeCalculation: bytesOf });
  }

  /** Columns in file order. */
  async load(version: Version, names: string[]): Promise<Record<string, ColumnView>> {
    const out: Record<string, ColumnView> = {};
    for (const name of names)
      out[name] = (await this.cached(JSON.stringify(["raw", version._id, name]), () => this.read(version, name))) as ColumnView;
    return out;
  }

  /** Columns clustered by `unitColumn` into `partitions` row ranges (see the header). */
  async loadClustered(version: Version, unitColumn: string, names: readonly string[], partitions: number): Promise<ClusteredColumns> {
    const P = Math.max(1, Math.floor(partitions));
    const key = (...rest: string[]) => JSON.stringify(["clustered", version._id, P, unitColumn, ...rest]);
    let unitRead: ColumnView | null = null; // read once when both the layout and the unit column need it
    const read = async (name: string) => (name === unitColumn ? (unitRead ??= await this.read(version, name)) : this.read(version, name));
    const layout = (await this.cached(key(), async () => unitLayout(await read(unitColumn), P))) as UnitLayout;
    const views: Record<string, ColumnView> = {};
    for (const name of names) {
      views[name] = (await this.cached(key(name), async () =>
        name === ROW_INDEX_COLUMN ? rowIndexColumn(layout) : reorderColumn(await read(name), layout),
      )) as ColumnView;
    }
    return { views, layout, rows: layout.rows, key: clusteredKey(version._id, unitColumn, P, names) };
  }

  /** A cached value, built once even when several queries ask at the same time. */
  private async cached(key: string, build: () => Promise<ColumnView | UnitLayout>): Promise<ColumnView | UnitLayout> {
    const hit = this.cache.get(key);
    if (hit) return hit;
    let building = this.pending.get(key);
    if (!building) {
      building = build().finally(() => this.pending.delete(key));
      this.pending.set(key, building);
      const value = await building;
      this.cache.set(key, value);
      return value;
    }
    return building;
  }

  private async read(version: Version, name: string): Promise<ColumnView> {
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
    return { values, nulls, dictionary };
  }
}
