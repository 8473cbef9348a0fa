/**
 * The flights table as in-memory columns, for accuracy measurements that skip ingestion: strings
 * dictionary-coded (Int32Array + dictionary), ints as Int32Array, floats as Float64Array, as the
 * ingest path stores them. Also the exact (unbounded, non-private) answers the measurements
 * compare against: the oracle, never used by product code.
 */
import type { ColumnView } from "../src/queries/kernel-abi.ts";
import type { DatasetSchema } from "../src/datasets/model.ts";
import type { GeneratedTable } from "../seed/csv-table.ts";

export interface MemoryTable {
  views: Record<string, ColumnView>;
  schema: DatasetSchema;
  rows: number;
}

export function memoryTable(table: GeneratedTable, types: Record<string, "string" | "int" | "float">): MemoryTable {
  const raw: Array<Array<string | number>> = table.header.map(() => []);
  let rows = 0;
  for (const row of table.generate()) {
    row.forEach((cell, j) => raw[j]!.push(cell as string | number));
    rows++;
  }
  const views: Record<string, ColumnView> = {};
  table.header.forEach((name, j) => {
    const type = types[name] ?? "string";
    const cells = raw[j]!;
    if (type === "string") {
      const dictionary = [...new Set(cells.map(String))].sort();
      const code = new Map(dictionary.map((s, i) => [s, i]));
      views[name] = { values: Int32Array.from(cells, (c) => code.get(String(c))!), nulls: null, dictionary };
    } else if (type === "int") views[name] = { values: Int32Array.from(cells as number[]), nulls: null, dictionary: null };
    else views[name] = { values: Float64Array.from(cells as number[]), nulls: null, dictionary: null };
  });
  return {
    views,
    schema: { columns: table.header.map((name) => ({ name, type: types[name] ?? "string", nullable: false })) },
    rows,
  };
}

/** The value a column holds at row i, as a group key (dictionary string or number). */
export function keyAt(view: ColumnView, i: number): string | number {
  return view.dictionary ? view.dictionary[view.values[i]!]! : view.values[i]!;
}

/** Exact per-group figures: rows, and per measure the sum (no bounding, no noise). */
export function exactGroups(t: MemoryTable, groupBy: string[], measure: string | null): Map<string, { rows: number; sum: number }> {
  const out = new Map<string, { rows: number; sum: number }>();
  const dims = groupBy.map((c) => t.views[c]!);
  const m = measure ? t.views[measure]!.values : null;
  for (let i = 0; i < t.rows; i++) {
    const key = JSON.stringify(dims.map((d) => keyAt(d, i)));
    let cell = out.get(key);
    if (!cell) out.set(key, (cell = { rows: 0, sum: 0 }));
    cell.rows++;
    if (m) cell.sum += m[i]!;
  }
  return out;
}
