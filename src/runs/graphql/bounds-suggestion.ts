/** BoundsSuggestion: what suggestPolicyBounds returns — suggested bounds and the trade-off against the current ones, as numbers. */
import { builder } from "../../graphql/builder.ts";
import { PrivacyPolicyRef } from "../../privacy/policy/graphql/index.ts";
import type { BoundsChoice, BoundsSuggestion, QueryErrorAt, TypicalQueryTradeoff } from "../policy-profile.ts";
import type { BoundsTradeoff } from "../../queries/index.ts";

const MeasureClampRef = builder.objectRef<{ column: string; lo: number; hi: number }>("MeasureClamp").implement({
  description: "A measure's clamping range: values below lo count as lo, above hi as hi.",
  fields: (t) => ({ column: t.exposeString("column"), lo: t.exposeFloat("lo"), hi: t.exposeFloat("hi") }),
});

const BoundsChoiceRef = builder.objectRef<BoundsChoice>("ContributionBounds").implement({
  description: "Policy caps on what one privacy unit contributes to a query; each query is tuned inside them.",
  fields: (t) => ({
    maxGroupsPerUnit: t.exposeInt("maxGroupsPerUnit"),
    maxRowsPerUnit: t.exposeInt("maxRowsPerUnit"),
    measures: t.field({ type: [MeasureClampRef], resolve: (b) => b.measures }),
    expectedRelError: t.exposeFloat("expectedRelError", {
      description: "Mean over the typical queries of expected relative bias + mean |noise| (0.05 = 5%).",
    }),
  }),
});

const QueryErrorAtRef = builder.objectRef<QueryErrorAt>("TypicalQueryError").implement({
  description: "One typical query's bounds (tuned inside the caps) and its expected error relative to the true value of a group of mean size.",
  fields: (t) => ({
    maxGroupsPerUnit: t.exposeInt("maxGroupsPerUnit"),
    maxRowsPerUnit: t.exposeInt("maxRowsPerUnit"),
    clamp: t.field({ type: MeasureClampRef, nullable: true, resolve: (e) => e.clamp }),
    expectedRelBias: t.exposeFloat("expectedRelBias", { description: "Expected share of the true value lost to bounding." }),
    expectedRelNoise: t.exposeFloat("expectedRelNoise", { description: "Expected mean |noise| over the true value." }),
  }),
});

const TypicalQueryRef = builder.objectRef<TypicalQueryTradeoff>("TypicalQueryTradeoff").implement({
  description: "A query buyers typically ask (a count by each dimension and pair, a sum and a mean of each measure by each dimension).",
  fields: (t) => ({
    groupBy: t.exposeStringList("groupBy"),
    kind: t.exposeString("kind"),
    column: t.exposeString("column", { nullable: true }),
    suggested: t.field({ type: QueryErrorAtRef, resolve: (q) => q.suggested }),
    current: t.field({ type: QueryErrorAtRef, nullable: true, resolve: (q) => q.current }),
  }),
});

const TradeoffRef = builder.objectRef<BoundsTradeoff>("RowsPerUnitTradeoff").implement({
  description: "What a rows-per-unit cap would cost: the typical queries' mean expected relative error under it.",
  fields: (t) => ({ maxRowsPerUnit: t.exposeInt("maxRowsPerUnit"), expectedRelError: t.exposeFloat("expectedRelError") }),
});

export const BoundsSuggestionRef = builder.objectRef<BoundsSuggestion>("BoundsSuggestion").implement({
  description:
    "Contribution bounds suggested from a DP profile of the data, and the trade-off against the current policy. To accept, declare " +
    "the policy again with the suggested bounds (declarePrivacyPolicy): the profile stays with the policy while it is checked " +
    "against the same dataset version.",
  fields: (t) => ({
    datasetId: t.globalID({ resolve: (s) => ({ type: "Dataset", id: s.datasetId }) }),
    datasetVersion: t.exposeInt("datasetVersion"),
    profileId: t.exposeString("profileId"),
    epsilonSpent: t.field({ type: "Epsilon", description: "ε the profile spent from the dataset's budget.", resolve: (s) => s.epsilonSpent }),
    datasetEpsilonRemaining: t.field({ type: "Epsilon", resolve: (s) => s.datasetEpsilonRemaining }),
    epsilonPerQuery: t.field({ type: "Epsilon", description: "The per-query ε the figures are computed at.", resolve: (s) => s.epsilonPerQuery }),
    suggested: t.field({ type: BoundsChoiceRef, resolve: (s) => s.suggested }),
    current: t.field({ type: BoundsChoiceRef, resolve: (s) => s.current }),
    typicalQueries: t.field({ type: [TypicalQueryRef], resolve: (s) => s.typicalQueries }),
    tradeoffs: t.field({ type: [TradeoffRef], resolve: (s) => s.tradeoffs }),
    note: t.exposeString("note", {
      nullable: true,
      description: "Caveats: the profile held too little to suggest from, or no exact size is declared public (bias then errs low).",
    }),
    policy: t.field({ type: PrivacyPolicyRef, description: "The policy version that now keeps the profile.", resolve: (s) => s.policy }),
  }),
});
