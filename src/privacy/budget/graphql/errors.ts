import { builder } from "../../../graphql/builder.ts";
import { DomainErrorInterface, errorType } from "../../../graphql/error-types.ts";
import { BudgetDebitConflict, BudgetExhausted, QueryInProgress } from "../errors.ts";
import { microToEpsilon } from "../micro.ts";

export const BudgetCapEnum = builder.enumType("BudgetCap", {
  description: "Which privacy budget a query ran into.",
  values: {
    BUYER: { description: "Your own ε budget on this dataset." },
    DATASET: { description: "The dataset's global ε budget, shared by every buyer." },
  },
});

builder.objectType(BudgetExhausted, {
  name: "BudgetExhausted",
  description: "The query needs more ε than is left under one of the dataset's budgets. Nothing was charged.",
  interfaces: [DomainErrorInterface],
  isTypeOf: (v) => v instanceof BudgetExhausted,
  fields: (t) => ({
    cap: t.field({ type: BudgetCapEnum, resolve: (e) => e.cap }),
    epsilonRequested: t.field({ type: "Epsilon", resolve: (e) => microToEpsilon(e.requestedMicro) }),
    epsilonRemaining: t.field({ type: "Epsilon", resolve: (e) => microToEpsilon(e.remainingMicro) }),
  }),
});

builder.objectType(BudgetDebitConflict, {
  name: "BudgetDebitConflict",
  description: "The query id was already used for a different debit (another dataset or ε). Nothing was charged.",
  interfaces: [DomainErrorInterface],
  isTypeOf: (v) => v instanceof BudgetDebitConflict,
  fields: (t) => ({ queryId: t.exposeString("queryId") }),
});

errorType(QueryInProgress, "QueryInProgress", "The same query is being answered right now; ask again shortly. Nothing was charged.");
