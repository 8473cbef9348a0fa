/**
 * What the privacy budget ledger stores. ε amounts are INTEGER micro-ε (ε × 10^6): policies and
 * queries give ε as decimals with at most 6 places (src/privacy/mechanism/epsilon.ts), so every
 * amount is exact and sums never drift.
 *
 * Budgets are kept per dataset id, never per dataset version: a new version holds the same
 * people, so it must not reset what was already learnt about them.
 */
import type { IndexSpec, JsonValue } from "../../store/port.ts";

/**
 * One running total: a buyer's spend on a dataset (`kind: "buyer"`), or everyone's spend on a
 * dataset (`kind: "dataset"`, the global cap that duplicate or colluding accounts cannot pool
 * around). `_id` is `accountDocId(...)`.
 */
export interface BudgetAccount {
  kind: "buyer" | "dataset";
  datasetId: string;
  /** The buyer for `kind: "buyer"`; null on the dataset's global account. */
  buyerId: string | null;
  spentMicro: number;
  /** How many debits are counted in `spentMicro`. */
  debits: number;
  /**
   * Charges whose ledger entry is not tidied yet, by `markerKey(entryId)` → micro-ε. A marker
   * makes a charge idempotent (a second driver of the same entry sees it and does not charge
   * again) and tells recovery exactly whether the charge landed.
   */
  inflight: Record<string, number>;
  createdAt: string;
  updatedAt: string;
}

export type CapKind = "BUYER" | "DATASET";

/**
 * One debit request, keyed by (buyer, query id): inserted once and never changed, so a repeated
 * query id finds the first request instead of starting a second one. `_id` is
 * `entryDocId(buyerId, queryId)`. It is pending until its outcome exists.
 */
export interface BudgetEntry {
  queryId: string;
  buyerId: string;
  datasetId: string;
  epsilonMicro: number;
  /** The caps in force when the debit was asked for (from the policy at that time). */
  buyerCapMicro: number;
  globalCapMicro: number;
  createdAt: string;
}

/**
 * How a debit ended: inserted once under the entry's id, so the first driver to settle an entry
 * decides and no one can change it afterwards. Carries the request's ids and ε so reports need
 * no join.
 */
export interface BudgetOutcome {
  queryId: string;
  buyerId: string;
  datasetId: string;
  epsilonMicro: number;
  state: "debited" | "refused";
  /** Which cap refused it, when refused. */
  refusedBy: CapKind | null;
  /** What was left after the debit (debited), or under the refusing cap (refused; the other null). */
  buyerRemainingMicro: number | null;
  globalRemainingMicro: number | null;
  settledAt: string;
}

/**
 * Work still owed on an entry: inserted when a driver starts charging it, deleted once its
 * outcome exists, its markers are cleared (or refunded) and its audit event is recorded. Small
 * (only debits in flight or interrupted), so recovery scans it cheaply on every backend.
 * `_id` is the entry's id.
 */
export interface OpenDebit {
  buyerId: string;
  datasetId: string;
  createdAt: string;
}

/**
 * A released (already noised) answer, cached so the same buyer asking the same canonical query on
 * the same dataset version gets the same answer at no ε cost. Inserted once; `_id` is
 * `answerKey(...)`.
 */
export interface ReleasedAnswer {
  buyerId: string;
  datasetId: string;
  datasetVersionId: string;
  /** Hex SHA-256 of the canonical query IR. */
  queryHash: string;
  /** The query whose debit paid for this answer. */
  queryId: string;
  epsilonMicro: number;
  answer: JsonValue;
  createdAt: string;
}

/**
 * Who is computing the answer for one cache key right now, so that concurrent identical queries
 * debit once: the first inserts the claim, the others wait for its answer. `_id` = answer key.
 */
export interface AnswerClaim {
  buyerId: string;
  datasetVersionId: string;
  queryHash: string;
  queryId: string;
  /** "open" once the claimer gave up (refused, or its run failed): the next asker may claim it. */
  state: "claimed" | "open";
  claimedAt: string;
}

/**
 * Buyer and dataset accounts live in separate collections: the dataset account is the hot
 * document every debit on a dataset updates, and on FerretDB a conditional update scans its
 * collection, so that collection stays small (one document per dataset).
 */
export const BUDGET_COLLECTIONS: Record<
  "buyerAccounts" | "datasetAccounts" | "entries" | "outcomes" | "open" | "answers" | "claims",
  { name: string; indexes: IndexSpec[] }
> = {
  buyerAccounts: { name: "privacy_budget_buyers", indexes: [{ fields: ["datasetId", "spentMicro"] }] },
  datasetAccounts: { name: "privacy_budget_datasets", indexes: [] },
  entries: { name: "privacy_budget_entries", indexes: [{ fields: ["datasetId", "createdAt"] }, { fields: ["buyerId", "datasetId", "createdAt"] }] },
  outcomes: { name: "privacy_budget_outcomes", indexes: [{ fields: ["datasetId", "state"] }, { fields: ["buyerId", "datasetId", "state"] }] },
  open: { name: "privacy_budget_open", indexes: [{ fields: ["createdAt"] }] },
  answers: { name: "privacy_answers", indexes: [{ fields: ["buyerId", "datasetVersionId"] }] },
  claims: { name: "privacy_answer_claims", indexes: [] },
};

// Ids use "|", which no validated id contains, so two different pairs can never make one id.
export function buyerAccountId(datasetId: string, buyerId: string): string {
  return `b|${datasetId}|${buyerId}`;
}

export function datasetAccountId(datasetId: string): string {
  return `d|${datasetId}`;
}

export function entryDocId(buyerId: string, queryId: string): string {
  return `${buyerId}|${queryId}`;
}
