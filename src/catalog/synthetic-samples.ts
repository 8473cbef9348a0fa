/**
 * Synthetic sample rows for a listing's buyer view, drawn ONLY from what the owner declared in
 * the policy (public key sets, bucket edges, measure bounds) with node:crypto randomness. The
 * data is never read, so a sample can reveal no real row and no real minimum or maximum:
 *   privacy unit      a made-up placeholder ("synthetic-…"), never an id from the data
 *   measure           uniform in the declared [lo, hi]
 *   keyed dimension   one of the declared public keys
 *   bucketed dimension uniform inside one of the declared buckets
 *   any other column  null (not queryable, so nothing to show)
 */
import { randomBytes, randomInt } from "node:crypto";
import type { ColumnSchema, DatasetSchema } from "../datasets/index.ts";
import type { PolicyRules } from "../privacy/policy/index.ts";

export type SampleValue = string | number | boolean | null;
export type SampleRow = Array<{ column: string; value: SampleValue }>;

export const SAMPLE_ROWS = 5;

/** Uniform in [0, 1) from 53 random bits. */
function uniform(): number {
  const b = randomBytes(8);
  const hi = b.readUInt32BE(0) >>> 5; // 27 bits
  const lo = b.readUInt32BE(4) >>> 6; // 26 bits
  return (hi * 67108864 + lo) / 9007199254740992;
}

function pick<T>(xs: readonly T[]): T {
  return xs[randomInt(xs.length)]!;
}

/** A number in [lo, hi] (integers for int columns, two decimals for floats). */
function between(lo: number, hi: number, col: ColumnSchema, upperOpen: boolean): number {
  if (col.type === "int") {
    const a = Math.ceil(lo);
    const b = upperOpen ? Math.ceil(hi) - 1 : Math.floor(hi);
    if (b < a) return a;
    // randomInt needs a range below 2^48; wider integer ranges fall back to scaled floats.
    return b - a < 2 ** 47 ? randomInt(a, b + 1) : Math.floor(a + uniform() * (b - a));
  }
  const v = Math.min(Math.max(Math.round((lo + uniform() * (hi - lo)) * 100) / 100, lo), hi);
  return upperOpen && v >= hi ? lo : v;
}

function sampleValue(col: ColumnSchema, policy: PolicyRules): SampleValue {
  if (col.name === policy.privacyUnit) return `synthetic-${randomBytes(4).toString("hex")}`;
  const measure = policy.measures.find((m) => m.column === col.name);
  if (measure) return between(measure.lo, measure.hi, col, false);
  const dim = policy.dimensions.find((d) => d.column === col.name);
  if (!dim) return null;
  if (dim.keys && dim.keys.length > 0) return pick(dim.keys);
  if (dim.edges && dim.edges.length >= 2) {
    const i = randomInt(dim.edges.length - 1);
    return between(dim.edges[i]!, dim.edges[i + 1]!, col, true);
  }
  if (dim.dateEdges && dim.dateEdges.length >= 2) {
    const i = randomInt(dim.dateEdges.length - 1);
    const a = Date.parse(dim.dateEdges[i]!);
    const b = Date.parse(dim.dateEdges[i + 1]!);
    const iso = new Date(a + Math.floor(uniform() * (b - a))).toISOString();
    return col.type === "date" ? iso.slice(0, 10) : iso;
  }
  return null;
}

/** `count` synthetic rows for `schema` under `policy` (all nulls but the unit when no policy). */
export function syntheticRows(schema: DatasetSchema, policy: PolicyRules | null, count = SAMPLE_ROWS): SampleRow[] {
  const rows: SampleRow[] = [];
  for (let r = 0; r < count; r++) {
    rows.push(schema.columns.map((col) => ({ column: col.name, value: policy ? sampleValue(col, policy) : null })));
  }
  return rows;
}
