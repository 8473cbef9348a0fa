/**
 * Released answers: the same canonical query from the same buyer on the same dataset version is
 * answered from the cache at no ε cost, concurrent identical queries debit once, and a claim that
 * was given up or died does not block anyone for long.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { documentStoreFactories, useOpened } from "../../support/stores.ts";
import type { JsonValue } from "../../../src/store/port.ts";
import { BudgetExhausted, QueryInProgress } from "../../../src/privacy/budget/errors.ts";
import { PrivacyBudgetService, type AnswerRequest } from "../../../src/privacy/budget/service.ts";
import { canonicalQueryHash } from "../../../src/privacy/budget/query-hash.ts";
import { eps, expectConsistent, ids, openBudget, type Harness } from "./harness.ts";

describe.each(documentStoreFactories())("released-answer cache on $name", (factory) => {
  const opened = useOpened(factory);
  let h: Harness;
  beforeAll(async () => {
    h = await openBudget(opened().store);
  });
  afterAll(async () => {
    await h?.audit.close();
  });

  const ir = (n: number): JsonValue => ({
    aggregates: [{ fn: "COUNT_UNITS" }],
    groupBy: ["city"],
    where: [{ column: "year", eq: n }],
    epsilon: "0.1",
  });

  function asker(base: { datasetId: string; buyerId: string }, over: Partial<AnswerRequest> = {}) {
    let n = 0;
    let runs = 0;
    const ask = (irN: number, queryId = `q${n++}`, version = 1) =>
      h.budget.answerOnce(
        {
          ...base,
          datasetVersionId: `${base.datasetId}@${version}`,
          canonicalQueryHash: canonicalQueryHash(ir(irN)),
          queryId,
          epsilonMicro: eps(0.1),
          buyerCapMicro: eps(1),
          globalCapMicro: eps(10),
          ...over,
        },
        async () => {
          runs++;
          return { rows: [{ city: "杭州", count: 1000 + runs }], runs };
        },
      );
    return { ask, runs: () => runs };
  }

  it("hashes the canonical IR: key order does not matter, content does", () => {
    expect(canonicalQueryHash({ a: 1, b: [1, 2] })).toBe(canonicalQueryHash({ b: [1, 2], a: 1 }));
    expect(canonicalQueryHash({ a: 1 })).not.toBe(canonicalQueryHash({ a: 2 }));
    expect(canonicalQueryHash({ a: 1 })).toMatch(/^[0-9a-f]{64}$/);
  });

  it("an identical canonical query is answered from the cache with the same noisy answer and no ε", async () => {
    const who = ids();
    const { ask, runs } = asker(who);
    const first = await ask(1);
    expect(first).toMatchObject({ cached: false, debit: { epsilonMicro: eps(0.1), replayed: false } });
    const again = await ask(1);
    expect(again).toEqual({ answer: first.answer, cached: true, debit: null });
    expect(runs()).toBe(1);
    expect(await h.budget.getCachedAnswer(who.buyerId, `${who.datasetId}@1`, canonicalQueryHash(ir(1)))).toMatchObject({
      answer: first.answer,
      queryId: "q0",
      epsilonMicro: eps(0.1),
    });
    expect((await h.budget.spent(who)).buyer).toEqual({ spentMicro: eps(0.1), debits: 1 });
    // Another buyer asking the same thing pays for its own answer.
    const other = asker({ datasetId: who.datasetId, buyerId: who.other });
    expect(await other.ask(1)).toMatchObject({ cached: false });
    await expectConsistent(h.budget, who.datasetId);
  });

  it("1,000 repeats of one query: charged once, then cached; distinct queries are charged until the cap refuses", async () => {
    const who = ids();
    const { ask, runs } = asker(who);
    const answers = [];
    for (let i = 0; i < 1000; i++) answers.push(await ask(7));
    expect(answers.filter((a) => !a.cached)).toHaveLength(1);
    expect(new Set(answers.map((a) => JSON.stringify(a.answer))).size).toBe(1);
    expect(runs()).toBe(1);
    // Now distinct queries: 9 more fit under the 1.0 cap (0.1 is spent), then refusals.
    const outcomes = [];
    for (let i = 0; i < 15; i++)
      outcomes.push(
        await ask(100 + i).then(
          () => "ok",
          (e: unknown) => e,
        ),
      );
    expect(outcomes.filter((o) => o === "ok")).toHaveLength(9);
    for (const o of outcomes.slice(9)) expect(o).toMatchObject({ cap: "BUYER", remainingMicro: 0 });
    expect((await h.budget.spent(who)).buyer).toEqual({ spentMicro: eps(1), debits: 10 });
    // A refused query leaves its claim open: nothing is stored for it, and it does not block.
    expect(await h.budget.getCachedAnswer(who.buyerId, `${who.datasetId}@1`, canonicalQueryHash(ir(110)))).toBeNull();
    await expectConsistent(h.budget, who.datasetId);
  }, 120_000);

  it("30 concurrent identical queries run once, debit once, and all get the same answer", async () => {
    const who = ids();
    const { ask, runs } = asker(who);
    const all = await Promise.all(Array.from({ length: 30 }, () => ask(3)));
    expect(runs()).toBe(1);
    expect(all.filter((a) => !a.cached)).toHaveLength(1);
    expect(new Set(all.map((a) => JSON.stringify(a.answer))).size).toBe(1);
    expect((await h.budget.spent(who)).buyer).toEqual({ spentMicro: eps(0.1), debits: 1 });
    await expectConsistent(h.budget, who.datasetId);
  }, 120_000);

  it("a failed run keeps its ε spent and reopens the claim: the next identical query runs (and pays) again", async () => {
    const who = ids();
    const req = {
      ...who,
      datasetVersionId: `${who.datasetId}@1`,
      canonicalQueryHash: canonicalQueryHash(ir(5)),
      epsilonMicro: eps(0.1),
      buyerCapMicro: eps(1),
      globalCapMicro: eps(10),
    };
    await expect(
      h.budget.answerOnce({ ...req, queryId: "boom" }, async () => {
        throw new Error("kernel timed out");
      }),
    ).rejects.toThrow("kernel timed out");
    expect((await h.budget.spent(who)).buyer.spentMicro).toBe(eps(0.1)); // data was touched: no refund
    const second = await h.budget.answerOnce({ ...req, queryId: "again" }, async () => ({ ok: true }));
    expect(second).toMatchObject({ cached: false, answer: { ok: true } });
    expect((await h.budget.spent(who)).buyer.spentMicro).toBe(eps(0.2));
    await expectConsistent(h.budget, who.datasetId);
  });

  it("a refused identical query does not hold up the others, and a raised cap lets a new one through", async () => {
    const who = ids();
    const tight = asker(who, { buyerCapMicro: eps(0.05) });
    await expect(tight.ask(9)).rejects.toBeInstanceOf(BudgetExhausted);
    const roomy = asker(who, { buyerCapMicro: eps(1) });
    expect(await roomy.ask(9, "other-id")).toMatchObject({ cached: false });
  });

  it("while another query holds the claim, an identical one waits, then says QueryInProgress and charges nothing", async () => {
    const who = ids();
    const impatient = await PrivacyBudgetService.open(opened().store, { audit: h.audit, waitMs: 40 });
    const key = { buyerId: who.buyerId, datasetVersionId: `${who.datasetId}@1`, canonicalQueryHash: canonicalQueryHash(ir(11)) };
    expect(await impatient.claimAnswer({ ...key, queryId: "holder" })).toEqual({ kind: "claimed" });
    // The holder retrying (same query id) gets its claim back.
    expect(await impatient.claimAnswer({ ...key, queryId: "holder" })).toEqual({ kind: "claimed" });
    await expect(impatient.claimAnswer({ ...key, queryId: "second" })).rejects.toBeInstanceOf(QueryInProgress);
    expect((await impatient.spent(who)).buyer.spentMicro).toBe(0);

    // A claim whose holder died (older than the TTL) is overtaken.
    const overtaking = await PrivacyBudgetService.open(opened().store, { audit: h.audit, claimTtlMs: 0, waitMs: 40 });
    expect(await overtaking.claimAnswer({ ...key, queryId: "second" })).toEqual({ kind: "claimed" });
    // Released, it goes to the next asker.
    await overtaking.releaseClaim({ ...key, queryId: "second" });
    expect(await impatient.claimAnswer({ ...key, queryId: "third" })).toEqual({ kind: "claimed" });
  });

  it("only a query whose debit went through can store an answer; the first stored answer wins", async () => {
    const who = ids();
    const base = { ...who, datasetVersionId: `${who.datasetId}@1`, canonicalQueryHash: canonicalQueryHash(ir(12)), epsilonMicro: eps(0.1) };
    await expect(h.budget.storeAnswer({ ...base, queryId: "never-debited", answer: { leaked: true } })).rejects.toThrow(
      /no matching debited budget entry/,
    );
    for (const queryId of ["d1", "d2"]) {
      await h.budget.debit({ ...who, queryId, epsilonMicro: eps(0.1), buyerCapMicro: eps(1), globalCapMicro: eps(10) });
    }
    const first = await h.budget.storeAnswer({ ...base, queryId: "d1", answer: { n: 1 } });
    const second = await h.budget.storeAnswer({ ...base, queryId: "d2", answer: { n: 2 } });
    expect(first.answer).toEqual({ n: 1 });
    expect(second).toEqual(first);
  });
});
