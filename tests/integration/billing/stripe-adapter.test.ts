/**
 * The Stripe adapter against stripe-mock (STRIPE_MOCK_URL; CI starts it on 127.0.0.1:12111).
 * stripe-mock validates every request's shape against Stripe's OpenAPI spec but keeps no state,
 * so these tests check that each call is well-formed, carries its idempotency key and is read
 * back correctly — and that billing drives it: checkout top-ups, Connect onboarding, payouts.
 * Without STRIPE_MOCK_URL only the rail-independent checks run (global setup says so loudly).
 */
import { describe, expect, it } from "vitest";
import Stripe from "stripe";
import { documentStoreFactories, useStore } from "../../support/stores.ts";
import { StripeGateway, isDefinitive } from "../../../src/billing/payments/stripe.ts";
import { OfflineGateway, OfflineGatewayRefused } from "../../../src/billing/payments/offline.ts";
import { PaymentRailError, PayoutAccountNotReady, PaymentsUnavailable } from "../../../src/billing/errors.ts";
import { PLAN, grant, openBilling, parties } from "./helpers.ts";

const MOCK = process.env.STRIPE_MOCK_URL;
if (!MOCK) console.warn("\n!!! SKIPPING the Stripe adapter's calls: STRIPE_MOCK_URL is not set (start stripe-mock, or run bash .ci/run).\n");

describe("payment rails without Stripe", () => {
  it("refuses the offline rail in production", () => {
    expect(() => new OfflineGateway({ production: true })).toThrow(OfflineGatewayRefused);
    expect(new OfflineGateway({ production: false }).rail).toBe("offline");
  });

  it("treats Stripe's refusals as definitive and network trouble as transient", () => {
    const raw = { message: "x", type: "invalid_request_error" as const };
    expect(isDefinitive(new Stripe.errors.StripeInvalidRequestError(raw))).toBe(true);
    expect(isDefinitive(new Stripe.errors.StripeCardError({ ...raw, type: "card_error" }))).toBe(true);
    expect(isDefinitive(new Stripe.errors.StripeConnectionError({ ...raw, type: "api_error" }))).toBe(false);
    expect(isDefinitive(new Stripe.errors.StripeAPIError({ ...raw, type: "api_error" }))).toBe(false);
  });
});

for (const url of MOCK ? [MOCK] : []) {
  describe("StripeGateway against stripe-mock", () => {
    const gateway = new StripeGateway({ secretKey: "sk_test_billing", apiBase: url });

    it("creates a Checkout Session for a top-up with the top-up's idempotency key", async () => {
      const started = await gateway.startTopUp({
        topUpId: "top_test",
        buyerId: "acc_b",
        amount: 5_000,
        currency: "cny",
        idempotencyKey: "top_test:checkout",
        successUrl: "http://127.0.0.1:4000/ok",
        cancelUrl: "http://127.0.0.1:4000/cancel",
      });
      expect(started.kind).toBe("checkout");
      if (started.kind !== "checkout") return;
      expect(started.sessionId).toMatch(/^cs_/);
      expect(started.url).toMatch(/^https:\/\//);
      const back = await gateway.fetchTopUp(started.sessionId);
      expect(back?.id).toMatch(/^cs_/);
    });

    it("onboards an owner as a Connect account with an onboarding link, and pays out with a Transfer", async () => {
      const payee = await gateway.createPayee("acc_owner", "payee:acc_owner:stripe");
      expect(payee.externalAccountId).toMatch(/^acct_/);
      const link = await gateway.onboardingLink(payee.externalAccountId, "link-1", "http://127.0.0.1:4000/r", "http://127.0.0.1:4000/d");
      expect(link).toMatch(/^https:\/\//);
      const status = await gateway.payeeStatus(payee.externalAccountId);
      expect(typeof status.payoutsEnabled).toBe("boolean");
      const sent = await gateway.sendPayout({
        payoutId: "pay_1",
        ownerId: "acc_owner",
        destination: payee.externalAccountId,
        amount: 12_345,
        currency: "cny",
        idempotencyKey: "payout:trf_1",
      });
      expect(sent.externalId).toMatch(/^tr_/);
      expect((await gateway.fetchPayout(sent.externalId))?.id).toMatch(/^tr_/);
      expect(await gateway.findPayout("pay_1")).toBeNull(); // the mock's transfers carry no payout id of ours
    });

    it("starts a subscription Checkout Session", async () => {
      const s = await gateway.startSubscription({
        subscriptionId: "lsub_1",
        buyerId: "acc_b",
        listingId: "lst_1",
        monthlyFee: 9_900,
        currency: "cny",
        idempotencyKey: "lsub_1:checkout:9900:cny",
        successUrl: "http://127.0.0.1:4000/ok",
        cancelUrl: "http://127.0.0.1:4000/cancel",
      });
      expect(s.sessionId).toMatch(/^cs_/);
    });

    it("turns a request Stripe refuses into PaymentRailError", async () => {
      await expect(
        gateway.sendPayout({ payoutId: "p", ownerId: "o", destination: "acct_1", amount: "many" as never, currency: "cny", idempotencyKey: "bad" }),
      ).rejects.toBeInstanceOf(PaymentRailError);
    });
  });

  describe.each(documentStoreFactories())("billing on the Stripe rail (stripe-mock) on $name", (factory) => {
    const store = useStore(factory);

    it("opens a Checkout top-up without crediting anything until Stripe confirms payment", async () => {
      const billing = await openBilling(store(), { gateway: new StripeGateway({ secretKey: "sk_test_billing", apiBase: url }) });
      const p = parties();
      const top = await billing.topUp(p.buyerId, { amount: 5_000, currency: "cny", idempotencyKey: "t1" });
      expect(top.state).toBe("open");
      expect(top.checkoutUrl).toMatch(/^https:\/\//);
      expect((await billing.credit(p.buyerId)).balance).toBe(0);
      const again = await billing.topUp(p.buyerId, { amount: 5_000, currency: "cny", idempotencyKey: "t1" });
      expect(again._id).toBe(top._id);
      await expect(billing.grantCredit("acc_admin", p.buyerId, { amount: 100, idempotencyKey: "g" })).rejects.toBeInstanceOf(PaymentsUnavailable);
    });

    it("refuses a payout until the Connect account can receive payouts, then sends a Transfer", async () => {
      const billing = await openBilling(store(), {
        gateway: new StripeGateway({ secretKey: "sk_test_billing", apiBase: url }),
        config: { payoutThreshold: 100 },
      });
      const p = parties();
      // earnings come from the offline rail here; the payout goes out through Stripe
      const offline = await openBilling(store());
      await grant(offline, p.buyerId, 10_000);
      const hold = await billing.holdForQuery({ ...p, plan: PLAN, estimate: { epsilon: 1, rowsScanned: 0 }, idempotencyKey: "q" });
      await billing.postQuery(hold._id, { epsilon: 1, rowsScanned: 0, cpuMs: 1 });
      const onboarding = await billing.startPayoutOnboarding(p.ownerId);
      expect(onboarding.onboardingUrl).toMatch(/^https:\/\//);
      expect(onboarding.payee.payoutsEnabled).toBe(false); // stripe-mock's account fixture
      await expect(billing.requestPayout(p.ownerId)).rejects.toBeInstanceOf(PayoutAccountNotReady);
      // Stripe tells us (account.updated) that onboarding finished
      await billing.payees.applyStatus(
        onboarding.payee.externalAccountId,
        { detailsSubmitted: true, payoutsEnabled: true },
        new Date().toISOString(),
      );
      const payout = await billing.requestPayout(p.ownerId);
      expect(payout.state).toBe("paid");
      expect(payout.externalId).toMatch(/^tr_/);
      expect(payout.amount).toBe(880);
      expect((await billing.earnings(p.ownerId)).payable).toBe(0);
      const report = await billing.reconcile();
      expect(report.integrity.ok).toBe(true);
      // stripe-mock answers with fixtures, so the fetched Transfer's amount differs: the report says so
      expect(report.rail.mismatches.some((m) => m.kind === "payout" && m.id === payout._id)).toBe(true);
    });
  });
}
