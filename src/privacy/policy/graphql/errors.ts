import { builder } from "../../../graphql/builder.ts";
import { DomainErrorInterface, errorType } from "../../../graphql/error-types.ts";
import { BudgetBelowSpent, DatasetNotReady } from "../errors.ts";

builder.objectType(BudgetBelowSpent, {
  name: "BudgetBelowSpent",
  description: "The change would set a privacy budget below the ε already spent against it. Nothing changed.",
  interfaces: [DomainErrorInterface],
  isTypeOf: (v) => v instanceof BudgetBelowSpent,
  fields: (t) => ({
    field: t.exposeString("field", { description: '"buyerEpsilonBudget" or "datasetEpsilonBudget".' }),
    requested: t.exposeFloat("requested"),
    spent: t.exposeFloat("spent"),
  }),
});

errorType(DatasetNotReady, "DatasetNotReady", "The dataset has no uploaded version yet, so there is no schema to check against.");
