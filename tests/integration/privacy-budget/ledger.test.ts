/**
 * The privacy budget ledger on every store adapter: caps that hold under concurrency, idempotent
 * query ids, crash recovery that never under-counts, and one budget across dataset versions.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { documentStoreFactories, useOpened } from "../../support/stores.ts";
import { InvalidInput } from "../../../src/errors.ts";
import { BudgetDebitConflict, BudgetExhausted, QueryInProgress } from "../../../src/privacy/budget/errors.ts";
import { PrivacyBudgetService, type DebitRequest } from "../../../src/privacy/budget/service.ts";
import { buyerAccountId, datasetAccountId } from "../../../src/privacy/budget/model.ts";
import { BUDGET_ACTIONS } from "../../../src/privacy/budget/ledger.ts";
import { eps, expectConsistent, ids, openBudget, type Harness } from "./harness.ts";

describe.each(documentStoreFactories())("privacy budget ledger on $name", (factory) => {
  const opened = useOpened(factory);
  let h: Harness;
  beforeAll(async () => {
    h = await openBudget(opened().store);
  });
  afterAll(async () => {
    await h?.audit.close();
  });

  const request = (over: Partial<DebitRequest> & Pick<DebitRequest, "datasetId" | "buyerId" | "queryId">): DebitRequest => ({
    epsilonMicro: eps(0.1),
    buyerCapMicro: eps(2),
    globalCapMicro: eps(10),
    ...over,
  });

  it("50 concurrent debits when 5 fit: exactly 5 succeed, nothing goes negative, entries match the accounts", async () => {
    const { datasetId, buyerId } = ids();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => h.budget.debit(request({ datasetId, buyerId, queryId: `q${i}`, buyerCapMicro: eps(0.5) }))),
    );
    const ok = outcomes.filter((o) => o.status === "fulfilled").map((o) => o.value);
    const refused = outcomes.filter((o) => o.status === "rejected").map((o) => o.reason as unknown);
    expect(ok).toHaveLength(5);
    expect(refused).toHaveLength(45);
    for (const r of refused) {
      expect(r).toBeInstanceOf(BudgetExhausted);
      expect((r as BudgetExhausted).cap).toBe("BUYER");
      expect((r as BudgetExhausted).remainingMicro).toBeGreaterThanOrEqual(0);
    }
    for (const d of ok) {
      expect(d.buyerRemainingMicro).toBeGreaterThanOrEqual(0);
      expect(d.replayed).toBe(false);
    }
    expect(new Set(ok.map((d) => d.buyerRemainingMicro))).toEqual(new Set([0, 1, 2, 3, 4].map((n) => eps(0.1) * n)));
    const { globalSpentMicro } = await expectConsistent(h.budget, datasetId);
    expect(globalSpentMicro).toBe(eps(0.5));
    const view = await h.budget.remaining({ buyerId, datasetId }, { buyerCapMicro: eps(0.5), globalCapMicro: eps(10), perQueryMicro: eps(0.1) });
    expect(view.buyer).toEqual({ capMicro: eps(0.5), spentMicro: eps(0.5), remainingMicro: 0, debits: 5 });
    // Every settled debit is in the audit log exactly once.
    const events = await h.audit.findEntries({ action: BUDGET_ACTIONS.debited, "subject.datasetId": datasetId }, 100);
    expect(events.items).toHaveLength(5);
    const refusals = await h.audit.findEntries({ action: BUDGET_ACTIONS.refused, "subject.datasetId": datasetId }, 100);
    expect(refusals.items).toHaveLength(45);
  }, 120_000);

  it("50 buyers at once against a global cap that fits 5: exactly 5 succeed and no buyer is left charged", async () => {
    const { datasetId } = ids();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => h.budget.debit(request({ datasetId, buyerId: `acc_b${i}`, queryId: "q1", globalCapMicro: eps(0.5) }))),
    );
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(5);
    for (const o of outcomes) {
      if (o.status === "rejected") expect((o.reason as BudgetExhausted).cap).toBe("DATASET");
    }
    // The 45 refused buyers' charges were given back: each buyer holds exactly its own debits.
    await expectConsistent(h.budget, datasetId, { globalCapMicro: eps(0.5) });
    const charged = (await h.budget.ledger.buyerAccounts.find({ datasetId, spentMicro: { $gt: 0 } }, { limit: 100 })).items;
    expect(charged).toHaveLength(5);
  }, 120_000);

  it("two caps: a buyer stops at its own cap; two buyers together stop at the global cap", async () => {
    const { datasetId, buyerId: a, other: b } = ids();
    const caps = { epsilonMicro: eps(0.2), buyerCapMicro: eps(0.6), globalCapMicro: eps(1) };
    for (let i = 0; i < 3; i++) await h.budget.debit({ ...caps, datasetId, buyerId: a, queryId: `a${i}` });
    const own = await h.budget.debit({ ...caps, datasetId, buyerId: a, queryId: "a3" }).catch((e: unknown) => e);
    expect(own).toBeInstanceOf(BudgetExhausted);
    expect(own).toMatchObject({ cap: "BUYER", remainingMicro: 0, requestedMicro: eps(0.2) });
    expect((own as Error).message).toBe("your privacy budget on this dataset has ε 0 left; this query needs ε 0.2");

    const b1 = await h.budget.debit({ ...caps, datasetId, buyerId: b, queryId: "b0" });
    expect(b1).toMatchObject({ buyerRemainingMicro: eps(0.4), globalRemainingMicro: eps(0.2) });
    await h.budget.debit({ ...caps, datasetId, buyerId: b, queryId: "b1" });
    const global = await h.budget.debit({ ...caps, datasetId, buyerId: b, queryId: "b2" }).catch((e: unknown) => e);
    expect(global).toMatchObject({ cap: "DATASET", remainingMicro: 0 });
    expect((global as Error).message).toMatch(/global privacy budget \(shared by all buyers\) has ε 0 left/);

    // B's refused debit charged B's own account first; that charge was given back.
    const spent = await h.budget.spent({ buyerId: b, datasetId });
    expect(spent.buyer).toEqual({ spentMicro: eps(0.4), debits: 2 });
    expect(spent.dataset).toEqual({ spentMicro: eps(1), debits: 5 });
    await expectConsistent(h.budget, datasetId);

    // A cap lowered below what was spent leaves zero, never a negative amount.
    const lowered = await h.budget
      .debit({ ...caps, buyerCapMicro: eps(0.3), globalCapMicro: eps(5), datasetId, buyerId: a, queryId: "a4" })
      .catch((e: unknown) => e);
    expect(lowered).toMatchObject({ cap: "BUYER", remainingMicro: 0 });
    const view = await h.budget.remaining({ buyerId: a, datasetId }, { buyerCapMicro: eps(0.3), globalCapMicro: eps(0.5), perQueryMicro: eps(0.1) });
    expect(view.buyer.remainingMicro).toBe(0);
    expect(view.dataset.remainingMicro).toBe(0);
    const owner = await h.budget.globalRemaining(datasetId, { buyerCapMicro: eps(0.6), globalCapMicro: eps(1), perQueryMicro: eps(0.2) });
    expect(owner).toMatchObject({ capMicro: eps(1), spentMicro: eps(1), remainingMicro: 0, buyers: 2, debits: 5 });
  });

  it("1,000 repeats of one query id are charged once and all get the first outcome", async () => {
    const { datasetId, buyerId } = ids();
    const req = request({ datasetId, buyerId, queryId: "same-query" });
    const results = [];
    for (let round = 0; round < 10; round++) {
      results.push(...(await Promise.all(Array.from({ length: 100 }, () => h.budget.debit(req)))));
    }
    expect(results).toHaveLength(1000);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    expect(new Set(results.map((r) => `${r.buyerRemainingMicro}/${r.globalRemainingMicro}`))).toEqual(new Set([`${eps(1.9)}/${eps(9.9)}`]));
    const spent = await h.budget.spent({ buyerId, datasetId });
    expect(spent.buyer).toEqual({ spentMicro: eps(0.1), debits: 1 });
    expect(spent.dataset).toEqual({ spentMicro: eps(0.1), debits: 1 });
    await expectConsistent(h.budget, datasetId);
    const events = await h.audit.findEntries({ action: BUDGET_ACTIONS.debited, "subject.buyerId": buyerId }, 100);
    expect(events.items).toHaveLength(1);
  }, 120_000);

  it("a query id reused with different content is a conflict and charges nothing; a refusal is replayed as is", async () => {
    const { datasetId, buyerId } = ids();
    await h.budget.debit(request({ datasetId, buyerId, queryId: "q" }));
    await expect(h.budget.debit(request({ datasetId, buyerId, queryId: "q", epsilonMicro: eps(0.2) }))).rejects.toBeInstanceOf(BudgetDebitConflict);
    await expect(h.budget.debit(request({ datasetId: "ds_else", buyerId, queryId: "q" }))).rejects.toThrow(/already used for a different/);
    expect((await h.budget.spent({ buyerId, datasetId })).buyer.spentMicro).toBe(eps(0.1));
    expect((await h.budget.spent({ buyerId, datasetId: "ds_else" })).buyer.spentMicro).toBe(0);
    // Other caps are not other content: the first outcome comes back.
    expect(await h.budget.debit(request({ datasetId, buyerId, queryId: "q", buyerCapMicro: eps(5) }))).toMatchObject({ replayed: true });

    // The same query id from another buyer is another query.
    const { other } = ids();
    expect(await h.budget.debit(request({ datasetId, buyerId: other, queryId: "q" }))).toMatchObject({ replayed: false });

    const refusedReq = request({ datasetId, buyerId, queryId: "big", epsilonMicro: eps(3) });
    await expect(h.budget.debit(refusedReq)).rejects.toMatchObject({ cap: "BUYER", remainingMicro: eps(1.9) });
    // Raising the cap later does not turn a settled refusal into a charge.
    await expect(h.budget.debit({ ...refusedReq, buyerCapMicro: eps(50) })).rejects.toBeInstanceOf(BudgetExhausted);
    await expectConsistent(h.budget, datasetId);
  });

  it("bad input names the field and writes nothing", async () => {
    const { datasetId, buyerId } = ids();
    const bad: Array<[Partial<DebitRequest>, string]> = [
      [{ epsilonMicro: 0 }, "debit.epsilonMicro"],
      [{ epsilonMicro: 0.5 }, "debit.epsilonMicro"],
      [{ epsilonMicro: -100 }, "debit.epsilonMicro"],
      [{ buyerCapMicro: -1 }, "debit.buyerCapMicro"],
      [{ globalCapMicro: Number.NaN }, "debit.globalCapMicro"],
      [{ queryId: "has space" }, "debit.queryId"],
      [{ queryId: "" }, "debit.queryId"],
      [{ buyerId: "a|b" }, "debit.buyerId"],
      [{ datasetId: "ds:x" }, "debit.datasetId"],
    ];
    for (const [over, path] of bad) {
      const e = await h.budget.debit(request({ datasetId, buyerId, queryId: "q", ...over })).catch((err: unknown) => err);
      expect(e, JSON.stringify(over)).toBeInstanceOf(InvalidInput);
      expect((e as InvalidInput).issues.map((i) => i.path)).toContain(path);
    }
    expect(await h.budget.ledger.entries.count({ datasetId })).toBe(0);
    expect(await h.budget.ledger.buyerAccounts.count({ datasetId })).toBe(0);
    expect(await h.budget.ledger.open.count({ datasetId })).toBe(0);
  });

  describe("crash between steps, then recovery", () => {
    type Step = "open" | "buyer" | "global" | "settle";
    /** Begins a debit and runs only the given steps, as a process dying after them would. */
    async function crashAfter(req: DebitRequest, steps: Step[]) {
      const { entry } = await h.budget.ledger.begin(req);
      const charged: Record<string, boolean> = {};
      for (const step of steps) {
        if (step === "open") await h.budget.ledger.markOpen(entry);
        if (step === "buyer") charged.buyer = (await h.budget.ledger.charge(entry, "BUYER")).charged;
        if (step === "global") charged.global = (await h.budget.ledger.charge(entry, "DATASET")).charged;
        if (step === "settle") {
          await h.budget.ledger.settle(entry, {
            state: charged.buyer && charged.global ? "debited" : "refused",
            refusedBy: charged.buyer && charged.global ? null : charged.buyer ? "DATASET" : "BUYER",
            buyerRemainingMicro: null,
            globalRemainingMicro: null,
          });
        }
      }
      return entry;
    }

    it("after the entry was inserted, nothing is owed; a retry of the query id finishes it, charged once", async () => {
      const { datasetId, buyerId } = ids();
      const req = request({ datasetId, buyerId, queryId: "early" });
      await crashAfter(req, []);
      const report = await h.budget.recover({ graceMs: 0 });
      expect(report.resumed).toBe(0); // not opened: nothing was charged, nothing ran
      expect((await h.budget.spent({ buyerId, datasetId })).dataset.spentMicro).toBe(0);
      const past = await PrivacyBudgetService.open(opened().store, { audit: h.audit, recoveryGraceMs: 0 });
      expect(await past.debit(req)).toMatchObject({ replayed: true, buyerRemainingMicro: eps(1.9) });
      await expectConsistent(h.budget, datasetId);
    });

    it.each([
      ["after it was opened", ["open"] as Step[]],
      ["after the buyer was charged", ["open", "buyer"] as Step[]],
      ["after both were charged", ["open", "buyer", "global"] as Step[]],
      ["after settling, before tidying", ["open", "buyer", "global", "settle"] as Step[]],
    ])("%s: recovery rolls it forward and counts the ε exactly once", async (_label, steps) => {
      const { datasetId, buyerId } = ids();
      const req = request({ datasetId, buyerId, queryId: "crashy" });
      await crashAfter(req, steps);
      const before = await h.budget.spent({ buyerId, datasetId });
      // Whatever landed before the crash is already counted: spend is never under-counted, even mid-way.
      expect(before.buyer.spentMicro).toBe(steps.includes("buyer") ? eps(0.1) : 0);

      // Too young for recovery to drive: a live process may still be on it (a settled one is tidied at once).
      const young = await h.budget.recover({ graceMs: 60_000 });
      expect(young.resumed).toBe(0);

      const report = await h.budget.recover({ graceMs: 0 });
      expect(young.tidied + report.resumed + report.tidied).toBe(1);
      expect(await h.budget.ledger.outcomeOf(`${buyerId}|crashy`)).toMatchObject({ state: "debited" });
      await expectConsistent(h.budget, datasetId);
      expect((await h.budget.spent({ buyerId, datasetId })).buyer.spentMicro).toBe(eps(0.1));
      expect(await h.audit.findByEventId(`${BUDGET_ACTIONS.debited}:${buyerId}:crashy`)).not.toBeNull();
      // The client's retry with the same query id gets the outcome, charged once.
      expect(await h.budget.debit(req)).toMatchObject({ replayed: true, epsilonMicro: eps(0.1) });
      expect((await h.budget.spent({ buyerId, datasetId })).dataset.spentMicro).toBe(eps(0.1));
    });

    it("buyer charged, global full, crash before settling: recovery refuses it and gives the buyer's charge back", async () => {
      const { datasetId, buyerId, other } = ids();
      await h.budget.debit(request({ datasetId, buyerId: other, queryId: "fill", epsilonMicro: eps(1), globalCapMicro: eps(1) }));
      const req = request({ datasetId, buyerId, queryId: "late", globalCapMicro: eps(1) });
      await crashAfter(req, ["open", "buyer", "global"]);
      expect((await h.budget.spent({ buyerId, datasetId })).buyer.spentMicro).toBe(eps(0.1)); // charged, not yet refunded
      await h.budget.recover({ graceMs: 0 });
      expect(await h.budget.ledger.outcomeOf(`${buyerId}|late`)).toMatchObject({ state: "refused", refusedBy: "DATASET" });
      expect((await h.budget.spent({ buyerId, datasetId })).buyer).toEqual({ spentMicro: 0, debits: 0 });
      await expectConsistent(h.budget, datasetId, { globalCapMicro: eps(1) });
      await expect(h.budget.debit(req)).rejects.toMatchObject({ cap: "DATASET" });
    });

    it("settled refused with the buyer still charged (crash before the refund): recovery refunds it once", async () => {
      const { datasetId, buyerId, other } = ids();
      await h.budget.debit(request({ datasetId, buyerId: other, queryId: "fill", epsilonMicro: eps(1), globalCapMicro: eps(1) }));
      await crashAfter(request({ datasetId, buyerId, queryId: "late", globalCapMicro: eps(1) }), ["open", "buyer", "global", "settle"]);
      await h.budget.recover({ graceMs: 0 });
      await h.budget.recover({ graceMs: 0 }); // twice: the refund goes with its marker, so never twice
      expect((await h.budget.spent({ buyerId, datasetId })).buyer.spentMicro).toBe(0);
      await expectConsistent(h.budget, datasetId);
    });

    it("a retry of a crashed query id waits, then (past the grace period) finishes the debit itself", async () => {
      const { datasetId, buyerId } = ids();
      const req = request({ datasetId, buyerId, queryId: "retry" });
      await crashAfter(req, ["open", "buyer"]);
      const impatient = await PrivacyBudgetService.open(opened().store, { audit: h.audit, waitMs: 30 });
      await expect(impatient.debit(req)).rejects.toBeInstanceOf(QueryInProgress);
      const past = await PrivacyBudgetService.open(opened().store, { audit: h.audit, recoveryGraceMs: 0 });
      expect(await past.debit(req)).toMatchObject({ replayed: true, buyerRemainingMicro: eps(1.9) });
      await expectConsistent(h.budget, datasetId);
    });

    it("a stale driver that wakes up after recovery settled its entry can only over-count, never under-count", async () => {
      const { datasetId, buyerId } = ids();
      const req = request({ datasetId, buyerId, queryId: "stale" });
      const { entry } = await h.budget.ledger.begin(req);
      await h.budget.ledger.markOpen(entry);
      expect((await h.budget.ledger.charge(entry, "BUYER")).charged).toBe(true);
      await h.budget.recover({ graceMs: 0 }); // another process finishes it: debited, markers cleared
      // The original process resumes where it stopped, with its stale copy of the entry.
      const global = await h.budget.ledger.charge(entry, "DATASET"); // the marker is gone: charged again
      expect(global.charged).toBe(true);
      const settled = await h.budget.ledger.settle(entry, { state: "debited", refusedBy: null, buyerRemainingMicro: 0, globalRemainingMicro: 0 });
      expect(settled.state).toBe("debited"); // recovery's outcome, not a second one
      await h.budget.ledger.tidy(entry, settled);
      const spent = await h.budget.spent({ buyerId, datasetId });
      expect(spent.buyer.spentMicro).toBe(eps(0.1));
      expect(spent.dataset.spentMicro).toBe(eps(0.2)); // over-counted by the stale charge: the safe direction
      await expectConsistent(h.budget, datasetId, { exact: false });
    });
  });

  it("budgets belong to the dataset, not its version: a new version starts where the last one stopped", async () => {
    const { datasetId, buyerId } = ids();
    const caps = { buyerCapMicro: eps(0.3), globalCapMicro: eps(1), epsilonMicro: eps(0.1) };
    const hash = (n: number) => n.toString(16).padStart(64, "0");
    const ask = (version: number, n: number) =>
      h.budget.answerOnce(
        { ...caps, datasetId, buyerId, datasetVersionId: `${datasetId}@${version}`, canonicalQueryHash: hash(n), queryId: `v${version}q${n}` },
        async () => ({ count: 100 + n }),
      );
    await ask(1, 1);
    await ask(1, 2);
    // The same canonical query on version 2 is a new question about new data: charged again…
    const v2 = await ask(2, 1);
    expect(v2).toMatchObject({ cached: false, debit: { buyerRemainingMicro: 0 } });
    // …against the same budget, which is now spent on every version.
    await expect(ask(2, 3)).rejects.toMatchObject({ cap: "BUYER", remainingMicro: 0 });
    await expect(ask(3, 9)).rejects.toMatchObject({ cap: "BUYER" });
    // Asked again on version 1, it is still the cached answer, at no cost.
    expect(await ask(1, 1)).toMatchObject({ cached: true, answer: { count: 101 } });
    expect(await h.budget.ledger.buyerAccounts.get(buyerAccountId(datasetId, buyerId))).toMatchObject({ spentMicro: eps(0.3), debits: 3 });
    expect(await h.budget.ledger.datasetAccounts.get(datasetAccountId(datasetId))).toMatchObject({ spentMicro: eps(0.3) });
    await expectConsistent(h.budget, datasetId);
  });
});
