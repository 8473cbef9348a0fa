/** suggestPolicyBounds: the owner spends a small ε on a DP contribution profile and gets bounds suggested from it. */
import { builder } from "../../graphql/builder.ts";
import { InvalidInput, NotFound } from "../../errors.ts";
import { BudgetDebitConflict, BudgetExhausted, QueryInProgress } from "../../privacy/budget/index.ts";
import { PROFILE_EPSILON_MAX } from "../policy-profile.ts";
import { BoundsSuggestionRef } from "./bounds-suggestion.ts";

builder.mutationField("suggestPolicyBounds", (t) =>
  t.field({
    type: BoundsSuggestionRef,
    description:
      "Computes a differentially private profile of how much each privacy unit contributes to one of your datasets (rows per unit " +
      "per group, groups per unit, each measure's values), spending `epsilon` from the dataset's privacy budget (shown there and in " +
      "the audit log), keeps it with the policy (a new policy version: quotes then state the bias of bounding, and each query gets " +
      "bounds tuned inside the caps), and suggests the caps that minimise expected error at the policy's per-query ε. Refused, " +
      "with nothing spent, when the budget cannot cover it.",
    authScopes: { owner: true },
    errors: { types: [NotFound, InvalidInput, BudgetExhausted, BudgetDebitConflict, QueryInProgress] },
    args: {
      datasetId: t.arg.globalID({ required: true }),
      epsilon: t.arg({ type: "Epsilon", description: `ε to spend, at most ${PROFILE_EPSILON_MAX}; the exchange's default (0.1) when omitted.` }),
      datasetVersion: t.arg.int({ description: "The dataset version to profile; the latest when omitted." }),
    },
    resolve: (_root, { datasetId, epsilon, datasetVersion }, ctx) => {
      if (datasetId.typename !== "Dataset") throw new NotFound("dataset");
      return ctx.services.profiler.suggest(ctx.principal!.account._id, {
        datasetId: datasetId.id,
        epsilon: epsilon ?? null,
        datasetVersion: datasetVersion ?? null,
      });
    },
  }),
);
