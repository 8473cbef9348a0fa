/**
 * The query IR: what a buyer asks, in a form the planner checks against the policy and the
 * compiler turns into a kernel. It names columns and literal values only; nothing in it is code.
 * Its canonical form (RFC 8785 JSON) and hash identify "the same query" for caching and audit.
 */
import { createHash } from "node:crypto";
import canonicalize from "canonicalize";

export type Literal = string | number | boolean;

export type FilterIR =
  | { column: string; op: "in"; values: Literal[] }
  /** Inclusive lower, exclusive upper bound; either may be null (open). Numbers, or ISO dates. */
  | { column: string; op: "range"; lo: number | string | null; hi: number | string | null };

export type AggregateIR =
  | { kind: "COUNT_UNITS" }
  | { kind: "COUNT_ROWS" }
  | { kind: "SUM"; column: string }
  | { kind: "AVG"; column: string }
  /** Equal-width bins over the measure's declared bounds [lo, hi]. */
  | { kind: "HISTOGRAM"; column: string; bins: number };

export interface QueryIR {
  datasetId: string;
  datasetVersion: number;
  filters: FilterIR[];
  groupBy: string[];
  aggregates: AggregateIR[];
  /** Total ε the buyer spends, as a decimal string (exact; at most 6 decimal places). */
  epsilon: string;
}

/** Filters sorted by column, `in` values sorted: two spellings of one query are one query. */
export function canonicalIR(ir: QueryIR): QueryIR {
  const filters = [...ir.filters]
    .map((f): FilterIR => (f.op === "in" ? { ...f, values: [...new Set(f.values)].sort(compareLiterals) } : f))
    .sort((a, b) => (a.column < b.column ? -1 : a.column > b.column ? 1 : 0));
  return { ...ir, filters };
}

export function irHash(ir: QueryIR): string {
  return createHash("sha256")
    .update(canonicalize(canonicalIR(ir))!)
    .digest("hex");
}

function compareLiterals(a: Literal, b: Literal): number {
  const ka = `${typeof a}:${String(a)}`;
  const kb = `${typeof b}:${String(b)}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
