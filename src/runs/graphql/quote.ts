import { builder } from "../../graphql/builder.ts";
import type { Quote, QuotedGroupThreshold, QuotedStatistic } from "../index.ts";

const QuotedStatisticRef = builder.objectRef<QuotedStatistic>("QuotedStatistic").implement({
  description: "One noisy number per group (a histogram: per bin): the ε it spends and the noise it will carry.",
  fields: (t) => ({
    aggregateIndex: t.exposeInt("aggregateIndex", { description: "The aggregate it answers; -1 for GROUP_THRESHOLD." }),
    kind: t.exposeString("kind", {
      description:
        'The aggregate; AVG has two statistics: "AVG" (its sum) and "AVG:COUNT". "GROUP_THRESHOLD" is the noisy unit count that decides ' +
        "whether a group over data-derived keys is released (never itself released).",
    }),
    column: t.exposeString("column", { nullable: true }),
    epsilon: t.expose("epsilon", { type: "Epsilon" }),
    expectedStdDev: t.exposeFloat("expectedStdDev", { description: "Standard deviation of the noise added to each released number." }),
  }),
});

export const PriceRef = builder.objectRef<NonNullable<Quote["price"]>>("QueryPrice").implement({
  description: "What the query costs, in integer minor units (fen for CNY).",
  fields: (t) => ({
    amount: t.exposeInt("amount"),
    currency: t.exposeString("currency"),
    platformFee: t.exposeInt("platformFee"),
    ownerShare: t.exposeInt("ownerShare"),
  }),
});

const GroupThresholdRef = builder.objectRef<QuotedGroupThreshold>("GroupThreshold").implement({
  description:
    "How groups over data-derived keys are released: a group with fewer than minGroupSize units never is; the others only when " +
    "their unit count plus fresh discrete Laplace noise (the GROUP_THRESHOLD statistic) reaches tau = k + ⌈t·ln(1/deltaPerGroup)⌉, " +
    "t the noise scale. Groups that fail are absent from the answer, with no marker.",
  fields: (t) => ({
    minGroupSize: t.exposeInt("minGroupSize"),
    tau: t.exposeFloat("tau", { description: "A whole number (a Float only because it may exceed 2^31 at tiny ε)." }),
    delta: t.exposeFloat("delta", { description: "δ of the query's (ε, δ) guarantee." }),
    deltaPerGroup: t.exposeFloat("deltaPerGroup", {
      description: "δ / maxGroupsPerUnit: at most this chance that a group of exactly k units is released.",
    }),
    epsilon: t.expose("epsilon", { type: "Epsilon", description: "The ε share spent on the threshold's noisy count." }),
    expectedStdDev: t.exposeFloat("expectedStdDev"),
  }),
});

export const QuoteRef = builder.objectRef<Quote>("Quote").implement({
  description: "What running the query would do, before anything runs.",
  fields: (t) => ({
    quoteId: t.exposeString("quoteId", { description: "Pass it to runQuery to run at exactly this price (else PriceChanged)." }),
    listingId: t.globalID({ resolve: (q) => ({ type: "Listing", id: q.listingId }) }),
    datasetVersion: t.exposeInt("datasetVersion"),
    queryHash: t.exposeString("queryHash", { description: "SHA-256 of the canonical query: the same hash is the same query." }),
    rowsPriced: t.exposeInt("rowsPriced", {
      description: "The rows the price counts: the size the owner declared public (a bucket's bound), 0 when none. Never a count of the data.",
    }),
    releaseAfterMs: t.exposeInt("releaseAfterMs", {
      description:
        "The answer is released this long after the run starts, fixed from public facts (the declared size), however long the work takes; " +
        "a run that misses it is released at 4 × this.",
    }),
    suppressBelowUnits: t.exposeInt("suppressBelowUnits", {
      description:
        "k: a group over public keys whose noisy unit count (the GROUP_SUPPRESSION statistic, or the query's own COUNT_UNITS) is below this " +
        "is returned with its key and no values (suppressed). Groups over data-derived keys use the threshold instead.",
    }),
    epsilon: t.expose("epsilon", { type: "Epsilon", description: "Total ε this query spends (none when cached)." }),
    statistics: t.field({ type: [QuotedStatisticRef], resolve: (q) => q.statistics }),
    price: t.field({ type: PriceRef, nullable: true, resolve: (q) => q.price, description: "Null when cached or when billing is off." }),
    buyerEpsilonRemaining: t.expose("buyerEpsilonRemaining", { type: "Epsilon" }),
    datasetEpsilonRemaining: t.expose("datasetEpsilonRemaining", { type: "Epsilon" }),
    cached: t.exposeBoolean("cached", { description: "Answered before for you: running it again returns that answer for free." }),
    delta: t.exposeFloat("delta", { description: "δ of the (ε, δ) guarantee: 0 (pure ε-DP) unless the query groups by data-derived keys." }),
    groupThreshold: t.field({
      type: GroupThresholdRef,
      nullable: true,
      resolve: (q) => q.groupThreshold,
      description: "Set when the query groups by data-derived keys: how their groups are released.",
    }),
  }),
});
