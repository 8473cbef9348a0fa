/** Debits from several processes on one store: the caps hold across processes, not just within one. */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { documentStoreFactories, useOpened } from "../../support/stores.ts";
import { newSigningKey, TEST_ORIGIN } from "../../support/audit.ts";
import { AuditLog } from "../../../src/audit/service.ts";
import { PrivacyBudgetService } from "../../../src/privacy/budget/service.ts";
import { newId } from "../../../src/ids.ts";
import { eps, expectConsistent } from "./harness.ts";
import type { DebitJob } from "./debit-worker.ts";
import { NO_READ_SIDE } from "../../support/budget-directory.ts";

const WORKER = fileURLToPath(new URL("./debit-worker.ts", import.meta.url));

interface Started {
  ready: Promise<void>;
  go(): void;
  result: Promise<{ ok: number; refused: number; errors: string[] }>;
}

function startDebitWorker(job: DebitJob): Started {
  const child = spawn(process.execPath, ["--no-node-snapshot", WORKER, JSON.stringify(job)], { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    out += d;
    let nl: number;
    while ((nl = out.indexOf("\n")) >= 0) {
      lines.push(out.slice(0, nl));
      out = out.slice(nl + 1);
      waiters.splice(0).forEach((w) => w());
    }
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  const line = (n: number) =>
    new Promise<string>((resolve, reject) => {
      const check = () => (lines[n] !== undefined ? resolve(lines[n]!) : waiters.push(check));
      check();
      void exited.then((code) => lines[n] === undefined && reject(new Error(`debit worker exited (${String(code)}):\n${err}`)));
    });
  const ready = line(0).then((l) => {
    if (l !== "ready") throw new Error(`debit worker said ${l}:\n${err}`);
  });
  const result = line(1).then(async (l) => {
    await exited;
    return JSON.parse(l) as { ok: number; refused: number; errors: string[] };
  });
  ready.catch(() => {});
  result.catch(() => {});
  return { ready, go: () => child.stdin.end("go\n"), result };
}

describe.each(documentStoreFactories())("privacy budget across processes on $name", (factory) => {
  const opened = useOpened(factory);
  const key = newSigningKey();
  let audit: AuditLog;
  let budget: PrivacyBudgetService;
  beforeAll(async () => {
    audit = await AuditLog.open(opened().store, { origin: TEST_ORIGIN, signingKey: key, checkpointEveryMs: 0 });
    budget = await PrivacyBudgetService.open(opened().store, { audit, directory: NO_READ_SIDE });
  });
  afterAll(async () => {
    await audit?.close();
  });

  it("3 processes × 20 debits by one buyer whose cap fits 5: exactly 5 succeed", async () => {
    const datasetId = newId("ds");
    const base = {
      location: opened().location!,
      origin: TEST_ORIGIN,
      keyPem: key.export({ type: "pkcs8", format: "pem" }).toString(),
      debits: 20,
      datasetId,
      epsilonMicro: eps(0.1),
    };
    const workers = [
      startDebitWorker({ ...base, label: "p1", buyerIds: ["acc_one"], buyerCapMicro: eps(0.5), globalCapMicro: eps(10) }),
      startDebitWorker({ ...base, label: "p2", buyerIds: ["acc_one"], buyerCapMicro: eps(0.5), globalCapMicro: eps(10) }),
      startDebitWorker({ ...base, label: "p3", buyerIds: ["acc_one"], buyerCapMicro: eps(0.5), globalCapMicro: eps(10) }),
    ];
    await Promise.all(workers.map((w) => w.ready));
    workers.forEach((w) => w.go());
    const results = await Promise.all(workers.map((w) => w.result));
    expect(results.flatMap((r) => r.errors)).toEqual([]);
    expect(results.reduce((s, r) => s + r.ok, 0)).toBe(5);
    expect(results.reduce((s, r) => s + r.refused, 0)).toBe(55);
    const { globalSpentMicro } = await expectConsistent(budget, datasetId);
    expect(globalSpentMicro).toBe(eps(0.5));
  }, 120_000);

  it("3 processes × 20 buyers against a global cap that fits 5: exactly 5 succeed", async () => {
    const datasetId = newId("ds");
    const base = {
      location: opened().location!,
      origin: TEST_ORIGIN,
      keyPem: key.export({ type: "pkcs8", format: "pem" }).toString(),
      debits: 20,
      datasetId,
      epsilonMicro: eps(0.1),
      buyerCapMicro: eps(1),
      globalCapMicro: eps(0.5),
    };
    const workers = ["p1", "p2", "p3"].map((label) =>
      startDebitWorker({ ...base, label, buyerIds: Array.from({ length: 20 }, (_, i) => `acc_${label}_${i}`) }),
    );
    await Promise.all(workers.map((w) => w.ready));
    workers.forEach((w) => w.go());
    const results = await Promise.all(workers.map((w) => w.result));
    expect(results.flatMap((r) => r.errors)).toEqual([]);
    expect(results.reduce((s, r) => s + r.ok, 0)).toBe(5);
    await expectConsistent(budget, datasetId, { globalCapMicro: eps(0.5) });
  }, 120_000);
});
