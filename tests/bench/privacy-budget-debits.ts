/**
 * Throughput of privacy budget debits on each store adapter (not a test: prints figures).
 *
 *   ./nodew node --no-node-snapshot tests/bench/privacy-budget-debits.ts            # SQLite
 *   MONGODB_URI=mongodb://127.0.0.1:27017/ ./nodew node --no-node-snapshot tests/bench/privacy-budget-debits.ts
 *
 * Scenarios, each with `concurrency` debits in flight in one process:
 *   one buyer     every debit on the same buyer account and dataset (both documents hot)
 *   many buyers   one debit per buyer on one dataset (the global document hot)
 *   refusals      the same, with a cap that fits 5: the rest are refused (and refunded)
 * "+audit" uses the real Merkle audit log; "no audit" a recorder that drops events, to show
 * the ledger's own cost.
 */
import { performance } from "node:perf_hooks";
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import type { DocumentStore } from "../../src/store/port.ts";
import type { AuditRecorder } from "../../src/audit-trail.ts";
import { AuditLog } from "../../src/audit/service.ts";
import { newId } from "../../src/ids.ts";
import { PrivacyBudgetService } from "../../src/privacy/budget/service.ts";
import { NO_READ_SIDE } from "../support/budget-directory.ts";

const N = Number(process.env.DEBITS ?? 200);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 20);

async function openStore(): Promise<{ store: DocumentStore; cleanup: () => Promise<void>; name: string }> {
  const uri = process.env.MONGODB_URI;
  if (uri) {
    const { openMongoStore } = await import("../../src/store/mongo.ts");
    const store = await openMongoStore(uri, `bench_${process.pid}_${randomBytes(4).toString("hex")}`);
    return {
      store,
      name: "mongodb-wire",
      cleanup: async () => {
        await store.db.dropDatabase();
        await store.close();
      },
    };
  }
  const { openSqliteStore } = await import("../../src/store/sqlite.ts");
  const dir = await mkdtemp(join(tmpdir(), "bench-budget-"));
  const store = await openSqliteStore(join(dir, "store.db"));
  return {
    store,
    name: "sqlite",
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function pool<T>(n: number, concurrency: number, job: (i: number) => Promise<T>): Promise<PromiseSettledResult<T>[]> {
  const results: PromiseSettledResult<T>[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        results[i] = await job(i).then(
          (value) => ({ status: "fulfilled" as const, value }),
          (reason: unknown) => ({ status: "rejected" as const, reason }),
        );
      }
    }),
  );
  return results;
}

async function scenario(budget: PrivacyBudgetService, label: string, manyBuyers: boolean, globalCapMicro: number): Promise<void> {
  const datasetId = newId("ds");
  const started = performance.now();
  const results = await pool(N, CONCURRENCY, (i) =>
    budget.debit({
      queryId: `${datasetId}.q${i}`,
      buyerId: manyBuyers ? `acc_b${i}` : "acc_one",
      datasetId,
      epsilonMicro: 1000,
      buyerCapMicro: 1_000_000_000,
      globalCapMicro,
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const ok = results.filter((r) => r.status === "fulfilled").length;
  const failed = results.filter((r) => r.status === "rejected" && (r.reason as { code?: string }).code !== "BUDGET_EXHAUSTED");
  if (failed.length) throw (failed[0] as PromiseRejectedResult).reason;
  console.log(`  ${label.padEnd(34)} ${(N / seconds).toFixed(0).padStart(6)} debits/s  (${N} in ${seconds.toFixed(2)} s, ${ok} charged)`);
}

async function main(): Promise<void> {
  const { store, cleanup, name } = await openStore();
  try {
    const audit = await AuditLog.open(store, {
      origin: "bench/audit",
      signingKey: generateKeyPairSync("ed25519").privateKey,
      checkpointEveryMs: 1000,
    });
    const dropped: AuditRecorder = { record: async () => ({ seq: 0, leafHash: "" }) };
    console.log(`${name}: ${N} debits per scenario, ${CONCURRENCY} in flight`);
    for (const [recorderLabel, recorder] of [
      ["+audit", audit],
      ["no audit", dropped],
    ] as const) {
      const budget = await PrivacyBudgetService.open(store, { audit: recorder, directory: NO_READ_SIDE });
      await scenario(budget, `one buyer, all fit (${recorderLabel})`, false, 1_000_000_000);
      await scenario(budget, `many buyers, all fit (${recorderLabel})`, true, 1_000_000_000);
      await scenario(budget, `many buyers, 5 fit (${recorderLabel})`, true, 5000);
    }
    await audit.close();
  } finally {
    await cleanup();
  }
}

await main();
