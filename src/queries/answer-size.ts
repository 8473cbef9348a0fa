/**
 * A public upper bound on the size of a released answer (its JSON in UTF-8 bytes), computed from
 * the plan's public parts only: the most groups the grouping may make, the key labels (declared
 * keys as they are; data-derived ones at their longest allowed length), and the values asked for.
 * The planner refuses a query above the bound before anything is spent, so no run can fail on its
 * answer's size after ε was debited (the answer cache keeps the same limit as a last check).
 */
import type { AggregateIR } from "./ir.ts";

/** The parts of a planned grouping the bound reads (plan.ts GroupDim). */
type Dim = { column: string; kind: "keys"; keys: unknown[]; derived?: boolean } | { column: string; kind: "edges"; labels: string[] };

/** Below the 16 MiB document limit of MongoDB, with room for the run record around it. */
export const MAX_ANSWER_BYTES = 12 * 1024 * 1024;

/** The longest JSON number: "-1.2345678901234567e+308". */
const NUMBER = 24;
const utf8 = (s: string) => Buffer.byteLength(s, "utf8");

function labelBytes(d: Dim, maxDerivedKeyLength: number): number {
  if (d.kind === "edges") return Math.max(0, ...d.labels.map((l) => utf8(JSON.stringify(l))));
  // A data-derived key is at most maxDerivedKeyLength characters of up to 6 bytes each as JSON (escapes), plus quotes.
  if (d.derived) return maxDerivedKeyLength * 6 + 2;
  return Math.max(0, ...d.keys.map((k) => utf8(JSON.stringify(k))));
}

export function answerBytesBound(dims: Dim[], publicGroupBound: number, aggregates: AggregateIR[], maxDerivedKeyLength: number): number {
  const keyBytes = dims.reduce((n, d) => n + utf8(JSON.stringify(d.column)) + labelBytes(d, maxDerivedKeyLength) + 24, 0);
  const valueBytes = aggregates.reduce((n, a) => {
    const column = "column" in a ? utf8(JSON.stringify(a.column)) : 4;
    const bins = a.kind === "HISTOGRAM" ? a.bins * (NUMBER + 1) : 4;
    // {"aggregateIndex":i,"kind":"…","column":…,"value":n,"bins":…,"interval":{"lo":n,"hi":n}}
    return n + 120 + column + bins + 3 * NUMBER;
  }, 0);
  return 16 + publicGroupBound * (40 + keyBytes + valueBytes);
}
