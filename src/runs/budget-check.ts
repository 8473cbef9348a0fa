/**
 * Before quoting: ε left under both caps, and whether the same canonical request was answered
 * for this buyer before (then it costs nothing). Refuses with BUDGET_TOO_SMALL when a fresh run
 * would not fit — the ledger's atomic debit still decides for real when the run starts.
 */
import { type PrivacyBudgetService, policyCaps, toMicro } from "../privacy/budget/index.ts";
import { formatEpsilon, type Epsilon } from "../privacy/mechanism/index.ts";
import { PolicyViolation } from "../queries/index.ts";

export interface BudgetStanding {
  buyerLeftMicro: number;
  datasetLeftMicro: number;
  cached: boolean;
}

export async function budgetStanding(
  budgets: PrivacyBudgetService,
  req: {
    buyerId: string;
    datasetId: string;
    versionId: string;
    hash: string;
    epsilon: Epsilon;
    caps: ReturnType<typeof policyCaps>;
    what: "query" | "analysis";
  },
): Promise<BudgetStanding> {
  const [remaining, cachedAnswer] = await Promise.all([
    budgets.remaining({ buyerId: req.buyerId, datasetId: req.datasetId }, req.caps),
    budgets.getCachedAnswer(req.buyerId, req.versionId, req.hash),
  ]);
  const epsilonMicro = toMicro(req.epsilon);
  // Caps were passed in, so both are known; 0 is the safe reading otherwise.
  const buyerLeft = remaining.buyer.remainingMicro ?? 0;
  const datasetLeft = remaining.dataset.remainingMicro ?? 0;
  if (!cachedAnswer && (epsilonMicro > buyerLeft || epsilonMicro > datasetLeft)) {
    const which = epsilonMicro > buyerLeft ? "your budget on this dataset" : "this dataset's global budget";
    throw new PolicyViolation(
      "BUDGET_TOO_SMALL",
      "input.epsilon",
      `this ${req.what} needs ε ${formatEpsilon(req.epsilon)} but ${which} has ${Math.min(buyerLeft, datasetLeft) / 1e6} left`,
    );
  }
  return { buyerLeftMicro: buyerLeft, datasetLeftMicro: datasetLeft, cached: cachedAnswer !== null };
}
