/** BoundsAtPublish: how contribution bounds were chosen when a listing was first published (issue #16). */
import { builder } from "../../graphql/builder.ts";
import type { BoundsAtPublish } from "../model.ts";

const BoundsOutcomeEnum = builder.enumType("BoundsAtPublishOutcome", {
  values: {
    PROFILED: { description: "A DP contribution profile was made (ε from the dataset's budget) and its suggested caps declared." },
    DEFAULTS: {
      description:
        "The fixed default bounds were kept: the dataset's budget could not cover a profile, or it held too little to choose from (see note).",
    },
  },
});

export const BoundsAtPublishRef = builder.objectRef<BoundsAtPublish>("BoundsAtPublish").implement({
  description:
    "A policy whose bounds were left at their defaults and that had no contribution profile of the listed version gets its bounds " +
    "chosen at the listing's first publication, the way suggestPolicyBounds chooses them.",
  fields: (t) => ({
    outcome: t.field({ type: BoundsOutcomeEnum, resolve: (b) => b.outcome }),
    maxGroupsPerUnit: t.exposeInt("maxGroupsPerUnit"),
    maxRowsPerUnit: t.exposeInt("maxRowsPerUnit"),
    epsilonSpent: t.field({ type: "Epsilon", nullable: true, resolve: (b) => b.epsilonSpent }),
    policyVersion: t.exposeInt("policyVersion", { description: "The policy version in force after publishing." }),
    note: t.exposeString("note"),
  }),
});
