/**
 * Several drivers of the same debits (a slow live process, a retry, recovery), their steps
 * interleaved in random orders on a real store: the caps are never passed and spend is never
 * under-counted, whatever the order; it is over-counted only by a charge that a stale driver
 * makes after its entry was already settled and tidied.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { documentStoreFactories, useOpened } from "../../support/stores.ts";
import { newId } from "../../../src/ids.ts";
import type { Stored } from "../../../src/store/port.ts";
import type { DriveStep } from "../../../src/privacy/budget/ledger.ts";
import { buyerAccountId, datasetAccountId, type BudgetEntry } from "../../../src/privacy/budget/model.ts";
import { eps, expectConsistent, openBudget, type Harness } from "./harness.ts";

type Pause = (step: DriveStep) => Promise<void>;

interface Task {
  entry: Stored<BudgetEntry>;
  run: (pause: Pause) => Promise<unknown>;
}

/**
 * Runs tasks so that only one moves at a time, between the ledger's steps; `choices` picks which
 * paused task goes next. Before each charge it notes whether the entry was already settled and
 * tidied: only such a "late" charge (a stale driver waking up) may be counted on top.
 */
async function interleave(tasks: Task[], choices: number[], onCharge: (task: Task, step: DriveStep) => Promise<void>): Promise<void> {
  const waiting: Array<{ task: Task; step: DriveStep; go: () => void }> = [];
  let alive = tasks.length;
  let notify: (() => void) | null = null;
  const wake = () => {
    const n = notify;
    notify = null;
    n?.();
  };
  const pauseFor =
    (task: Task): Pause =>
    (step) =>
      new Promise<void>((go) => {
        waiting.push({ task, step, go });
        wake();
      });
  const done = Promise.allSettled(
    tasks.map((t) =>
      pauseFor(t)("charge buyer") // every task starts paused
        .then(() => t.run(pauseFor(t)))
        .finally(() => {
          alive--;
          wake();
        }),
    ),
  );
  for (let k = 0; alive > 0; k++) {
    while (waiting.length < alive) await new Promise<void>((r) => (notify = r));
    if (alive === 0) break;
    const i = (choices[k % choices.length] ?? 0) % waiting.length;
    const next = waiting.splice(i, 1)[0]!;
    if (next.step === "charge buyer" || next.step === "charge dataset") await onCharge(next.task, next.step);
    next.go();
  }
  for (const o of await done) {
    if (o.status === "rejected") throw o.reason;
  }
}

describe.each(documentStoreFactories())("interleaved debit drivers on $name", (factory) => {
  const opened = useOpened(factory);
  let h: Harness;
  beforeAll(async () => {
    h = await openBudget(opened().store);
  });
  afterAll(async () => {
    await h?.audit.close();
  });

  it("never pass a cap and never under-count, in any order of steps", async () => {
    const buyerCap = eps(0.4);
    const globalCap = eps(0.5);
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({ buyer: fc.integer({ min: 0, max: 1 }), tenths: fc.integer({ min: 1, max: 3 }), drivers: fc.integer({ min: 1, max: 3 }) }),
          {
            minLength: 2,
            maxLength: 4,
          },
        ),
        fc.array(fc.nat(), { minLength: 1, maxLength: 64 }),
        async (debits, choices) => {
          const datasetId = newId("ds");
          const buyers = [newId("acc"), newId("acc")];
          const tasks: Task[] = [];
          for (const [i, d] of debits.entries()) {
            const { entry } = await h.budget.ledger.begin({
              queryId: `q${i}`,
              buyerId: buyers[d.buyer]!,
              datasetId,
              epsilonMicro: eps(d.tenths / 10),
              buyerCapMicro: buyerCap,
              globalCapMicro: globalCap,
            });
            // Every driver holds the entry as it was read at the start: pending.
            for (let k = 0; k < d.drivers; k++) tasks.push({ entry, run: (pause) => h.budget.ledger.drive(entry, { pauseBefore: pause }) });
          }
          // The most each account may hold above its debited entries: one ε per late charge.
          const lateAllowance = new Map<string, number>();
          await interleave(tasks, choices, async (task, step) => {
            // Settled and tidied: an outcome exists and no work is owed any more.
            const settled = (await h.budget.ledger.outcomeOf(task.entry._id)) !== null;
            if (!settled || (await h.budget.ledger.open.get(task.entry._id)) !== null) return;
            const account = step === "charge buyer" ? buyerAccountId(datasetId, task.entry.buyerId) : datasetAccountId(datasetId);
            lateAllowance.set(account, (lateAllowance.get(account) ?? 0) + task.entry.epsilonMicro);
          });
          await h.budget.recover({ graceMs: 0 });
          const { globalSpentMicro, debitedMicro } = await expectConsistent(h.budget, datasetId, { exact: false, globalCapMicro: globalCap });
          expect(globalSpentMicro).toBeLessThanOrEqual(debitedMicro + (lateAllowance.get(datasetAccountId(datasetId)) ?? 0));
          const entries = (await h.budget.ledger.outcomes.find({ datasetId }, { limit: 100 })).items;
          for (const buyerId of buyers) {
            const id = buyerAccountId(datasetId, buyerId);
            const spent = (await h.budget.ledger.buyerAccounts.get(id))?.spentMicro ?? 0;
            const debited = entries.filter((e) => e.buyerId === buyerId && e.state === "debited").reduce((s, e) => s + e.epsilonMicro, 0);
            expect(spent).toBeLessThanOrEqual(buyerCap);
            expect(spent).toBeGreaterThanOrEqual(debited);
            expect(spent).toBeLessThanOrEqual(debited + (lateAllowance.get(id) ?? 0));
          }
        },
      ),
      { numRuns: factory.kind === "sqlite" ? 60 : 15 },
    );
  }, 120_000);
});
