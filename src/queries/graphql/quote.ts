import { builder } from "../../graphql/builder.ts";
import type { Quote, QuotedStatistic } from "../service.ts";

const QuotedStatisticRef = builder.objectRef<QuotedStatistic>("QuotedStatistic").implement({
  description: "One noisy number per group (a histogram: per bin): the ε it spends and the noise it will carry.",
  fields: (t) => ({
    aggregateIndex: t.exposeInt("aggregateIndex"),
    kind: t.exposeString("kind", { description: 'The aggregate; AVG has two statistics: "AVG" (its sum) and "AVG:COUNT".' }),
    column: t.exposeString("column", { nullable: true }),
    epsilon: t.exposeString("epsilon"),
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

export const QuoteRef = builder.objectRef<Quote>("Quote").implement({
  description: "What running the query would do, before anything runs.",
  fields: (t) => ({
    listingId: t.globalID({ resolve: (q) => ({ type: "Listing", id: q.listingId }) }),
    datasetVersion: t.exposeInt("datasetVersion"),
    queryHash: t.exposeString("queryHash", { description: "SHA-256 of the canonical query: the same hash is the same query." }),
    rowsToScan: t.exposeInt("rowsToScan"),
    epsilon: t.exposeString("epsilon", { description: "Total ε this query spends (none when cached)." }),
    statistics: t.field({ type: [QuotedStatisticRef], resolve: (q) => q.statistics }),
    price: t.field({ type: PriceRef, nullable: true, resolve: (q) => q.price, description: "Null when cached or when billing is off." }),
    buyerEpsilonRemaining: t.exposeFloat("buyerEpsilonRemaining"),
    datasetEpsilonRemaining: t.exposeFloat("datasetEpsilonRemaining"),
    cached: t.exposeBoolean("cached", { description: "Answered before for you: running it again returns that answer for free." }),
  }),
});
