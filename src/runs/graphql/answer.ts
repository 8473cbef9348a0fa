import { builder } from "../../graphql/builder.ts";
import type { QueryAnswer } from "../index.ts";
import type { ReleasedGroup } from "../../queries/index.ts";
import { QuoteRef } from "./quote.ts";
import { LiteralScalar } from "./inputs.ts";

type Key = ReleasedGroup["key"][number];
type Value = ReleasedGroup["values"][number];

const GroupKeyRef = builder.objectRef<Key>("GroupKey").implement({
  fields: (t) => ({
    column: t.exposeString("column"),
    value: t.expose("value", {
      type: LiteralScalar,
      description: 'Typed like its column (string, number or boolean) for a key set; the bucket\'s label "[lo, hi)" for edges.',
    }),
  }),
});

const ValueIntervalRef = builder.objectRef<{ lo: number; hi: number }>("ValueInterval").implement({
  description: "A 95% interval for the true value: noise, and the bias of contribution bounding from the policy's DP profile.",
  fields: (t) => ({ lo: t.exposeFloat("lo"), hi: t.exposeFloat("hi") }),
});

const AggregateValueRef = builder.objectRef<Value>("AggregateValue").implement({
  description: "A released, noised number (exact multiple of its public granularity); AVG is noisy SUM / noisy COUNT.",
  fields: (t) => ({
    aggregateIndex: t.exposeInt("aggregateIndex"),
    kind: t.exposeString("kind"),
    column: t.exposeString("column", { nullable: true }),
    value: t.exposeFloat("value", { nullable: true }),
    bins: t.exposeFloatList("bins", { nullable: true }),
    interval: t.field({ type: ValueIntervalRef, nullable: true, resolve: (v) => v.interval ?? null }),
  }),
});

const ResultGroupRef = builder.objectRef<ReleasedGroup>("ResultGroup").implement({
  fields: (t) => ({
    suppressed: t.boolean({
      description: "The group's noisy unit count was below the policy's k: its key is shown, its values are null.",
      resolve: (g) => g.suppressed === true,
    }),
    key: t.field({ type: [GroupKeyRef], resolve: (g) => g.key }),
    values: t.field({ type: [AggregateValueRef], resolve: (g) => g.values }),
  }),
});

export const ChargedRef = builder.objectRef<NonNullable<QueryAnswer["charged"]>>("QueryCharge").implement({
  fields: (t) => ({ amount: t.exposeInt("amount"), currency: t.exposeString("currency") }),
});

export const QueryResultRef = builder.objectRef<QueryAnswer>("QueryResult").implement({
  description:
    "The released answer, each aggregate noised by the privacy gate: every group over public keys; of groups over data-derived keys, " +
    "only those that passed the release threshold (the others are absent, with no marker).",
  fields: (t) => ({
    queryId: t.exposeString("queryId"),
    delta: t.float({
      description: "δ of the (ε, δ) guarantee of this answer: 0 unless it groups by data-derived keys.",
      resolve: (a) => a.quote.delta,
    }),
    cached: t.exposeBoolean("cached"),
    quote: t.field({ type: QuoteRef, resolve: (a) => a.quote }),
    groups: t.field({ type: [ResultGroupRef], resolve: (a) => a.answer.groups }),
    charged: t.field({ type: ChargedRef, nullable: true, resolve: (a) => a.charged }),
  }),
});
