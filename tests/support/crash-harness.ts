/**
 * The crash tests' harness: the real service as a child process (`node src/main.ts`), killed with
 * SIGKILL and restarted on the same data, and the checks every crash must pass once recovery ran:
 *   - every run is released or failed, never left open;
 *   - no hold is still opening, held or resolving (no credit stays locked);
 *   - the ledger's integrity holds, and its sales, platform revenue and payouts equal the log's
 *     trade.settled events (the reconciliation report);
 *   - every readable answer has its posted charge and its `query.executed` event, and every
 *     charged event in the log its posted hold and its trade;
 *   - the log's export verifies offline against its signed checkpoint.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { expect } from "vitest";
import { openStores } from "../../src/store/open.ts";
import { Ledger } from "../../src/billing/ledger/ledger.ts";
import { verifyExport } from "../../src/audit/verify-export.ts";
import type { CrashPoint } from "../../src/runs/index.ts";

const ROOT = join(import.meta.dirname, "..", "..");

export interface Child {
  url: string;
  proc: ChildProcessWithoutNullStreams;
  exited: Promise<number | null>;
}

export function start(env: Record<string, string>): Promise<Child> {
  const proc = spawn(process.execPath, ["--no-node-snapshot", "src/main.ts"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", PORT: "0", LOG_LEVEL: "warn", RECOVERY_INTERVAL_MS: "200", RUN_LEASE_MS: "1000", ...env },
  });
  let out = "";
  let err = "";
  proc.stdout.on("data", (d) => (out += d));
  proc.stderr.on("data", (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    proc.stdout.on("data", () => {
      const m = /listening on (http:\/\/\S+)\/graphql/.exec(out);
      if (m) resolve({ url: m[1]!, proc, exited });
    });
    proc.on("exit", (code) => reject(new Error(`the service exited (${code}) before listening: ${err.slice(-2000)}`)));
  });
}

export async function gql(url: string, key: string, query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as any;
}

export interface Demo {
  keys: Record<string, string>;
  listingId: string;
  analysisId: string;
}

/** The demo buyer's approved listing and analysis, through the API. */
export async function demoOf(url: string, dataDir: string): Promise<Demo> {
  const creds = JSON.parse(await readFile(join(dataDir, "demo-credentials.json"), "utf8")) as Array<{ role: string; apiKey: string }>;
  const keys = Object.fromEntries(creds.map((c) => [c.role, c.apiKey]));
  const r = await gql(
    url,
    keys.BUYER!,
    `{ myAccessRequests(status: APPROVED) { edges { node { listingId } } } myAnalyses(status: APPROVED) { edges { node { id listingId } } } }`,
  );
  const analysis = r.data.myAnalyses.edges[0].node;
  return { keys, listingId: analysis.listingId, analysisId: analysis.id };
}

export const RUN = {
  query: `mutation ($l: ID!, $k: String!) { runQuery(input: { query: { listingId: $l, groupBy: ["pickup_district"], aggregates: [{ kind: COUNT_UNITS }] }, idempotencyKey: $k }) { __typename ... on DomainError { code message } } }`,
  analysis: `mutation ($a: ID!, $k: String!) { runAnalysis(input: { analysisId: $a, idempotencyKey: $k }) { __typename ... on DomainError { code message } } }`,
};

export async function crashOneRun(
  env: Record<string, string>,
  demo: Demo,
  kind: "query" | "analysis",
  point: CrashPoint,
  key: string,
): Promise<void> {
  const child = await start({ ...env, EXCHANGE_CRASH_AT: `${point}:${kind}` });
  const vars = kind === "query" ? { l: demo.listingId, k: key } : { a: demo.analysisId, k: key };
  // The process dies mid-run: the request never gets an answer.
  await expect(gql(child.url, demo.keys.BUYER!, RUN[kind], vars)).rejects.toThrow();
  expect(await child.exited).toBeNull(); // killed by a signal, not exited
}

/** Restarts on the same data, lets recovery work, takes the log's export, and stops it hard. */
export async function recoverAndExport(env: Record<string, string>, demo: Demo): Promise<Exported> {
  const child = await start(env);
  try {
    // Lease (1 s) + a few sweeps (200 ms each).
    await new Promise((r) => setTimeout(r, 2_500));
    const auth = { authorization: `Bearer ${demo.keys.REGULATOR}` };
    const exportText = await (await fetch(`${child.url}/audit/export.ndjson`, { headers: auth })).text();
    const checkpoint = await (await fetch(`${child.url}/audit/checkpoint`)).text();
    const vkey = (await (await fetch(`${child.url}/audit/key`)).text()).trim();
    const reconciliation = (await gql(child.url, demo.keys.ADMIN!, RECONCILE)).data?.reconciliation;
    return { exportText, checkpoint, vkey, reconciliation };
  } finally {
    child.proc.kill("SIGKILL");
    await child.exited;
  }
}

const RECONCILE = `{ reconciliation { balanced ledger { ok } meter { agrees } holds { agrees }
  log { currency agrees ledgerSales loggedSales ledgerPlatformFee loggedPlatformFee ledgerPayouts loggedPayouts } } }`;

export interface Exported {
  exportText: string;
  checkpoint: string;
  vkey: string;
  reconciliation: any;
}

/** What the general checks read, for a caller's own checks on the run it crashed. */
export interface StoredState {
  runs: any[];
  answers: any[];
  outcomes: any[];
  intents: any[];
  executed: Map<string, any>;
  holdById: Map<string, any>;
}

/** The checks every crash must pass (see the header); then `more` on the stored state. */
export async function checkStoredState(
  location: { dataDir: string; mongo: { uri: string; db: string } | null },
  exported: Exported,
  more: (state: StoredState) => void | Promise<void> = () => undefined,
): Promise<void> {
  const { store, blobs } = await openStores(location);
  try {
    const all = async (name: string) => (await (await store.collection<any>(name, [])).find({}, { limit: 10_000 })).items;
    const runs = await all("runs");
    const holds = await all("billing_holds");
    const answers = await all("privacy_answers");
    const outcomes = await all("privacy_budget_outcomes");
    const entries = (await all("audit_entries")).map((d: { entry: string }) => JSON.parse(d.entry));
    const intents = await all("audit_intents");

    expect(runs.filter((r: { state: string }) => r.state !== "released" && r.state !== "failed")).toEqual([]);
    expect(holds.filter((h: { state: string }) => ["opening", "held", "resolving"].includes(h.state))).toEqual([]);
    const ledger = await Ledger.open(store, {
      now: () => new Date(),
      audit: {
        transferPosted: async () => {
          throw new Error("read-only check");
        },
      } as never,
    });
    const integrity = await ledger.checkIntegrity();
    expect(integrity.problems).toEqual([]);
    expect(integrity.ok).toBe(true);

    const holdById = new Map(holds.map((h: { _id: string }) => [h._id, h]));
    const executed = new Map(entries.filter((e: { action: string }) => e.action === "query.executed").map((e: any) => [e.subject.queryId, e]));
    const trades = new Map(entries.filter((e: { action: string }) => e.action === "trade.settled").map((e: any) => [e.subject.queryId, e]));
    const runById = new Map(runs.map((r: { _id: string }) => [r._id, r]));
    // Every readable answer: its run released, its charge posted, its event in the log.
    for (const a of answers) {
      const run = runById.get(a.queryId) as any;
      if (!run) continue; // answers of the demo seed's own runs predate nothing: they have runs too, checked below
      expect(run.state).toBe("released");
      if (run.holdId) expect((holdById.get(run.holdId) as any)?.state).toBe("posted");
      expect(executed.has(a.queryId)).toBe(true);
    }
    // Every charged event in the log: its hold is posted.
    for (const [queryId, e] of executed as Map<string, any>) {
      if (e.data.priceMinor > 0) {
        const run = runById.get(queryId) as any;
        expect(run?.holdId && (holdById.get(run.holdId) as any)?.state).toBe("posted");
        expect(trades.get(queryId)?.data.amountMinor).toBe(e.data.priceMinor);
      }
    }
    // The book and the log agree, and the book with itself.
    expect(exported.reconciliation?.log, JSON.stringify(exported.reconciliation)).toBeInstanceOf(Array);
    expect(exported.reconciliation.log.filter((l: { agrees: boolean }) => !l.agrees)).toEqual([]);
    expect(exported.reconciliation?.ledger.ok).toBe(true);
    await more({ runs, answers, outcomes, intents, executed: executed as Map<string, any>, holdById: holdById as Map<string, any> });
    // The log verifies offline.
    const cpNote = exported.checkpoint;
    const report = await verifyExport(exported.exportText.split("\n").filter(Boolean), cpNote, exported.vkey);
    expect(report.failures).toEqual([]);
    expect(report.ok).toBe(true);
  } finally {
    await Promise.allSettled([store.close(), blobs.close()]);
  }
}
