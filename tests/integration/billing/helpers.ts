/** Opens a BillingService on a test store, with a real audit log, for store-level billing suites. */
import { tradeTotals } from "../../../src/audit/reports.ts";
import type { DocumentStore } from "../../../src/store/port.ts";
import { BillingService, type ListingPriceLookup } from "../../../src/billing/service.ts";
import { DEFAULT_BILLING_CONFIG, type BillingConfig } from "../../../src/billing/config.ts";
import type { PaymentGateway } from "../../../src/billing/payments/port.ts";
import { accountKey } from "../../../src/billing/ledger/accounts.ts";
import type { PricePlan } from "../../../pricing/index.ts";
import { newId } from "../../../src/ids.ts";
import type { KeyObject } from "node:crypto";
import { newSigningKey, openTestAuditLog } from "../../support/audit.ts";

/** One audit signing key for the whole test process: every handle on a log must sign with the same key. */
const KEY: KeyObject = newSigningKey();

export async function openBilling(
  store: DocumentStore,
  options: { now?: () => Date; gateway?: PaymentGateway | null; config?: Partial<BillingConfig>; listingPrices?: ListingPriceLookup } = {},
): Promise<BillingService> {
  const audit = await openTestAuditLog(store, { key: KEY, ...(options.now ? { now: options.now } : {}) });
  return BillingService.open(store, {
    audit,
    config: { ...DEFAULT_BILLING_CONFIG, ...options.config },
    production: false,
    // Billing alone knows no listings unless a test says which (the catalog supplies them in the exchange).
    listingPrices: options.listingPrices ?? (async () => null),
    // Reconciliation compares the ledger with this log's trade.settled events, as in the exchange.
    tradeLog: () => tradeTotals(audit),
    ...(options.now ? { now: options.now } : {}),
    ...(options.gateway !== undefined ? { gateway: options.gateway } : {}),
  });
}

export const PLAN: PricePlan = {
  currency: "cny",
  perQueryFee: 100,
  pricePerEpsilon: 1000,
  pricePerMillionRows: 10,
  platformFeeBasisPoints: 2000,
  freeTier: null,
  subscription: null,
  monthlySpendingCap: null,
};

/** A fresh buyer/owner/listing triple, so suites sharing a store never collide. */
export function parties() {
  return { buyerId: newId("acc"), ownerId: newId("acc"), listingId: newId("lst") };
}

export async function grant(billing: BillingService, buyerId: string, amount: number, key = newId("k")): Promise<void> {
  await billing.grantCredit("acc_admin", buyerId, { amount, currency: "cny", idempotencyKey: key });
}

export async function balances(billing: BillingService, p: { buyerId: string; ownerId: string }) {
  const buyer = await billing.ledger.balance(accountKey.buyerCredit(p.buyerId, "cny"));
  const owner = await billing.ledger.balance(accountKey.ownerPayable(p.ownerId, "cny"));
  const platform = await billing.ledger.balance(accountKey.platformRevenue("cny"));
  return { buyer, owner: owner.balance, platform: platform.balance };
}
