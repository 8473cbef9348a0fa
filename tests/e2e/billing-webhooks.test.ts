/**
 * POST /webhooks/stripe over real HTTP: the signature is checked on the raw bytes; forged,
 * altered, stale and unsigned deliveries are refused and change nothing; a paid Checkout
 * credits the buyer once however often and in whatever order Stripe delivers its events.
 * Payloads are signed with stripe.webhooks.generateTestHeaderString. The credit path needs
 * stripe-mock (STRIPE_MOCK_URL) to open the Checkout Session; the forgery checks do not.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import Stripe from "stripe";
import { availableAdapters, startTestExchange, type TestExchange } from "../support/exchange.ts";

const SECRET = "whsec_e2e_billing_secret";
const stripe = new Stripe("sk_test_e2e");
const MOCK = process.env.STRIPE_MOCK_URL;

function sign(payload: string, options: { secret?: string; timestamp?: number } = {}): string {
  return stripe.webhooks.generateTestHeaderString({
    payload,
    secret: options.secret ?? SECRET,
    ...(options.timestamp !== undefined ? { timestamp: options.timestamp } : {}),
  });
}

function checkoutEvent(id: string, type: string, session: Record<string, unknown>): string {
  // Pretty-printed and with non-ASCII text on purpose: the signature covers these exact bytes.
  return JSON.stringify(
    {
      id,
      object: "event",
      api_version: "2026-10-28.endive",
      created: Math.floor(Date.now() / 1000),
      livemode: false,
      type,
      data: { object: { object: "checkout.session", mode: "payment", currency: "cny", custom_text: "数据交易 — 充值", ...session } },
    },
    null,
    2,
  );
}

describe.each(availableAdapters())("Stripe webhooks over HTTP on %s", (adapter) => {
  let ex: TestExchange;
  let buyerKey = "";
  let buyerId = "";

  const post = (body: string, signature?: string) =>
    fetch(`${ex.url}/webhooks/stripe`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(signature ? { "stripe-signature": signature } : {}) },
      body,
    });

  beforeAll(async () => {
    ex = await startTestExchange(adapter, {
      STRIPE_SECRET_KEY: "sk_test_e2ebilling",
      STRIPE_WEBHOOK_SECRET: SECRET,
      // Forgery checks make no Stripe call; without stripe-mock the address just stays unused.
      STRIPE_API_BASE: MOCK ?? "http://127.0.0.1:9",
    });
    const buyer = await ex.services.accounts.createAccount("buyer@webhooks.test", "Correct-Horse-42", ["BUYER"]);
    buyerId = buyer._id;
    buyerKey = (await ex.services.accounts.createApiKey(buyer._id, "b")).secret;
  });
  afterAll(async () => {
    await ex?.stop();
  });

  it("refuses unsigned, forged, altered and stale deliveries, and stores nothing", async () => {
    const body = checkoutEvent("evt_forged", "checkout.session.completed", {
      id: "cs_x",
      payment_status: "paid",
      amount_total: 9_999,
      metadata: { topUpId: "top_x" },
    });
    expect((await post(body)).status).toBe(400);
    expect((await post(body, sign(body, { secret: "whsec_someone_else" }))).status).toBe(400);
    expect((await post(body.replace("9999", "99999"), sign(body))).status).toBe(400);
    const stale = await post(body, sign(body, { timestamp: Math.floor(Date.now() / 1000) - 600 }));
    expect(stale.status).toBe(400);
    expect(await stale.json()).toEqual({ error: "invalid Stripe signature or timestamp" });
    expect(await ex.services.billing.webhooks!.events.count({})).toBe(0);
    expect((await ex.services.billing.credit(buyerId)).balance).toBe(0);
  });

  it("ignores a correctly signed event about something that is not ours", async () => {
    const body = checkoutEvent("evt_foreign", "checkout.session.completed", {
      id: "cs_foreign",
      payment_status: "paid",
      amount_total: 100,
      metadata: {},
    });
    const res = await post(body, sign(body));
    expect(res.status).toBe(200);
    expect((await ex.services.billing.webhooks!.events.get("evt_foreign"))?.state).toBe("ignored");
  });

  for (const url of MOCK ? [MOCK] : []) {
    it(`credits a paid Checkout top-up once, whatever is repeated or reordered (stripe-mock at ${url})`, async () => {
      const started = await ex.gql(
        `mutation { topUpCredit(input: { amount: 8800, idempotencyKey: "w1" }) { __typename ... on MutationTopUpCreditSuccess { data { id status checkoutUrl rail } } ... on DomainError { code message } } }`,
        {},
        buyerKey,
      );
      const top = started.body.data.topUpCredit.data;
      expect(top).toMatchObject({ status: "OPEN", rail: "STRIPE" });
      expect(top.checkoutUrl).toMatch(/^https:\/\//);
      const topUpId = Buffer.from(top.id, "base64").toString().split(":")[1]!;
      expect((await ex.services.billing.credit(buyerId)).balance).toBe(0);

      // Stripe says "expired" late, after "completed" — and sends "completed" twice, and the async success too
      const session = {
        id: "cs_test_paid",
        payment_status: "paid",
        amount_total: 8_800,
        client_reference_id: topUpId,
        metadata: { topUpId, buyerId },
      };
      const completed = checkoutEvent("evt_completed", "checkout.session.completed", session);
      const asyncOk = checkoutEvent("evt_async", "checkout.session.async_payment_succeeded", session);
      const expired = checkoutEvent("evt_expired", "checkout.session.expired", { ...session, payment_status: "unpaid" });
      for (const [body, dup] of [
        [completed, false],
        [completed, true],
        [asyncOk, false],
        [expired, false],
        [completed, true],
      ] as const) {
        const res = await post(body, sign(body));
        expect(res.status).toBe(200);
        expect((await res.json()).duplicate ?? false).toBe(dup);
      }
      expect((await ex.services.billing.credit(buyerId)).balance).toBe(8_800);
      // a later event that disagrees about the amount is recorded and ignored: the first stands
      const disagreeing = checkoutEvent("evt_other_amount", "checkout.session.completed", { ...session, amount_total: 1 });
      expect((await post(disagreeing, sign(disagreeing))).status).toBe(200);
      expect((await ex.services.billing.webhooks!.events.get("evt_other_amount"))?.state).toBe("ignored");
      expect((await ex.services.billing.credit(buyerId)).balance).toBe(8_800);
      const credit = await ex.gql(`{ credit { balance } topUps(first: 1) { edges { node { status paidAmount } } } }`, {}, buyerKey);
      expect(credit.body.data.credit.balance).toBe(8_800);
      expect(credit.body.data.topUps.edges[0].node).toEqual({ status: "PAID", paidAmount: 8_800 });
      const report = await ex.services.billing.ledger.checkIntegrity();
      expect(report.ok && report.sumOfBalances === 0).toBe(true);
    });

    it(`does not credit a Checkout that is not paid yet (stripe-mock at ${url})`, async () => {
      const started = await ex.gql(
        `mutation { topUpCredit(input: { amount: 300, idempotencyKey: "w2" }) { ... on MutationTopUpCreditSuccess { data { id } } } }`,
        {},
        buyerKey,
      );
      const topUpId = Buffer.from(started.body.data.topUpCredit.data.id, "base64").toString().split(":")[1]!;
      const before = (await ex.services.billing.credit(buyerId)).balance;
      const body = checkoutEvent("evt_unpaid", "checkout.session.completed", {
        id: "cs_u",
        payment_status: "unpaid",
        amount_total: 300,
        metadata: { topUpId },
      });
      expect((await post(body, sign(body))).status).toBe(200);
      expect((await ex.services.billing.credit(buyerId)).balance).toBe(before);
      // the payment succeeds later
      const ok = checkoutEvent("evt_paid_later", "checkout.session.async_payment_succeeded", {
        id: "cs_u",
        payment_status: "paid",
        amount_total: 300,
        metadata: { topUpId },
      });
      expect((await post(ok, sign(ok))).status).toBe(200);
      expect((await ex.services.billing.credit(buyerId)).balance).toBe(before + 300);
    });
  }
});
