/**
 * The billing demo as a new user meets it, over real HTTP on every store adapter, on the
 * offline rail: a buyer tops up, runs priced queries (the query engine's calls are made
 * in-process, as it will make them), sees holds and receipts; the owner sees earnings,
 * onboards and requests a payout; the admin's reconciliation says the book balances to zero.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { availableAdapters, startTestExchange, type TestExchange } from "../support/exchange.ts";
import type { PricePlan } from "../../pricing/index.ts";

const PLAN: PricePlan = {
  currency: "cny",
  perQueryFee: 200,
  pricePerEpsilon: 3_000,
  pricePerMillionRows: 50,
  platformFeeBasisPoints: 1_500,
  freeTier: { queries: 1, epsilon: 0 },
  subscription: null,
  monthlySpendingCap: null,
};

const TOP_UP = /* GraphQL */ `
  mutation ($input: TopUpCreditInput!) {
    topUpCredit(input: $input) {
      __typename
      ... on MutationTopUpCreditSuccess { data { id amount currency rail status checkoutUrl } }
      ... on InvalidInput { issues { path message } }
      ... on DomainError { code message }
    }
  }`;

const BUYER_VIEW = /* GraphQL */ `
  {
    credit { currency balance held available }
    queryHolds(first: 10) { edges { node { state amount charged released } } }
    receipts(first: 10) { edges { node { quoted price epsilon rowsPriced currency } } }
    topUps(first: 5) { edges { node { amount status rail } } }
  }`;

const OWNER_VIEW = /* GraphQL */ `
  {
    earnings { currency payable paidOut earned payoutThreshold canRequestPayout }
    sales(first: 10) { edges { node { price platformFee ownerShare } } }
    payouts(first: 5) { edges { node { amount status rail } } }
    payoutAccount { rail ready }
  }`;

const ONBOARD = /* GraphQL */ `
  mutation { startPayoutOnboarding { __typename ... on MutationStartPayoutOnboardingSuccess { data { onboardingUrl account { rail ready } } } } }`;

const PAYOUT = /* GraphQL */ `
  mutation {
    requestPayout {
      __typename
      ... on MutationRequestPayoutSuccess { data { amount status rail } }
      ... on BelowPayoutThreshold { payable threshold }
      ... on DomainError { code message }
    }
  }`;

const RECONCILE = /* GraphQL */ `
  {
    reconciliation {
      balanced
      ledger { ok problems sumOfBalances pendingTransfers }
      currencies { currency buyerCredit buyerHeld ownerPayable platformRevenue offlineClearing }
      meter { queries price capturedByLedger agrees }
      holds { open agrees }
    }
  }`;

describe.each(availableAdapters())("the billing demo over HTTP on %s", (adapter) => {
  let ex: TestExchange;
  const ids: Record<"buyer" | "owner" | "admin", string> = { buyer: "", owner: "", admin: "" };
  const keys: Record<"buyer" | "owner" | "admin", string> = { buyer: "", owner: "", admin: "" };

  beforeAll(async () => {
    ex = await startTestExchange(adapter, { PAYOUT_THRESHOLD: "500" });
    for (const [who, role] of [
      ["buyer", "BUYER"],
      ["owner", "OWNER"],
      ["admin", "ADMIN"],
    ] as const) {
      const account = await ex.services.accounts.createAccount(`${who}@billing.test`, "Correct-Horse-42", [role]);
      ids[who] = account._id;
      keys[who] = (await ex.services.accounts.createApiKey(account._id, who)).secret;
    }
  });
  afterAll(async () => {
    await ex?.stop();
  });

  it("runs the whole money loop and the ledger balances to zero", async () => {
    // 1. the buyer tops up on the offline rail: credited at once
    const bad = await ex.gql(TOP_UP, { input: { amount: 5, idempotencyKey: "t0" } }, keys.buyer);
    expect(bad.body.data.topUpCredit.__typename).toBe("InvalidInput");
    expect(bad.body.data.topUpCredit.issues[0].path).toBe("input.amount");
    const top = await ex.gql(TOP_UP, { input: { amount: 20_000, idempotencyKey: "t1" } }, keys.buyer);
    expect(top.body.data.topUpCredit.data).toMatchObject({ amount: 20_000, currency: "cny", rail: "OFFLINE", status: "PAID", checkoutUrl: null });
    await ex.gql(TOP_UP, { input: { amount: 20_000, idempotencyKey: "t1" } }, keys.buyer); // a double click
    let view = await ex.gql(BUYER_VIEW, {}, keys.buyer);
    expect(view.body.data.credit).toEqual({ currency: "cny", balance: 20_000, held: 0, available: 20_000 });

    // 2. the query engine prices, holds, runs and posts three queries; a fourth fails and is voided
    const billing = ex.services.billing;
    const listingId = "lst_demo";
    const run = async (key: string, epsilon: number, rows: number, fails = false) => {
      const quote = await billing.quoteForQuery({ buyerId: ids.buyer, listingId, plan: PLAN, estimate: { epsilon, rowsScanned: rows } });
      const hold = await billing.holdForQuery({
        buyerId: ids.buyer,
        ownerId: ids.owner,
        listingId,
        plan: PLAN,
        estimate: { epsilon, rowsScanned: rows },
        idempotencyKey: key,
        quoteId: `quote-${key}`,
        maxAmount: quote.amount,
      });
      expect(hold.amount).toBe(quote.amount);
      if (fails) return billing.voidQuery(hold._id, "kernel timed out");
      return (await billing.postQuery(hold._id, { epsilon, rowsScanned: rows, cpuMs: 4.2 })).hold;
    };
    await run("q1", 0.5, 1_000_000); // free tier: fee and rows waived, ε charged 1500
    await run("q2", 0.5, 1_000_000); // 200 + 1500 + 50 = 1750
    await run("q3", 1, 4_000_000); // 200 + 3000 + 200 = 3400
    await run("q4", 1, 4_000_000, true);

    view = await ex.gql(BUYER_VIEW, {}, keys.buyer);
    expect(view.body.errors).toBeUndefined();
    expect(view.body.data.credit).toEqual({ currency: "cny", balance: 20_000 - 6_650, held: 0, available: 13_350 });
    const holds = view.body.data.queryHolds.edges.map((e: any) => e.node);
    expect(holds.map((h: any) => h.state).sort()).toEqual(["POSTED", "POSTED", "POSTED", "VOIDED"]);
    expect(holds.find((h: any) => h.state === "VOIDED").released).toBe(3_400);
    const receipts = view.body.data.receipts.edges.map((e: any) => e.node);
    expect(receipts.map((r: any) => r.price).sort((a: number, b: number) => a - b)).toEqual([1_500, 1_750, 3_400]);
    // The receipt shows the rows priced, never CPU time (it depends on the rows).
    expect(receipts[0]).toMatchObject({ currency: "cny" });
    expect(receipts[0]).not.toHaveProperty("cpuMs");

    // 3. the owner sees earnings (85 % of 6650, rounding to the owner), onboards and is paid out
    let owner = await ex.gql(OWNER_VIEW, {}, keys.owner);
    expect(owner.body.errors).toBeUndefined();
    const platformFees = [1_500, 1_750, 3_400].reduce((s, a) => s + Math.floor((a * 1_500) / 10_000), 0);
    expect(owner.body.data.earnings).toMatchObject({ payable: 6_650 - platformFees, paidOut: 0, canRequestPayout: true });
    expect(owner.body.data.sales.edges).toHaveLength(3);
    expect(owner.body.data.payoutAccount).toBeNull();
    const refused = await ex.gql(PAYOUT, {}, keys.owner);
    expect(refused.body.data.requestPayout).toMatchObject({ __typename: "PayoutAccountNotReady" });
    const onboard = await ex.gql(ONBOARD, {}, keys.owner);
    expect(onboard.body.data.startPayoutOnboarding.data).toEqual({ onboardingUrl: null, account: { rail: "OFFLINE", ready: true } });
    const paid = await ex.gql(PAYOUT, {}, keys.owner);
    expect(paid.body.data.requestPayout.data).toEqual({ amount: 6_650 - platformFees, status: "PAID", rail: "OFFLINE" });
    const again = await ex.gql(PAYOUT, {}, keys.owner);
    expect(again.body.data.requestPayout).toMatchObject({ __typename: "BelowPayoutThreshold", payable: 0, threshold: 500 });
    owner = await ex.gql(OWNER_VIEW, {}, keys.owner);
    expect(owner.body.data.earnings).toMatchObject({ payable: 0, paidOut: 6_650 - platformFees, earned: 6_650 - platformFees });

    // 4. the admin's reconciliation: everything agrees and Σ of all accounts is 0
    const rec = await ex.gql(RECONCILE, {}, keys.admin);
    expect(rec.body.errors).toBeUndefined();
    const r = rec.body.data.reconciliation;
    expect(r.ledger).toEqual({ ok: true, problems: [], sumOfBalances: 0, pendingTransfers: 0 });
    expect(r.meter).toMatchObject({ queries: 3, price: 6_650, capturedByLedger: 6_650, agrees: true });
    expect(r.currencies).toEqual([
      {
        currency: "cny",
        buyerCredit: 13_350,
        buyerHeld: 0,
        ownerPayable: 0,
        platformRevenue: platformFees,
        offlineClearing: -20_000 + (6_650 - platformFees),
      },
    ]);
    expect(r.balanced).toBe(true);
  });

  it("lets an admin grant credit on the offline rail, and only an admin", async () => {
    const GRANT = /* GraphQL */ `
      mutation ($input: GrantCreditInput!) {
        grantCredit(input: $input) { __typename ... on MutationGrantCreditSuccess { data { amount status } } ... on DomainError { code } }
      }`;
    const input = { accountId: ids.buyer, amount: 1_000, idempotencyKey: "grant-1" };
    const granted = await ex.gql(GRANT, { input }, keys.admin);
    expect(granted.body.data.grantCredit.data).toEqual({ amount: 1_000, status: "PAID" });
    const conflict = await ex.gql(GRANT, { input: { ...input, amount: 2_000 } }, keys.admin);
    expect(conflict.body.data.grantCredit).toEqual({ __typename: "IdempotencyConflict", code: "IDEMPOTENCY_CONFLICT" });
    const notBuyer = await ex.gql(GRANT, { input: { ...input, accountId: ids.owner, idempotencyKey: "g2" } }, keys.admin);
    expect(notBuyer.body.data.grantCredit.__typename).toBe("NotFound");
    const byBuyer = await ex.gql(GRANT, { input: { ...input, idempotencyKey: "g3" } }, keys.buyer);
    expect(byBuyer.body.errors[0].extensions.code).toBe("NOT_AUTHORIZED");
  });

  it("answers 404 on the Stripe webhook when Stripe is not configured", async () => {
    const res = await fetch(`${ex.url}/webhooks/stripe`, { method: "POST", body: "{}", headers: { "stripe-signature": "t=1,v1=x" } });
    expect(res.status).toBe(404);
  });
});
