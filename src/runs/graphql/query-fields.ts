/** quoteQuery and runQuery: buyers with access ask; every refusal names its rule. */
import { builder } from "../../graphql/builder.ts";
import { InvalidInput, NotFound } from "../../errors.ts";
import { BudgetDebitConflict, BudgetExhausted, QueryInProgress } from "../../privacy/budget/index.ts";
import { PolicyViolation } from "../../queries/index.ts";
import { QueryInput, RunQueryInput, toQueryRequest } from "./inputs.ts";
import { QuoteRef } from "./quote.ts";
import { QueryResultRef } from "./answer.ts";
import { BILLING_QUERY_ERRORS } from "./billing-errors.ts";
import { EngineUnavailable } from "../errors.ts";
import { errorType } from "../../graphql/error-types.ts";

errorType(
  EngineUnavailable,
  "EngineUnavailable",
  "The cluster engine could not compute the query (one answer whatever the cause). Nothing was charged; the ε reserved stays spent.",
);

builder.queryField("quoteQuery", (t) =>
  t.field({
    type: QuoteRef,
    description: "Prices a query and says what it would spend and how noisy it would be, before anything runs.",
    authScopes: { buyer: true },
    errors: { types: [PolicyViolation, NotFound, InvalidInput] },
    args: { input: t.arg({ type: QueryInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      if (input.listingId.typename !== "Listing") throw new NotFound("listing");
      return ctx.services.queries.quote(ctx.principal!.account._id, toQueryRequest(input, input.listingId.id));
    },
  }),
);

builder.mutationField("runQuery", (t) =>
  t.field({
    type: QueryResultRef,
    description: "Runs a query: holds its price, spends its ε, runs it in the sandbox and releases the noised answer.",
    authScopes: { buyer: true },
    errors: {
      types: [
        PolicyViolation,
        NotFound,
        InvalidInput,
        BudgetExhausted,
        BudgetDebitConflict,
        QueryInProgress,
        EngineUnavailable,
        ...BILLING_QUERY_ERRORS,
      ],
    },
    args: { input: t.arg({ type: RunQueryInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      const q = input.query;
      if (q.listingId.typename !== "Listing") throw new NotFound("listing");
      return ctx.services.queries.run(ctx.principal!.account._id, {
        ...toQueryRequest(q, q.listingId.id),
        idempotencyKey: input.idempotencyKey ?? null,
        maxPrice: input.maxPrice ?? null,
        quoteId: input.quoteId ?? null,
      });
    },
  }),
);
