/**
 * Runs that survive a crash. The real service runs as a child process (`node src/main.ts`) with
 * one crash point of the run path armed (EXCHANGE_CRASH_AT); a buyer's run kills it there with
 * SIGKILL; the service is restarted on the same data and its recovery sweeper left to work; then
 * the stored state is checked:
 *   - every run is released or failed, never left open;
 *   - no hold is still opening, held or resolving (no credit stays locked);
 *   - the ledger's integrity holds, and it agrees with the log's trade.settled events;
 *   - every readable answer has its posted charge and its `query.executed` event, and every
 *     charged event in the log its posted hold;
 *   - the run is released (answer, charge, events) exactly when it crashed after staging, and
 *     failed (hold voided, no answer, no event, ε still debited) when it crashed before;
 *   - the log's export verifies offline against its signed checkpoint.
 * Every crash point for queries and analyses on SQLite; the main ones on the MongoDB-wire server.
 * The harness (start, kill, restart, the general checks) is tests/support/crash-harness.ts.
 */
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CRASH_POINTS, type CrashPoint } from "../../src/runs/index.ts";
import { checkStoredState, crashOneRun, demoOf, recoverAndExport, start, type Demo, type Exported } from "../support/crash-harness.ts";

const MONGO = process.env.MONGODB_URI ?? null;
const STAGED: readonly CrashPoint[] = ["after-stage", "after-post", "after-log", "after-release"];

async function checkInvariants(
  location: { dataDir: string; mongo: { uri: string; db: string } | null },
  exported: Exported,
  point: CrashPoint,
): Promise<void> {
  await checkStoredState(location, exported, ({ runs, answers, outcomes, intents, executed, holdById }) => {
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
  });
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
