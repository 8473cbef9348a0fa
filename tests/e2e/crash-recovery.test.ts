/**
 * Runs that survive a crash. The real service runs as a child process (`node src/main.ts`) with
 * one crash point of the run path armed (EXCHANGE_CRASH_AT); a buyer's run kills it there with
 * SIGKILL; the service is restarted on the same data and its recovery sweeper left to work; then
 * the stored state is checked:
 *   - every run is released or failed, never left open;
 *   - no hold is still opening, held or resolving (no credit stays locked);
 *   - the ledger's integrity holds;
 *   - every readable answer has its posted charge and its `query.executed` event, and every
 *     charged event in the log its posted hold;
 *   - the run is released (answer, charge, events) exactly when it crashed after staging, and
 *     failed (hold voided, no answer, no event, ε still debited) when it crashed before;
 *   - the log's export verifies offline against its signed checkpoint.
 * Every crash point for queries and analyses on SQLite; the main ones on the MongoDB-wire server.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { cp, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStores } from "../../src/store/open.ts";
import { Ledger } from "../../src/billing/ledger/ledger.ts";
import { verifyExport } from "../../src/audit/verify-export.ts";
import { CRASH_POINTS, type CrashPoint } from "../../src/runs/index.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const MONGO = process.env.MONGODB_URI ?? null;
const STAGED: readonly CrashPoint[] = ["after-stage", "after-post", "after-log", "after-release"];

interface Child {
  url: string;
  proc: ChildProcessWithoutNullStreams;
  exited: Promise<number | null>;
}

function start(env: Record<string, string>): Promise<Child> {
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

async function gql(url: string, key: string, query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as any;
}

interface Demo {
  keys: Record<string, string>;
  listingId: string;
  analysisId: string;
}

/** The demo buyer's approved listing and analysis, through the API. */
async function demoOf(url: string, dataDir: string): Promise<Demo> {
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

const RUN = {
  query: `mutation ($l: ID!, $k: String!) { runQuery(input: { query: { listingId: $l, groupBy: ["pickup_district"], aggregates: [{ kind: COUNT_UNITS }] }, idempotencyKey: $k }) { __typename ... on DomainError { code message } } }`,
  analysis: `mutation ($a: ID!, $k: String!) { runAnalysis(input: { analysisId: $a, idempotencyKey: $k }) { __typename ... on DomainError { code message } } }`,
};

async function crashOneRun(env: Record<string, string>, demo: Demo, kind: "query" | "analysis", point: CrashPoint, key: string): Promise<void> {
  const child = await start({ ...env, EXCHANGE_CRASH_AT: `${point}:${kind}` });
  const vars = kind === "query" ? { l: demo.listingId, k: key } : { a: demo.analysisId, k: key };
  // The process dies mid-run: the request never gets an answer.
  await expect(gql(child.url, demo.keys.BUYER!, RUN[kind], vars)).rejects.toThrow();
  expect(await child.exited).toBeNull(); // killed by a signal, not exited
}

/** Restarts on the same data, lets recovery work, takes the log's export, and stops it hard. */
async function recoverAndExport(env: Record<string, string>, demo: Demo): Promise<{ exportText: string; checkpoint: string; vkey: string }> {
  const child = await start(env);
  try {
    // Lease (1 s) + a few sweeps (200 ms each).
    await new Promise((r) => setTimeout(r, 2_500));
    const auth = { authorization: `Bearer ${demo.keys.REGULATOR}` };
    const exportText = await (await fetch(`${child.url}/audit/export.ndjson`, { headers: auth })).text();
    const checkpoint = await (await fetch(`${child.url}/audit/checkpoint`)).text();
    const vkey = (await (await fetch(`${child.url}/audit/key`)).text()).trim();
    return { exportText, checkpoint, vkey };
  } finally {
    child.proc.kill("SIGKILL");
    await child.exited;
  }
}

async function checkInvariants(
  location: { dataDir: string; mongo: { uri: string; db: string } | null },
  exported: { exportText: string; checkpoint: string; vkey: string },
  point: CrashPoint,
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
    // The crashed run itself: released exactly when it had been staged.
    const mine = runs.sort((x: any, y: any) => y.createdAt.localeCompare(x.createdAt))[0];
    expect(mine).toBeDefined();
    if (STAGED.includes(point)) {
      expect(mine.state).toBe("released");
      expect(answers.some((a: { queryId: string }) => a.queryId === mine._id)).toBe(true);
      expect(executed.has(mine._id)).toBe(true);
    } else {
      expect(mine.state).toBe("failed");
      expect(answers.some((a: { queryId: string }) => a.queryId === mine._id)).toBe(false);
      expect(executed.has(mine._id)).toBe(false);
      if (mine.holdId && holdById.has(mine.holdId)) expect(["voided", "rejected"]).toContain((holdById.get(mine.holdId) as any).state);
      // ε once debited stays debited: never refunded.
      if (point !== "after-record" && point !== "after-hold") {
        expect(outcomes.some((o: { queryId: string; state: string }) => o.queryId === mine._id && o.state === "debited")).toBe(true);
      }
    }
    expect(intents.filter((i: { _id: string }) => i._id.endsWith(mine._id))).toEqual([]);

    // The log verifies offline.
    const cpNote = exported.checkpoint;
    const report = await verifyExport(exported.exportText.split("\n").filter(Boolean), cpNote, exported.vkey);
    expect(report.failures).toEqual([]);
    expect(report.ok).toBe(true);
  } finally {
    await Promise.allSettled([store.close(), blobs.close()]);
  }
}

describe("runs survive a crash at every point, on sqlite", () => {
  let template: string;
  let demo: Demo;
  const dirs: string[] = [];

  beforeAll(async () => {
    template = await mkdtemp(join(tmpdir(), "crash-template-"));
    dirs.push(template);
    const child = await start({ DATA_DIR: template, SEED_DEMO: "true" });
    demo = await demoOf(child.url, template);
    child.proc.kill("SIGTERM");
    await child.exited;
  }, 120_000);
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  for (const kind of ["query", "analysis"] as const) {
    for (const point of CRASH_POINTS) {
      it(`a ${kind} killed ${point} ends released or refunded, balanced and logged`, async () => {
        const dataDir = await mkdtemp(join(tmpdir(), "crash-case-"));
        dirs.push(dataDir);
        await cp(template, dataDir, { recursive: true });
        const env = { DATA_DIR: dataDir, SEED_DEMO: "false" };
        await crashOneRun(env, demo, kind, point, `crash-${kind}-${point}`);
        const exported = await recoverAndExport(env, demo);
        await checkInvariants({ dataDir, mongo: null }, exported, point);
      }, 60_000);
    }
  }
});

describe.runIf(MONGO !== null)("runs survive a crash at the main points, on the MongoDB-wire server", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  const cases: Array<["query" | "analysis", CrashPoint]> = [
    ["query", "after-debit"],
    ["query", "after-stage"],
    ["query", "after-post"],
    ["analysis", "after-stage"],
  ];
  for (const [kind, point] of cases) {
    it(`a ${kind} killed ${point} ends released or refunded, balanced and logged`, async () => {
      const dataDir = await mkdtemp(join(tmpdir(), "crash-mongo-"));
      dirs.push(dataDir);
      const mongo = { uri: MONGO!, db: `crash_${process.pid}_${randomBytes(4).toString("hex")}` };
      const env = { DATA_DIR: dataDir, MONGODB_URI: mongo.uri, MONGODB_DB: mongo.db };
      const seeded = await start({ ...env, SEED_DEMO: "true" });
      const demo = await demoOf(seeded.url, dataDir);
      seeded.proc.kill("SIGTERM");
      await seeded.exited;
      await crashOneRun({ ...env, SEED_DEMO: "false" }, demo, kind, point, `crash-${kind}-${point}`);
      const exported = await recoverAndExport({ ...env, SEED_DEMO: "false" }, demo);
      await checkInvariants({ dataDir, mongo }, exported, point);
    }, 120_000);
  }
});
