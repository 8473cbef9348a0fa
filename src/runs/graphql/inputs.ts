/** GraphQL input for an aggregate query; turned into the IR by `toQueryRequest`. */
import { builder } from "../../graphql/builder.ts";
import { LiteralScalar } from "../../graphql/literal-scalar.ts";
import { AGGREGATES } from "../../privacy/policy/index.ts";
import type { AggregateIR, FilterIR, Literal } from "../../queries/index.ts";
import type { QueryRequest } from "../index.ts";

export { LiteralScalar };

export const AggregateKindEnum = builder.enumType("AggregateKind", { values: AGGREGATES });

const FilterInput = builder.inputType("QueryFilterInput", {
  description:
    "Either `in` (values from the column's public key set; any strings, up to 1000 of at most 200 characters, on a column with " +
    "data-derived keys) or a range `gte`/`lt` (numbers, or ISO dates for date columns).",
  fields: (t) => ({
    column: t.string({ required: true }),
    in: t.field({ type: [LiteralScalar], required: false }),
    gte: t.field({ type: LiteralScalar, required: false }),
    lt: t.field({ type: LiteralScalar, required: false }),
  }),
});

const AggregateInput = builder.inputType("QueryAggregateInput", {
  fields: (t) => ({
    kind: t.field({ type: AggregateKindEnum, required: true }),
    column: t.string({ required: false, description: "The measure, for SUM, AVG and HISTOGRAM." }),
    bins: t.int({ required: false, description: "HISTOGRAM only: equal-width bins over the measure's bounds (2–50)." }),
  }),
});

export const QueryInput = builder.inputType("QueryInput", {
  fields: (t) => ({
    listingId: t.globalID({ required: true }),
    filters: t.field({ type: [FilterInput], required: false }),
    groupBy: t.stringList({ required: false }),
    aggregates: t.field({ type: [AggregateInput], required: true }),
    epsilon: t.field({ type: "Epsilon", required: false, description: "Total ε; the policy's per-query ε when omitted." }),
  }),
});

export const RunQueryInput = builder.inputType("RunQueryInput", {
  fields: (t) => ({
    query: t.field({ type: QueryInput, required: true }),
    idempotencyKey: t.string({ required: false, description: "Retrying with the same key never charges or spends twice." }),
    maxPrice: t.int({ required: false, description: "Refuse (PriceChanged) rather than pay more than this (minor units)." }),
    quoteId: t.string({ required: false, description: "The quote you accept (Quote.quoteId): refused with PriceChanged if the price moved since." }),
  }),
});

type FilterArg = { column: string; in?: Literal[] | null; gte?: Literal | null; lt?: Literal | null };
type AggregateArg = { kind: (typeof AGGREGATES)[number]; column?: string | null; bins?: number | null };

export function toQueryRequest(
  input: { filters?: FilterArg[] | null; groupBy?: string[] | null; aggregates: AggregateArg[]; epsilon?: number | null },
  listingId: string,
): QueryRequest {
  const filters: FilterIR[] = (input.filters ?? []).map((f) =>
    f.in != null
      ? { column: f.column, op: "in", values: f.in }
      : { column: f.column, op: "range", lo: (f.gte ?? null) as number | string | null, hi: (f.lt ?? null) as number | string | null },
  );
  const aggregates: AggregateIR[] = input.aggregates.map((a) => {
    if (a.kind === "COUNT_UNITS" || a.kind === "COUNT_ROWS") return { kind: a.kind };
    const column = a.column ?? "";
    if (a.kind === "HISTOGRAM") return { kind: a.kind, column, bins: a.bins ?? 10 };
    return { kind: a.kind, column };
  });
  // The scalar's number prints as the exact decimal asked for (≤ 6 places): the IR keeps ε as text.
  return { listingId, filters, groupBy: input.groupBy ?? [], aggregates, epsilon: input.epsilon == null ? null : String(input.epsilon) };
}
