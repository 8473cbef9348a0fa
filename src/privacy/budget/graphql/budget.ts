/**
 * The budget as buyers and owners read it. ε amounts are shown as numbers (exact to the 6th
 * decimal: the ledger keeps integer micro-ε); a null cap means the dataset has no policy.
 */
import { encodeGlobalID } from "@pothos/plugin-relay";
import { builder } from "../../../graphql/builder.ts";
import type { BuyerBudgetView, CapView } from "../service.ts";
import { microToEpsilon } from "../micro.ts";

export interface BuyerBudget extends BuyerBudgetView {
  buyerId: string;
}

export interface DatasetBudget extends CapView {
  datasetId: string;
  buyers: number;
  perBuyerCapMicro: number | null;
  /** The dataset's owner (the viewer), whose own spend is reported apart from the buyers'. */
  ownerId: string;
  ownerSpentMicro: number;
}

/** The dataset's global id, encoded directly: it must not depend on the Dataset type being registered. */
const datasetGlobalId = (datasetId: string): string => encodeGlobalID("Dataset", datasetId);

const eps = (micro: number | null): number | null => (micro === null ? null : microToEpsilon(micro));

export const PrivacyBudgetRef = builder.objectRef<BuyerBudget>("PrivacyBudget").implement({
  description: "Your privacy budget on one dataset (every version of it shares one budget). Visible to you only.",
  authScopes: (b) => ({ self: b.buyerId }),
  fields: (t) => ({
    datasetId: t.id({ resolve: (b) => datasetGlobalId(b.datasetId) }),
    epsilonPerQuery: t.field({
      type: "Epsilon",
      nullable: true,
      description: "The most ε one query may spend.",
      resolve: (b) => eps(b.perQueryMicro),
    }),
    epsilonBudget: t.field({ type: "Epsilon", nullable: true, description: "Your cap on this dataset.", resolve: (b) => eps(b.buyer.capMicro) }),
    epsilonSpent: t.field({ type: "Epsilon", resolve: (b) => microToEpsilon(b.buyer.spentMicro) }),
    epsilonRemaining: t.field({
      type: "Epsilon",
      nullable: true,
      description: "Your cap minus what you spent; never negative.",
      resolve: (b) => eps(b.buyer.remainingMicro),
    }),
    datasetEpsilonRemaining: t.field({
      type: "Epsilon",
      nullable: true,
      description: "What is left of the dataset's global budget, shared by all buyers: it limits you too.",
      resolve: (b) => eps(b.dataset.remainingMicro),
    }),
    queriesRemaining: t.int({
      nullable: true,
      description: "How many more queries at the per-query ε fit under both budgets.",
      resolve: (b) => {
        const per = b.perQueryMicro;
        if (!per || b.buyer.remainingMicro === null || b.dataset.remainingMicro === null) return null;
        return Math.floor(Math.min(b.buyer.remainingMicro, b.dataset.remainingMicro) / per);
      },
    }),
    queriesCharged: t.int({ description: "Queries you were charged ε for (cached repeats are free).", resolve: (b) => b.buyer.debits }),
  }),
});

/** One buyer's spend on a dataset, for the dataset's owner: the buyer by its (pseudonymous) account id. */
const BuyerEpsilonSpendRef = builder.objectRef<{ buyerId: string; spentMicro: number; debits: number }>("BuyerEpsilonSpend").implement({
  description: "What one buyer has spent on one of your datasets.",
  fields: (t) => ({
    buyerId: t.id({ description: "The buyer's Account id (as on its access requests).", resolve: (s) => encodeGlobalID("Account", s.buyerId) }),
    epsilonSpent: t.field({ type: "Epsilon", resolve: (s) => microToEpsilon(s.spentMicro) }),
    queriesCharged: t.int({ resolve: (s) => s.debits }),
  }),
});

export const DatasetPrivacyBudgetRef = builder.objectRef<DatasetBudget>("DatasetPrivacyBudget").implement({
  description: "A dataset's global privacy budget, shared by every buyer. Visible to its owner.",
  fields: (t) => ({
    datasetId: t.id({ resolve: (b) => datasetGlobalId(b.datasetId) }),
    epsilonBudget: t.field({
      type: "Epsilon",
      nullable: true,
      description: "The global cap (the policy's datasetEpsilonBudget).",
      resolve: (b) => eps(b.capMicro),
    }),
    epsilonSpent: t.field({ type: "Epsilon", resolve: (b) => microToEpsilon(b.spentMicro) }),
    epsilonRemaining: t.field({ type: "Epsilon", nullable: true, resolve: (b) => eps(b.remainingMicro) }),
    buyerEpsilonBudget: t.field({
      type: "Epsilon",
      nullable: true,
      description: "Each buyer's own cap.",
      resolve: (b) => eps(b.perBuyerCapMicro),
    }),
    buyers: t.int({ description: "Buyers who have spent ε on it (the owner's own spend is not a buyer's).", resolve: (b) => b.buyers }),
    ownerEpsilonSpent: t.field({
      type: "Epsilon",
      description: "What you spent yourself on this dataset: contribution profiles for bound suggestions (suggestPolicyBounds, bounds at publish).",
      resolve: (b) => microToEpsilon(b.ownerSpentMicro),
    }),
    queriesCharged: t.int({ resolve: (b) => b.debits }),
    spentByBuyer: t.field({
      type: [BuyerEpsilonSpendRef],
      description: "What each buyer has spent, largest first (at most `first`, 1–100). Only the dataset's owner reaches this type.",
      args: { first: t.arg.int({ required: false, defaultValue: 20 }) },
      resolve: (b, { first }, ctx) => ctx.services.privacyBudget.spentByBuyer(b.datasetId, Math.max(1, Math.min(100, first ?? 20)), b.ownerId),
    }),
  }),
});
