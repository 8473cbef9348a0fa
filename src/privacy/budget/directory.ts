/**
 * What the budget's GraphQL fields need from the policy and catalog modules: a dataset's caps,
 * who owns it, and which dataset a listing sells. The composition root builds it from those
 * modules' services (src/exchange/ports.ts), so this module never reads their collections.
 */
import type { PolicyRules } from "../policy/index.ts";
import { toMicro } from "./micro.ts";

/** A dataset's current caps, in micro-ε. */
export interface BudgetCaps {
  buyerCapMicro: number;
  globalCapMicro: number;
  /** The most ε one query may spend. */
  perQueryMicro: number;
}

export interface BudgetDirectory {
  /** The dataset's caps from its current policy, or null when it has none. */
  caps(datasetId: string): Promise<BudgetCaps | null>;
  /** Throws NotFound unless `accountId` owns the dataset (the same answer when it does not exist). */
  assertOwner(accountId: string, datasetId: string): Promise<void>;
  /** The dataset a published listing sells; NotFound otherwise. */
  datasetOfListing(listingId: string): Promise<string>;
  /** Whether buyers may see this dataset's budget at all (it is on sale). */
  onSale(datasetId: string): Promise<boolean>;
}

/**
 * ε from a policy (a JS number) in micro-ε. Policies should keep to 6 decimal places; anything
 * finer is rounded to the nearest micro-ε.
 */
export function policyEpsilonMicro(epsilon: number): number {
  if (!(epsilon > 0)) return 0;
  const text = epsilon.toFixed(6);
  return /^0\.0+$/.test(text) ? 0 : toMicro(text);
}

/** The caps a debit must pass, from the dataset's current policy. */
export function policyCaps(rules: Pick<PolicyRules, "buyerEpsilonBudget" | "datasetEpsilonBudget" | "epsilonPerQuery">): BudgetCaps {
  return {
    buyerCapMicro: policyEpsilonMicro(rules.buyerEpsilonBudget),
    globalCapMicro: policyEpsilonMicro(rules.datasetEpsilonBudget),
    perQueryMicro: policyEpsilonMicro(rules.epsilonPerQuery),
  };
}
