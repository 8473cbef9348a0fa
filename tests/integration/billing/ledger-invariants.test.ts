/**
 * Ledger invariants, on every store adapter:
 *   random sequences (fast-check): grants, holds, posts, voids, payouts and replays of
 *   idempotency keys, in any order — after each sequence every transfer balances, Σ of all
 *   accounts is 0, no buyer is below zero, each hold resolved at most once, and replays
 *   changed nothing;
 *   concurrency: many holds racing for too little credit, post and void racing on each
 *   hold, and two independent store handles (as two processes) racing on the same keys.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { documentStoreFactories, openAt, useOpened } from "../../support/stores.ts";
import { HoldAlreadyResolved, IdempotencyConflict, InsufficientCredit, BelowPayoutThreshold } from "../../../src/billing/errors.ts";
import type { BillingService } from "../../../src/billing/service.ts";
import { accountKey } from "../../../src/billing/ledger/accounts.ts";
import { PLAN, grant, openBilling, parties } from "./helpers.ts";
import { newId } from "../../../src/ids.ts";

const STATEFUL_PLAN = { ...PLAN, freeTier: { queries: 2, epsilon: 0.3 }, monthlySpendingCap: 2_000 };

type Op =
  | { op: "grant"; buyer: number; amount: number }
  | { op: "hold"; buyer: number; listing: number; micro: number; rows: number }
  | { op: "post"; hold: number; micro: number; rows: number }
  | { op: "void"; hold: number }
  | { op: "replayHold"; hold: number }
  | { op: "replayGrant"; grant: number }
  | { op: "payout" };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant("grant" as const), buyer: fc.nat(1), amount: fc.integer({ min: 100, max: 3_000 }) }),
  fc.record({
    op: fc.constant("hold" as const),
    buyer: fc.nat(1),
    listing: fc.nat(1),
    micro: fc.integer({ min: 0, max: 2_000_000 }),
    rows: fc.integer({ min: 0, max: 10_000_000 }),
  }),
  fc.record({
    op: fc.constant("post" as const),
    hold: fc.nat(20),
    micro: fc.integer({ min: 0, max: 2_000_000 }),
    rows: fc.integer({ min: 0, max: 20_000_000 }),
  }),
  fc.record({ op: fc.constant("void" as const), hold: fc.nat(20) }),
  fc.record({ op: fc.constant("replayHold" as const), hold: fc.nat(20) }),
  fc.record({ op: fc.constant("replayGrant" as const), grant: fc.nat(20) }),
  fc.record({ op: fc.constant("payout" as const) }),
);

async function snapshot(billing: BillingService): Promise<string> {
  const all = await billing.ledger.allBalances();
  return JSON.stringify(all.map((a) => [a.account, a.balance, a.held]).sort());
}

async function assertInvariants(billing: BillingService): Promise<void> {
  const report = await billing.ledger.checkIntegrity();
  expect(report.problems).toEqual([]);
  expect(report.pendingTransfers).toBe(0);
  expect(report.sumOfBalances).toBe(0);
  for (const a of await billing.ledger.allBalances()) {
    if (a.kind === "buyer_credit") {
      expect(a.balance).toBeGreaterThanOrEqual(0);
      expect(a.available).toBeGreaterThanOrEqual(0);
    }
    if (a.kind === "owner_payable") expect(a.balance).toBeGreaterThanOrEqual(0);
  }
  // Each hold resolved at most once: one capture or one release transfer, never both.
  const resolutions = new Map<string, string[]>();
  let after: string | null = null;
  do {
    const page = await billing.ledger.transfers.docs.find({ kind: { $in: ["capture", "release"] } }, { limit: 200, ...(after ? { after } : {}) });
    for (const t of page.items) resolutions.set(t.refs["holdId"]!, [...(resolutions.get(t.refs["holdId"]!) ?? []), t.kind]);
    after = page.nextCursor;
  } while (after);
  for (const [holdId, kinds] of resolutions) {
    expect(kinds, `hold ${holdId}`).toHaveLength(1);
    const hold = await billing.holds.get(holdId);
    expect(hold?.state).toBe(kinds[0] === "capture" ? "posted" : "voided");
  }
  expect(await billing.metering.records.count({})).toBe(await billing.holds.docs.count({ state: "posted" }));
}

describe.each(documentStoreFactories())("ledger invariants on $name", (factory) => {
  const opened = useOpened(factory);
  const runs = factory.kind === "sqlite" ? 30 : 6;

  it("hold after random sequences of operations and replays", async () => {
    const billing = await openBilling(opened().store, { config: { payoutThreshold: 1 } });
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: factory.kind === "sqlite" ? 25 : 12 }), async (ops) => {
        const buyers = [parties().buyerId, parties().buyerId];
        const { ownerId } = parties();
        const listings = [parties().listingId, parties().listingId];
        await billing.startPayoutOnboarding(ownerId);
        const holds: Array<{ id: string; input: Parameters<BillingService["holdForQuery"]>[0] }> = [];
        const grants: Array<{ buyer: string; amount: number; key: string }> = [];
        let n = 0;
        const run = newId("run");
        for (const op of ops) {
          n++;
          switch (op.op) {
            case "grant": {
              const g = { buyer: buyers[op.buyer]!, amount: op.amount, key: `${run}-g${n}` };
              await grant(billing, g.buyer, g.amount, g.key);
              grants.push(g);
              break;
            }
            case "hold": {
              const input = {
                buyerId: buyers[op.buyer]!,
                ownerId,
                listingId: listings[op.listing]!,
                plan: op.listing === 0 ? PLAN : STATEFUL_PLAN,
                estimate: { epsilon: op.micro / 1e6, rowsScanned: op.rows },
                idempotencyKey: `h${n}`,
              };
              try {
                holds.push({ id: (await billing.holdForQuery(input))._id, input });
              } catch (e) {
                if (!(e instanceof InsufficientCredit)) throw e;
              }
              break;
            }
            case "post":
            case "void": {
              const h = holds[op.hold % Math.max(1, holds.length)];
              if (!h) break;
              try {
                if (op.op === "post") await billing.postQuery(h.id, { epsilon: op.micro / 1e6, rowsScanned: op.rows, cpuMs: 1 });
                else await billing.voidQuery(h.id);
              } catch (e) {
                if (!(e instanceof HoldAlreadyResolved)) throw e;
              }
              break;
            }
            case "replayHold": {
              const h = holds[op.hold % Math.max(1, holds.length)];
              if (!h) break;
              const before = await snapshot(billing);
              const again = await billing.holdForQuery(h.input);
              expect(again._id).toBe(h.id);
              await expect(billing.holdForQuery({ ...h.input, estimate: { epsilon: 9, rowsScanned: 1 } })).rejects.toBeInstanceOf(
                IdempotencyConflict,
              );
              expect(await snapshot(billing)).toBe(before);
              break;
            }
            case "replayGrant": {
              const g = grants[op.grant % Math.max(1, grants.length)];
              if (!g) break;
              const before = await snapshot(billing);
              await grant(billing, g.buyer, g.amount, g.key);
              await expect(grant(billing, g.buyer, g.amount + 1, g.key)).rejects.toBeInstanceOf(IdempotencyConflict);
              expect(await snapshot(billing)).toBe(before);
              break;
            }
            case "payout": {
              try {
                await billing.requestPayout(ownerId, "cny");
              } catch (e) {
                if (!(e instanceof BelowPayoutThreshold)) throw e;
              }
              break;
            }
          }
        }
        await assertInvariants(billing);
      }),
      { numRuns: runs },
    );
  });

  it("lets exactly as many concurrent holds through as the credit covers, and resolves each hold once", async () => {
    const billing = await openBilling(opened().store);
    const p = parties();
    await grant(billing, p.buyerId, 2_000); // ten holds of 200
    const attempts = factory.kind === "sqlite" ? 40 : 20;
    const results = await Promise.allSettled(
      Array.from({ length: attempts }, (_, i) =>
        billing.holdForQuery({ ...p, plan: PLAN, estimate: { epsilon: 0.1, rowsScanned: 0 }, idempotencyKey: `r${i}` }),
      ),
    );
    const held = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    const refused = results.filter((r) => r.status === "rejected");
    expect(held).toHaveLength(10);
    expect(refused.every((r) => (r as PromiseRejectedResult).reason instanceof InsufficientCredit)).toBe(true);
    expect((await billing.credit(p.buyerId)).available).toBe(0);

    // post and void race on every hold: exactly one of them wins each
    const races = await Promise.allSettled(
      held.flatMap((h) => [billing.postQuery(h._id, { epsilon: 0.1, rowsScanned: 0, cpuMs: 1 }), billing.voidQuery(h._id, "race")]),
    );
    const won = races.filter((r) => r.status === "fulfilled").length;
    expect(won).toBe(10);
    expect(races.filter((r) => r.status === "rejected").every((r) => (r as PromiseRejectedResult).reason instanceof HoldAlreadyResolved)).toBe(true);
    const posted = await billing.holds.docs.count({ buyerId: p.buyerId, state: "posted" });
    expect((await billing.credit(p.buyerId)).balance).toBe(2_000 - 200 * posted);
    await assertInvariants(billing);
  });

  it("keeps every invariant when two independent handles (as two processes) race on the same keys", async () => {
    const location = opened().location!;
    const otherStore = await openAt(location);
    try {
      const a = await openBilling(opened().store);
      const b = await openBilling(otherStore);
      const p = parties();
      await Promise.all([grant(a, p.buyerId, 1_000, "once"), grant(b, p.buyerId, 1_000, "once")]);
      expect((await a.credit(p.buyerId)).balance).toBe(1_000);
      const input = { ...p, plan: PLAN, estimate: { epsilon: 0.4, rowsScanned: 0 }, idempotencyKey: "shared" };
      const [h1, h2] = await Promise.all([a.holdForQuery(input), b.holdForQuery(input)]);
      expect(h1._id).toBe(h2._id);
      expect((await b.credit(p.buyerId)).held).toBe(500);
      const outcomes = await Promise.allSettled([a.postQuery(h1._id, { epsilon: 0.4, rowsScanned: 0, cpuMs: 2 }), b.voidQuery(h1._id)]);
      expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
      await a.startPayoutOnboarding(p.ownerId);
      const payouts = await Promise.allSettled([a.requestPayout(p.ownerId), b.requestPayout(p.ownerId)]);
      expect(payouts.filter((o) => o.status === "fulfilled").length).toBeLessThanOrEqual(1);
      expect((await a.ledger.balance(accountKey.ownerPayable(p.ownerId, "cny"))).balance).toBeGreaterThanOrEqual(0);
      await assertInvariants(a);
    } finally {
      await otherStore.close();
    }
  });
});
