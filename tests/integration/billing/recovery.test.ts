/**
 * Crashes injected between the steps of a transfer, a hold, a top-up and a payout leave a
 * half-done state; a restarted service's recovery step finishes or voids it, and afterwards
 * the book balances, nothing happened twice, and a payout was sent with the same idempotency key.
 */
import { describe, expect, it } from "vitest";
import { documentStoreFactories, useStore } from "../../support/stores.ts";
import { SimulatedCrash } from "../../../src/billing/ledger/transfers.ts";
import { OfflineGateway } from "../../../src/billing/payments/offline.ts";
import type { PayoutRequest } from "../../../src/billing/payments/port.ts";
import type { BillingService } from "../../../src/billing/service.ts";
import { PLAN, balances, grant, openBilling, parties } from "./helpers.ts";

async function assertBalanced(billing: BillingService): Promise<void> {
  const report = await billing.ledger.checkIntegrity();
  expect(report.problems).toEqual([]);
  expect(report.pendingTransfers).toBe(0);
  expect(report.sumOfBalances).toBe(0);
}

/** The offline rail, recording every payout call (as Stripe would see them). */
class RecordingGateway extends OfflineGateway {
  calls: PayoutRequest[] = [];
  constructor() {
    super({ production: false });
  }
  override async sendPayout(req: PayoutRequest) {
    this.calls.push(req);
    return super.sendPayout(req);
  }
}

describe.each(documentStoreFactories())("recovery after a crash on $name", (factory) => {
  const store = useStore(factory);

  it("finishes a capture that crashed after its first leg: charged once, metered once", async () => {
    const crashed = await openBilling(store());
    const p = parties();
    await grant(crashed, p.buyerId, 5_000);
    const hold = await crashed.holdForQuery({ ...p, plan: PLAN, estimate: { epsilon: 1, rowsScanned: 0 }, idempotencyKey: "k" });
    crashed.ledger.transfers.crashAt = "after-leg-0";
    await expect(crashed.postQuery(hold._id, { epsilon: 1, rowsScanned: 0, cpuMs: 5 })).rejects.toBeInstanceOf(SimulatedCrash);
    const half = await crashed.ledger.checkIntegrity();
    expect(half.pendingTransfers).toBe(1);
    expect(half.sumOfBalances).not.toBe(0); // the buyer was debited, the owner not yet credited

    const restarted = await openBilling(store());
    const report = await restarted.recover();
    expect(report.transfersDriven).toBeGreaterThanOrEqual(1);
    expect((await restarted.holds.get(hold._id))?.state).toBe("posted");
    expect(await restarted.metering.records.count({ holdId: hold._id })).toBe(1);
    const b = await balances(restarted, p);
    expect(b.buyer).toEqual({ balance: 3_900, held: 0, available: 3_900 });
    expect(b.owner).toBe(880);
    await assertBalanced(restarted);
    // the caller's retry after the restart gets the same receipt, not a second charge
    const retry = await restarted.postQuery(hold._id, { epsilon: 1, rowsScanned: 0, cpuMs: 5 });
    expect(retry.meter.price).toBe(1_100);
    expect((await balances(restarted, p)).buyer.balance).toBe(3_900);
  });

  it("releases a hold whose caller crashed before it was held, once the grace period passed", async () => {
    let now = new Date("2026-03-01T10:00:00Z");
    const clock = () => now;
    const crashed = await openBilling(store(), { now: clock });
    const p = parties();
    await grant(crashed, p.buyerId, 5_000);
    crashed.ledger.transfers.crashAt = "after-insert";
    const input = { ...p, plan: { ...PLAN, freeTier: { queries: 1, epsilon: 0 } }, estimate: { epsilon: 1, rowsScanned: 0 }, idempotencyKey: "k" };
    await expect(crashed.holdForQuery(input)).rejects.toBeInstanceOf(SimulatedCrash);

    const restarted = await openBilling(store(), { now: clock });
    await restarted.recover(); // too young: left alone (its caller may still be running elsewhere)
    expect((await restarted.holds.docs.findOne({ buyerId: p.buyerId }))?.state).toBe("opening");
    now = new Date("2026-03-01T10:05:00Z");
    await restarted.recover();
    const hold = (await restarted.holds.docs.findOne({ buyerId: p.buyerId }))!;
    expect(["voided", "rejected"]).toContain(hold.state);
    expect((await balances(restarted, p)).buyer).toEqual({ balance: 5_000, held: 0, available: 5_000 });
    // the free query it counted was given back
    const month = await restarted.ledger.monthToDate(p.buyerId, p.listingId, "2026-03");
    expect(month.month.queries).toBe(0);
    await assertBalanced(restarted);
  });

  it("voids holds left open past their lifetime", async () => {
    let now = new Date("2026-03-01T10:00:00Z");
    const billing = await openBilling(store(), { now: () => now, config: { holdTtlMs: 60_000 } });
    const p = parties();
    await grant(billing, p.buyerId, 1_000);
    const hold = await billing.holdForQuery({ ...p, plan: PLAN, estimate: { epsilon: 0.1, rowsScanned: 0 }, idempotencyKey: "k" });
    now = new Date("2026-03-01T10:02:00Z");
    const report = await billing.recover();
    expect(report.holds.expired).toBeGreaterThanOrEqual(1);
    expect((await billing.holds.get(hold._id))?.state).toBe("voided");
    expect((await billing.credit(p.buyerId)).held).toBe(0);
  });

  it("credits a top-up whose transfer crashed half-way exactly once", async () => {
    const crashed = await openBilling(store());
    const p = parties();
    crashed.ledger.transfers.crashAt = "after-leg-0";
    await expect(crashed.grantCredit("acc_admin", p.buyerId, { amount: 700, currency: "cny", idempotencyKey: "t" })).rejects.toBeInstanceOf(
      SimulatedCrash,
    );
    const restarted = await openBilling(store());
    await restarted.recover();
    expect((await restarted.credit(p.buyerId)).balance).toBe(700);
    const top = (await restarted.topUps.docs.findOne({ buyerId: p.buyerId }))!;
    expect(top.state).toBe("paid");
    // the admin retrying the grant changes nothing
    await restarted.grantCredit("acc_admin", p.buyerId, { amount: 700, currency: "cny", idempotencyKey: "t" });
    expect((await restarted.credit(p.buyerId)).balance).toBe(700);
    await assertBalanced(restarted);
  });

  it("recovers a payout that crashed after the rail paid it, without paying twice", async () => {
    const gateway = new RecordingGateway();
    const crashed = await openBilling(store(), { gateway, config: { payoutThreshold: 100 } });
    const p = parties();
    await grant(crashed, p.buyerId, 5_000);
    const hold = await crashed.holdForQuery({ ...p, plan: PLAN, estimate: { epsilon: 1, rowsScanned: 0 }, idempotencyKey: "k" });
    await crashed.postQuery(hold._id, { epsilon: 1, rowsScanned: 0, cpuMs: 1 });
    await crashed.startPayoutOnboarding(p.ownerId);
    crashed.payouts.crashAfterRailCall = true;
    await expect(crashed.requestPayout(p.ownerId)).rejects.toThrow(/simulated crash/);
    const pending = (await crashed.payouts.docs.findOne({ ownerId: p.ownerId }))!;
    expect(pending.state).toBe("ledgered");

    const restarted = await openBilling(store(), { gateway, config: { payoutThreshold: 100 } });
    await restarted.recover();
    const paid = (await restarted.payouts.docs.get(pending._id))!;
    expect(paid.state).toBe("paid");
    // the rail saw the payout twice with ONE idempotency key (Stripe answers the repeat with the first Transfer)
    const keys = gateway.calls.filter((c) => c.payoutId === pending._id).map((c) => c.idempotencyKey);
    expect(keys).toHaveLength(2);
    expect(new Set(keys).size).toBe(1);
    expect(keys[0]).toBe(`payout:${pending.transferId}`);
    expect((await restarted.earnings(p.ownerId)).payable).toBe(0);
    expect((await restarted.earnings(p.ownerId)).paidOut).toBe(880);
    await assertBalanced(restarted);
  });
});
