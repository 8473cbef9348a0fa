/**
 * Query holds end to end on every store adapter: hold the quote, post the metered price
 * (≤ the hold, the rest released, split owner/platform, metered once), void on failure;
 * idempotency keys; refusals that change nothing; allowances and caps counted per month.
 */
import { describe, expect, it } from "vitest";
import { documentStoreFactories, useStore } from "../../support/stores.ts";
import { HoldAlreadyResolved, IdempotencyConflict, InsufficientCredit, PriceChanged } from "../../../src/billing/errors.ts";
import { InvalidInput } from "../../../src/errors.ts";
import { PLAN, balances, grant, openBilling, parties } from "./helpers.ts";

describe.each(documentStoreFactories())("query holds on $name", (factory) => {
  const store = useStore(factory);

  it("holds the quote, charges the metered price, releases the rest and meters the query once", async () => {
    const billing = await openBilling(store());
    const p = parties();
    await grant(billing, p.buyerId, 10_000);
    // quote: 100 fee + 0.5 ε × 1000 + 2M rows × 10/M = 100 + 500 + 20 = 620
    const hold = await billing.holdForQuery({ ...p, plan: PLAN, estimate: { epsilon: 0.5, rowsScanned: 2_000_000 }, idempotencyKey: "q1" });
    expect(hold.state).toBe("held");
    expect(hold.amount).toBe(620);
    expect((await balances(billing, p)).buyer).toEqual({ balance: 10_000, held: 620, available: 9_380 });

    // ran on fewer rows than estimated: 100 + 500 + 10 = 610
    const receipt = await billing.postQuery(hold._id, { epsilon: 0.5, rowsScanned: 1_000_000, cpuMs: 12.5 });
    expect(receipt.hold.state).toBe("posted");
    expect(receipt.meter).toMatchObject({ price: 610, quoted: 620, platformFee: 122, ownerShare: 488, rowsScanned: 1_000_000, cpuMs: 12.5 });
    const after = await balances(billing, p);
    expect(after.buyer).toEqual({ balance: 9_390, held: 0, available: 9_390 });
    expect(after.owner).toBe(488);

    // the same post again (a retry re-measures CPU time, which prices nothing) returns the same receipt; anything else is refused
    const again = await billing.postQuery(hold._id, { epsilon: 0.5, rowsScanned: 1_000_000, cpuMs: 99 });
    expect(again.meter._id).toBe(receipt.meter._id);
    expect(again.meter.cpuMs).toBe(12.5);
    await expect(billing.postQuery(hold._id, { epsilon: 0.5, rowsScanned: 5, cpuMs: 1 })).rejects.toBeInstanceOf(HoldAlreadyResolved);
    await expect(billing.voidQuery(hold._id)).rejects.toBeInstanceOf(HoldAlreadyResolved);
    expect(await billing.metering.records.count({ holdId: hold._id })).toBe(1);
    expect((await balances(billing, p)).buyer.balance).toBe(9_390);
    expect((await billing.ledger.checkIntegrity()).ok).toBe(true);
  });

  it("never charges more than the hold, and a void releases everything", async () => {
    const billing = await openBilling(store());
    const p = parties();
    await grant(billing, p.buyerId, 5_000);
    const h1 = await billing.holdForQuery({ ...p, plan: PLAN, estimate: { epsilon: 0.1, rowsScanned: 0 }, idempotencyKey: "a" });
    const r1 = await billing.postQuery(h1._id, { epsilon: 0.1, rowsScanned: 50_000_000, cpuMs: 3 });
    expect(r1.meter.price).toBe(h1.amount); // metered 700, held 200: charged 200
    const h2 = await billing.holdForQuery({ ...p, plan: PLAN, estimate: { epsilon: 1, rowsScanned: 0 }, idempotencyKey: "b" });
    await billing.voidQuery(h2._id, "kernel failed");
    await expect(billing.postQuery(h2._id, { epsilon: 1, rowsScanned: 0, cpuMs: 1 })).rejects.toBeInstanceOf(HoldAlreadyResolved);
    expect((await balances(billing, p)).buyer).toEqual({ balance: 5_000 - 200, held: 0, available: 4_800 });
  });

  it("refuses a buyer without enough credit and changes nothing; the same key gives the same answer", async () => {
    const billing = await openBilling(store());
    const p = parties();
    await grant(billing, p.buyerId, 300);
    const input = { ...p, plan: PLAN, estimate: { epsilon: 1, rowsScanned: 0 }, idempotencyKey: "big" };
    const err = await billing.holdForQuery(input).catch((e) => e);
    expect(err).toBeInstanceOf(InsufficientCredit);
    expect(err).toMatchObject({ required: 1_100, available: 300 });
    expect((await balances(billing, p)).buyer).toEqual({ balance: 300, held: 0, available: 300 });
    await expect(billing.holdForQuery(input)).rejects.toBeInstanceOf(InsufficientCredit);
    expect(await billing.metering.records.count({ buyerId: p.buyerId })).toBe(0);
  });

  it("returns the first hold for a replayed key and refuses the key with different content", async () => {
    const billing = await openBilling(store());
    const p = parties();
    await grant(billing, p.buyerId, 10_000);
    const input = { ...p, plan: PLAN, estimate: { epsilon: 0.2, rowsScanned: 0 }, idempotencyKey: "same" };
    const [a, b] = await Promise.all([billing.holdForQuery(input), billing.holdForQuery(input)]);
    expect(a._id).toBe(b._id);
    expect((await balances(billing, p)).buyer.held).toBe(300);
    await expect(billing.holdForQuery({ ...input, estimate: { epsilon: 0.3, rowsScanned: 0 } })).rejects.toBeInstanceOf(IdempotencyConflict);
    expect((await balances(billing, p)).buyer.held).toBe(300);
  });

  it("rejects bad input naming the field, and a price above the agreed maximum, without writing anything", async () => {
    const billing = await openBilling(store());
    const p = parties();
    await grant(billing, p.buyerId, 10_000);
    const bad = await billing
      .holdForQuery({ ...p, plan: { ...PLAN, perQueryFee: -1 }, estimate: { epsilon: -1, rowsScanned: 0.5 }, idempotencyKey: "has space" })
      .catch((e) => e);
    expect(bad).toBeInstanceOf(InvalidInput);
    expect((bad as InvalidInput).issues.map((i) => i.path).sort()).toEqual([
      "hold.estimate.epsilon",
      "hold.estimate.rowsScanned",
      "hold.idempotencyKey",
      "hold.plan.perQueryFee",
    ]);
    await expect(
      billing.holdForQuery({ ...p, plan: PLAN, estimate: { epsilon: 0.2, rowsScanned: 0 }, idempotencyKey: "m", maxAmount: 299 }),
    ).rejects.toBeInstanceOf(PriceChanged);
    expect(await billing.holds.docs.count({ buyerId: p.buyerId })).toBe(0);
    expect((await balances(billing, p)).buyer.held).toBe(0);
  });

  it("counts the free tier and the spending cap per buyer and month; a void gives the allowance back", async () => {
    const billing = await openBilling(store());
    const p = parties();
    await grant(billing, p.buyerId, 100_000);
    const plan = { ...PLAN, freeTier: { queries: 2, epsilon: 0 }, monthlySpendingCap: 1_500 };
    const q = (key: string) => billing.holdForQuery({ ...p, plan, estimate: { epsilon: 0.5, rowsScanned: 0 }, idempotencyKey: key });
    const h1 = await q("1");
    expect(h1.amount).toBe(500); // fee waived, ε charged
    await billing.voidQuery(h1._id);
    const h2 = await q("2");
    const h3 = await q("3");
    expect([h2.amount, h3.amount]).toEqual([500, 500]); // h1's free query came back
    const h4 = await q("4");
    expect(h4.amount).toBe(500); // 600 list, capped to 1500 − 1000
    const h5 = await q("5");
    expect(h5.amount).toBe(0);
    for (const h of [h2, h3, h4, h5]) await billing.postQuery(h._id, { epsilon: 0.5, rowsScanned: 0, cpuMs: 1 });
    expect((await balances(billing, p)).buyer.balance).toBe(100_000 - 1_500);
    const month = await billing.ledger.monthToDate(p.buyerId, p.listingId, h2.month);
    expect(month.month).toEqual({ queries: 4, microEpsilon: 2_000_000, charged: 1_500 });
  });

  it("under concurrency, allowances and the cap are never over-used", async () => {
    const billing = await openBilling(store());
    const p = parties();
    await grant(billing, p.buyerId, 1_000_000);
    const plan = { ...PLAN, pricePerEpsilon: 0, freeTier: { queries: 3, epsilon: 0 }, monthlySpendingCap: 450 };
    const holds = await Promise.all(
      Array.from({ length: 12 }, (_, i) => billing.holdForQuery({ ...p, plan, estimate: { epsilon: 0.1, rowsScanned: 0 }, idempotencyKey: `c${i}` })),
    );
    const amounts = holds.map((h) => h.amount).sort((a, b) => a - b);
    expect(amounts.filter((a) => a === 0).length).toBeGreaterThanOrEqual(3); // 3 free + those past the cap
    expect(amounts.reduce((s, a) => s + a, 0)).toBe(450); // 100 each beyond the free 3, capped at 450
    expect(amounts.filter((a) => a === 100).length).toBe(4);
    expect(amounts).toContain(50);
  });
});
