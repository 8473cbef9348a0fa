/**
 * Groups a dataset version's rows by privacy unit and turns each unit's rows into plain objects
 * for `map` — only the approved columns, strings decoded, dates as "YYYY-MM-DD", timestamps as
 * ISO strings, nulls as null. At most `maxRowsPerUnit` rows per unit (its first ones in file
 * order: a rule that looks only at the unit's own rows). Units stream out in batches, so memory
 * holds one batch of row objects at a time besides the columns themselves.
 */
import { type ColumnSchema, dateText, isNull } from "../datasets/index.ts";
import type { ColumnView } from "../queries/index.ts";
import type { PrivacyUnit } from "../../sandbox/index.ts";

type Cell = string | number | boolean | null;

function decoder(type: ColumnSchema["type"], view: ColumnView): (i: number) => Cell {
  const { values, nulls, dictionary } = view;
  switch (type) {
    case "string":
      return (i) => (isNull(nulls, i) ? null : (dictionary![values[i]!] ?? null));
    case "boolean":
      return (i) => (isNull(nulls, i) ? null : values[i] === 1);
    case "date":
      return (i) => (isNull(nulls, i) ? null : dateText(values[i]!));
    case "timestamp":
      return (i) => (isNull(nulls, i) ? null : new Date(values[i]!).toISOString());
    default:
      return (i) => (isNull(nulls, i) ? null : values[i]!);
  }
}

/** Row indexes per unit, in file order, capped at `maxRowsPerUnit`. */
export function rowsByUnit(unit: ColumnView, maxRowsPerUnit: number): Int32Array[] {
  const { values, nulls, dictionary } = unit;
  const n = values.length;
  if (dictionary) {
    // Dictionary codes 0…D-1: a counting sort, no per-unit objects.
    const D = dictionary.length;
    const count = new Int32Array(D);
    for (let i = 0; i < n; i++) if (!isNull(nulls, i) && count[values[i]!]! < maxRowsPerUnit) count[values[i]!]!++;
    const out: Int32Array[] = [];
    const slot = new Array<Int32Array | null>(D).fill(null);
    const fill = new Int32Array(D);
    for (let u = 0; u < D; u++) if (count[u]! > 0) out.push((slot[u] = new Int32Array(count[u]!)));
    for (let i = 0; i < n; i++) {
      if (isNull(nulls, i)) continue;
      const u = values[i]!;
      const rows = slot[u]!;
      if (fill[u]! < rows.length) rows[fill[u]!++] = i;
    }
    return out;
  }
  const byId = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    if (isNull(nulls, i)) continue;
    let rows = byId.get(values[i]!);
    if (!rows) byId.set(values[i]!, (rows = []));
    if (rows.length < maxRowsPerUnit) rows.push(i);
  }
  return Array.from(byId.values(), (rows) => Int32Array.from(rows));
}

export function* unitBatches(
  units: readonly Int32Array[],
  columns: ReadonlyArray<{ name: string; type: ColumnSchema["type"]; view: ColumnView }>,
  batchSize = 256,
): Generator<PrivacyUnit[]> {
  const decode = columns.map((c) => ({ name: c.name, at: decoder(c.type, c.view) }));
  for (let start = 0; start < units.length; start += batchSize) {
    const batch: PrivacyUnit[] = [];
    for (const rowIndexes of units.slice(start, start + batchSize)) {
      const rows = new Array<Record<string, Cell>>(rowIndexes.length);
      for (let r = 0; r < rowIndexes.length; r++) {
        const i = rowIndexes[r]!;
        // Null-prototype rows: a column named __proto__ or constructor is an ordinary column.
        const row: Record<string, Cell> = Object.create(null) as Record<string, Cell>;
        for (const d of decode) row[d.name] = d.at(i);
        rows[r] = row;
      }
      batch.push({ rows });
    }
    yield batch;
  }
}
