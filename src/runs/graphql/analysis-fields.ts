/** quoteAnalysis and runAnalysis: the buyer runs the approved revision of their analysis. */
import { builder } from "../../graphql/builder.ts";
import { InvalidInput, NotFound } from "../../errors.ts";
import { BudgetDebitConflict, BudgetExhausted, QueryInProgress } from "../../privacy/budget/index.ts";
import { PolicyViolation } from "../../queries/index.ts";
import { PriceRef } from "./quote.ts";
import { ChargedRef } from "./answer.ts";
import { BILLING_QUERY_ERRORS } from "./billing-errors.ts";
import type { AnalysisQuote, AnalysisRun } from "../analysis-runs.ts";
import { type ReleasedOutput, AnalysisConflict } from "../../analysis/index.ts";
import { analysisId } from "../../analysis/graphql/index.ts";

const QuotedOutputRef = builder.objectRef<AnalysisQuote["outputs"][number]>("AnalysisQuotedOutput").implement({
  description: "One output's share of ε, its public granularity and the noise it will carry.",
  fields: (t) => ({
    name: t.exposeString("name"),
    lo: t.exposeFloat("lo"),
    hi: t.exposeFloat("hi"),
    epsilon: t.expose("epsilon", { type: "Epsilon" }),
    granularity: t.exposeFloat("granularity", { description: "Released values are exact multiples of this power of two." }),
    expectedStdDev: t.exposeFloat("expectedStdDev"),
  }),
});

const AnalysisQuoteRef = builder.objectRef<AnalysisQuote>("AnalysisQuote").implement({
  description: "What running the approved revision would do, before anything runs.",
  fields: (t) => ({
    analysisId: t.globalID({ resolve: (q) => ({ type: "Analysis", id: q.analysisId }) }),
    revision: t.exposeInt("revision"),
    quoteId: t.exposeString("quoteId", { description: "Pass it to runAnalysis to run at exactly this price (else PriceChanged)." }),
    codeHash: t.exposeString("codeHash", { description: "The approved revision's hash: the code that will run." }),
    listingId: t.globalID({ resolve: (q) => ({ type: "Listing", id: q.listingId }) }),
    datasetVersion: t.exposeInt("datasetVersion"),
    rowsPriced: t.exposeInt("rowsPriced", {
      description: "The rows the price counts: the size the owner declared public (a bucket's bound), 0 when none. Never a count of the data.",
    }),
    maxRowsPerUnit: t.exposeInt("maxRowsPerUnit", { description: "map gets at most this many rows of one unit." }),
    epsilon: t.expose("epsilon", { type: "Epsilon", description: "Total ε, split evenly over the outputs." }),
    outputs: t.field({ type: [QuotedOutputRef], resolve: (q) => q.outputs }),
    price: t.field({ type: PriceRef, nullable: true, resolve: (q) => q.price, description: "Null when cached or when billing is off." }),
    buyerEpsilonRemaining: t.expose("buyerEpsilonRemaining", { type: "Epsilon" }),
    datasetEpsilonRemaining: t.expose("datasetEpsilonRemaining", { type: "Epsilon" }),
    cached: t.exposeBoolean("cached"),
    releaseAfterMs: t.exposeInt("releaseAfterMs", {
      description: "The answer is released this long after the run starts, however long the code takes.",
    }),
  }),
});

const ReleasedOutputRef = builder.objectRef<ReleasedOutput>("AnalysisOutputValue").implement({
  description: "The noised sum of one output over all units (an exact multiple of its granularity).",
  fields: (t) => ({ name: t.exposeString("name"), value: t.exposeFloat("value") }),
});

const AnalysisRunRef = builder.objectRef<AnalysisRun>("AnalysisRun").implement({
  description: "The released answer: per output, the sum over privacy units plus noise. Nothing says how single units fared.",
  fields: (t) => ({
    runId: t.exposeString("runId"),
    cached: t.exposeBoolean("cached"),
    quote: t.field({ type: AnalysisQuoteRef, resolve: (r) => r.quote }),
    outputs: t.field({ type: [ReleasedOutputRef], resolve: (r) => r.outputs }),
    charged: t.field({ type: ChargedRef, nullable: true, resolve: (r) => r.charged }),
  }),
});

const QuoteAnalysisInput = builder.inputType("QuoteAnalysisInput", {
  fields: (t) => ({
    analysisId: t.globalID({ required: true }),
    epsilon: t.field({ type: "Epsilon", description: "Total ε to spend; the policy's per-query ε when omitted." }),
  }),
});

const RunAnalysisInput = builder.inputType("RunAnalysisInput", {
  fields: (t) => ({
    analysisId: t.globalID({ required: true }),
    epsilon: t.field({ type: "Epsilon" }),
    idempotencyKey: t.string({ description: "Retrying with the same key never charges or spends twice." }),
    maxPrice: t.int({ description: "Refuse to run if the price (minor units) is above this." }),
    quoteId: t.string({ description: "The quote you accept (AnalysisQuote.quoteId): refused with PriceChanged if the price moved since." }),
  }),
});

const RUN_ERRORS = [PolicyViolation, NotFound, InvalidInput, AnalysisConflict] as const;

builder.queryField("quoteAnalysis", (t) =>
  t.field({
    type: AnalysisQuoteRef,
    description: "Prices a run of your approved analysis and says its ε, noise and release deadline.",
    authScopes: { buyer: true },
    errors: { types: [...RUN_ERRORS] },
    args: { input: t.arg({ type: QuoteAnalysisInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      ctx.services.analysisRuns.quote(ctx.principal!.account._id, { analysisId: analysisId(input.analysisId), epsilon: epsilonText(input.epsilon) }),
  }),
);

builder.mutationField("runAnalysis", (t) =>
  t.field({
    type: AnalysisRunRef,
    description: "Runs the approved revision once per privacy unit in the sandbox and releases the noised sums at the quoted deadline.",
    authScopes: { buyer: true },
    errors: { types: [...RUN_ERRORS, BudgetExhausted, BudgetDebitConflict, QueryInProgress, ...BILLING_QUERY_ERRORS] },
    args: { input: t.arg({ type: RunAnalysisInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      ctx.services.analysisRuns.run(ctx.principal!.account._id, {
        analysisId: analysisId(input.analysisId),
        epsilon: epsilonText(input.epsilon),
        idempotencyKey: input.idempotencyKey ?? null,
        maxPrice: input.maxPrice ?? null,
        quoteId: input.quoteId ?? null,
      }),
  }),
);

/** The runner takes ε as text; the scalar's number prints as the exact decimal asked for (≤ 6 places). */
function epsilonText(epsilon: number | null | undefined): string | null {
  return epsilon == null ? null : String(epsilon);
}
