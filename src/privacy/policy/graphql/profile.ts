/** PolicyProfile: what a policy version says of the DP contribution profile kept with it (not the histograms). */
import { builder } from "../../../graphql/builder.ts";
import type { PolicyProfile } from "../model.ts";

export const ProfileReasonEnum = builder.enumType("ContributionProfileReason", {
  values: {
    SUGGESTED: { description: "The owner asked for suggested bounds (suggestPolicyBounds)." },
    PUBLISH: { description: "A listing was published with the policy's default bounds and no profile." },
  },
});

export const PolicyProfileRef = builder.objectRef<PolicyProfile>("ContributionProfile").implement({
  description:
    "A differentially private profile of how much each privacy unit contributes to one dataset version, paid for with ε from the " +
    "dataset's budget. Quotes on that version state the bias of contribution bounding from it, and each query gets bounds tuned " +
    "inside the policy's caps.",
  fields: (t) => ({
    profileId: t.exposeString("profileId"),
    datasetVersion: t.exposeInt("datasetVersion", { description: "The dataset version it describes; other versions do not use it." }),
    epsilon: t.field({ type: "Epsilon", description: "ε it spent.", resolve: (p) => Number(p.epsilon) }),
    reason: t.field({ type: ProfileReasonEnum, resolve: (p) => p.reason }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});
