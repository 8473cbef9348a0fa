/**
 * Subscriptions and the Stripe events that are not top-ups, on every store adapter:
 * paying a month from credit (once per month), the allowance it adds to quotes, Stripe
 * subscriptions booked from `invoice.paid` (once per invoice) and ended by
 * `customer.subscription.deleted`, and `account.updated` applied only if newer.
 * Events are signed with stripe.webhooks.generateTestHeaderString and fed to the handler.
 */
import { describe, expect, it } from "vitest";
import Stripe from "stripe";
import { documentStoreFactories, useStore } from "../../support/stores.ts";
import { InsufficientCredit, NoSubscriptionOffered } from "../../../src/billing/errors.ts";
import { StripeGateway } from "../../../src/billing/payments/stripe.ts";
import type { BillingService, ListingPriceLookup } from "../../../src/billing/service.ts";
import { accountKey } from "../../../src/billing/ledger/accounts.ts";
import { PLAN, grant, openBilling, parties } from "./helpers.ts";

const SECRET = "whsec_subscriptions_test";
const signer = new Stripe("sk_test_signer");
const MOCK = process.env.STRIPE_MOCK_URL;
const SUB_PLAN = { ...PLAN, subscription: { monthlyFee: 3_000, queries: 5, epsilon: 1 } };

function event(id: string, type: string, object: Record<string, unknown>, created = Math.floor(Date.now() / 1000)): { body: Buffer; sig: string } {
  const body = JSON.stringify({ id, object: "event", created, livemode: false, type, data: { object } });
  return { body: Buffer.from(body), sig: signer.webhooks.generateTestHeaderString({ payload: body, secret: SECRET }) };
}

async function deliver(billing: BillingService, e: { body: Buffer; sig: string }) {
  return billing.handleStripeWebhook(e.body, e.sig);
}

const stripeConfig = (apiBase: string | null) => ({
  stripe: { secretKey: "sk_test_subs", webhookSecret: SECRET, apiBase, webhookToleranceSeconds: 300 },
});

describe.each(documentStoreFactories())("subscriptions and Stripe events on $name", (factory) => {
  const store = useStore(factory);

  it("pays a month from credit once, and the allowance then prices queries", async () => {
    const p = parties();
    let prices: ListingPriceLookup = async (id) =>
      id === p.listingId ? { ownerId: p.ownerId, datasetId: "ds_subs", plan: SUB_PLAN, published: true } : null;
    const billing = await openBilling(store(), { listingPrices: (id) => prices(id) });
    await grant(billing, p.buyerId, 2_000);
    await expect(billing.subscribe(p.buyerId, p.listingId, "credit")).rejects.toBeInstanceOf(InsufficientCredit);
    expect((await billing.credit(p.buyerId)).balance).toBe(2_000);
    await grant(billing, p.buyerId, 3_000);
    const sub = await billing.subscribe(p.buyerId, p.listingId, "credit");
    expect(sub.state).toBe("active");
    await billing.subscribe(p.buyerId, p.listingId, "credit"); // same month: no second charge
    expect((await billing.credit(p.buyerId)).balance).toBe(2_000);
    expect((await billing.earnings(p.ownerId)).payable).toBe(2_400); // 80 % of 3000
    // The fee is a trade in the log (kind subscription, with the platform's 20 %), and the book agrees with it.
    const rec = await billing.reconcile();
    expect(rec.log).toEqual([
      expect.objectContaining({
        currency: "cny",
        salesMinor: 3_000,
        ledgerSalesMinor: 3_000,
        platformFeeMinor: 600,
        ledgerPlatformFeeMinor: 600,
        agrees: true,
      }),
    ]);
    const quote = await billing.quoteForQuery({ ...p, plan: SUB_PLAN, estimate: { epsilon: 0.5, rowsScanned: 1_000 } });
    expect(quote.amount).toBe(0);
    await expect(billing.subscribe(p.buyerId, parties().listingId, "credit")).rejects.toThrow(/listing not found/);
    prices = async () => ({ ownerId: p.ownerId, datasetId: "ds_subs", plan: PLAN, published: true });
    await expect(billing.subscribe(p.buyerId, "lst_other", "credit")).rejects.toBeInstanceOf(NoSubscriptionOffered);
  });

  it("applies account.updated only when it is newer than what it knows", async () => {
    const billing = await openBilling(store(), { config: stripeConfig(null) });
    const p = parties();
    const { payee } = await billing.startPayoutOnboarding(p.ownerId);
    const acct = { id: payee.externalAccountId, object: "account", details_submitted: false, payouts_enabled: false };
    const now = Math.floor(Date.now() / 1000);
    expect((await deliver(billing, event("evt_new", "account.updated", { ...acct, payouts_enabled: false }, now + 60))).status).toBe(200);
    expect((await deliver(billing, event("evt_old", "account.updated", { ...acct, payouts_enabled: true }, now - 60))).status).toBe(200);
    expect((await billing.payees.get(p.ownerId))?.payoutsEnabled).toBe(false);
  });

  for (const url of MOCK ? [MOCK] : []) {
    it("books a Stripe subscription's invoices once each and ends it on deletion", async () => {
      const p = parties();
      const billing = await openBilling(store(), {
        gateway: new StripeGateway({ secretKey: "sk_test_subs", apiBase: url }),
        config: stripeConfig(url),
        listingPrices: async () => ({ ownerId: p.ownerId, datasetId: "ds_subs", plan: SUB_PLAN, published: true }),
      });
      const pending = await billing.subscribe(p.buyerId, p.listingId, "checkout");
      expect(pending.state).toBe("pending");
      expect(pending.checkoutUrl).toMatch(/^https:\/\//);
      expect(await billing.subscriptions.isActive(p.buyerId, p.listingId, new Date())).toBe(false);

      const session = {
        id: "cs_sub",
        object: "checkout.session",
        mode: "subscription",
        subscription: "sub_ext_1",
        metadata: { subscriptionId: pending._id },
      };
      expect((await deliver(billing, event("evt_sc", "checkout.session.completed", session))).status).toBe(200);
      const periodEnd = Math.floor(Date.now() / 1000) + 30 * 86_400;
      const invoice = {
        id: "in_1",
        object: "invoice",
        amount_paid: 3_000,
        currency: "cny",
        parent: { type: "subscription_details", subscription_details: { subscription: "sub_ext_1", metadata: { subscriptionId: pending._id } } },
        lines: { object: "list", data: [{ period: { start: periodEnd - 30 * 86_400, end: periodEnd } }] },
      };
      for (const id of ["evt_inv", "evt_inv", "evt_inv_again"]) expect((await deliver(billing, event(id, "invoice.paid", invoice))).status).toBe(200);
      expect(await billing.subscriptions.isActive(p.buyerId, p.listingId, new Date())).toBe(true);
      expect((await billing.earnings(p.ownerId)).payable).toBe(2_400);
      expect((await billing.ledger.balance(accountKey.clearing("stripe", "cny"))).balance).toBeLessThanOrEqual(-3_000);
      const transfers = await billing.ledger.transfers.docs.count({ kind: "subscription", "refs.subscriptionId": pending._id });
      expect(transfers).toBe(1);

      expect((await deliver(billing, event("evt_del", "customer.subscription.deleted", { id: "sub_ext_1", object: "subscription" }))).status).toBe(
        200,
      );
      expect(await billing.subscriptions.isActive(p.buyerId, p.listingId, new Date())).toBe(false);
      const report = await billing.ledger.checkIntegrity();
      expect(report.problems).toEqual([]);
    });
  }
});
