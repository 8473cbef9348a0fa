/** A privacy budget service on a real store with a real audit log, and checks over what it stored. */
import { expect } from "vitest";
import type { DocumentStore } from "../../../src/store/port.ts";
import type { AuditLog } from "../../../src/audit/service.ts";
import { newId } from "../../../src/ids.ts";
import { PrivacyBudgetService, type PrivacyBudgetServiceDeps } from "../../../src/privacy/budget/service.ts";
import { buyerAccountId, datasetAccountId } from "../../../src/privacy/budget/model.ts";
import { openTestAuditLog } from "../../support/audit.ts";
import { NO_READ_SIDE } from "../../support/budget-directory.ts";

export interface Harness {
  budget: PrivacyBudgetService;
  audit: AuditLog;
}

export async function openBudget(store: DocumentStore, deps: Partial<Omit<PrivacyBudgetServiceDeps, "audit">> = {}): Promise<Harness> {
  const audit = await openTestAuditLog(store);
  const budget = await PrivacyBudgetService.open(store, { audit, directory: NO_READ_SIDE, ...deps });
  return { budget, audit };
}

export const eps = (e: number) => Math.round(e * 1_000_000);

export function ids() {
  return { datasetId: newId("ds"), buyerId: newId("acc"), other: newId("acc") };
}

/**
 * The ledger agrees with itself: every account's spend is exactly the sum of its debited entries
 * (when `exact`; at least that otherwise), no marker is left behind, and nothing is over a cap.
 */
export async function expectConsistent(
  budget: PrivacyBudgetService,
  datasetId: string,
  opts: { exact?: boolean; globalCapMicro?: number } = {},
): Promise<{ globalSpentMicro: number; debitedMicro: number }> {
  const exact = opts.exact ?? true;
  const entries = (await budget.ledger.entries.find({ datasetId }, { limit: 5000 })).items;
  const outcomes = (await budget.ledger.outcomes.find({ datasetId }, { limit: 5000 })).items;
  // Every request has its outcome, and no work is owed on any of them.
  expect(outcomes.map((o) => o._id).sort()).toEqual(entries.map((e) => e._id).sort());
  expect((await budget.ledger.open.find({ datasetId }, { limit: 10 })).items).toEqual([]);
  const debited = outcomes.filter((e) => e.state === "debited");
  const debitedMicro = debited.reduce((s, e) => s + e.epsilonMicro, 0);
  const global = await budget.ledger.datasetAccounts.get(datasetAccountId(datasetId));
  const globalSpent = global?.spentMicro ?? 0;
  if (exact) expect(globalSpent).toBe(debitedMicro);
  else expect(globalSpent).toBeGreaterThanOrEqual(debitedMicro);
  if (opts.globalCapMicro !== undefined) expect(globalSpent).toBeLessThanOrEqual(opts.globalCapMicro);
  expect(global?.inflight ?? {}).toEqual({});
  const buyers = new Set(entries.map((e) => e.buyerId));
  for (const buyerId of buyers) {
    const account = await budget.ledger.buyerAccounts.get(buyerAccountId(datasetId, buyerId));
    const mine = debited.filter((e) => e.buyerId === buyerId).reduce((s, e) => s + e.epsilonMicro, 0);
    if (exact) expect(account?.spentMicro ?? 0).toBe(mine);
    else expect(account?.spentMicro ?? 0).toBeGreaterThanOrEqual(mine);
    expect(account?.inflight ?? {}).toEqual({});
    expect(account?.spentMicro ?? 0).toBeGreaterThanOrEqual(0);
  }
  return { globalSpentMicro: globalSpent, debitedMicro };
}
