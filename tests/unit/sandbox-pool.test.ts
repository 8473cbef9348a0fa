/**
 * The worker pool: the host survives whatever a job does to its worker, answers with a code,
 * and gives the next job a fresh worker; deadlines, recycling, the queue bound, closing.
 */
import { afterAll, describe, expect, it } from "vitest";
import { Sandbox, SandboxError, type SandboxErrorCode } from "../../sandbox/index.ts";
import { GROUP_SUM_KERNEL, groupColumns } from "../support/sandbox-fixtures.ts";

const data = groupColumns(1000, 3);
const columns = [{ values: data.codes }, { values: data.values }];
const opened: Sandbox[] = [];
afterAll(() => Promise.all(opened.map((s) => s.close())));

function open(options: ConstructorParameters<typeof Sandbox>[0]) {
  const s = new Sandbox(options);
  opened.push(s);
  return s;
}

const loop = (s: Sandbox, extra: { timeoutMs?: number; hostDeadlineMs?: number } = {}) =>
  s.runKernel({ source: "function kernel() { for (;;) {} }", columns, rowStart: 0, rowEnd: 1, timeoutMs: 10_000, ...extra });
const healthy = (s: Sandbox) =>
  s.runKernel({ source: GROUP_SUM_KERNEL, columns, rowStart: 0, rowEnd: 1000, params: { groups: 3 } }).then((r) => r.result);
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: unknown) => (e instanceof SandboxError ? e.code : "not a SandboxError"),
  ) as Promise<SandboxErrorCode | null>;

async function until(check: () => boolean) {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
}

describe("crashes and deadlines", () => {
  it("answers SANDBOX_CRASHED when the worker dies mid-job, and the next job gets a fresh worker", async () => {
    const s = open({ size: 1 });
    const expected = await healthy(s);
    const [pid] = s.pool.workerPids();
    const job = codeOf(loop(s));
    await until(() => s.stats().busy === 1);
    process.kill(pid!, "SIGKILL");
    expect(await job).toBe("SANDBOX_CRASHED");
    expect(await healthy(s)).toEqual(expected);
    expect(s.pool.workerPids()).not.toContain(pid);
    expect(s.stats()).toMatchObject({ crashed: 1, spawned: 2 });
  });

  it("kills a worker that misses the host deadline and answers TIMEOUT", async () => {
    const s = open({ size: 1 });
    await s.warm();
    const [pid] = s.pool.workerPids();
    expect(await codeOf(loop(s, { hostDeadlineMs: 300 }))).toBe("TIMEOUT");
    expect(s.stats().timedOut).toBe(1);
    expect(await healthy(s)).toBeTruthy();
    expect(s.pool.workerPids()).not.toContain(pid);
  });

  it("survives a payload that defeats isolated-vm's termination (a huge Array#fill)", async () => {
    const s = open({ size: 1 });
    const code = await codeOf(
      s.runKernel({
        source: "function kernel() { new Array(1024 * 1024 * 60).fill(); return 1; }",
        columns,
        rowStart: 0,
        rowEnd: 1,
        timeoutMs: 200,
        memoryLimitMb: 64,
      }),
    );
    expect(["TIMEOUT", "SANDBOX_CRASHED", "MEMORY_LIMIT"]).toContain(code);
    expect(await healthy(s)).toBeTruthy();
  });

  it("re-runs a per-unit job whose worker died, so every unit still counts once", async () => {
    const s = open({ size: 1 });
    await s.warm();
    const source = `function map(rows) { let x = 0; for (let i = 0; i < 1e7; i++) x += i % 3; return [rows[0].v + (x > 0 ? 0 : 1)]; }`;
    const units = Array.from({ length: 60 }, (_, i) => ({ rows: [{ v: i % 4 }] }));
    const [pid] = s.pool.workerPids();
    const run = s.runPerUnit({
      source,
      units: [units],
      outputDim: 1,
      ranges: [[0, 3]],
      defaultVector: [0],
      maxUnitsPerJob: 60,
      perUnitTimeoutMs: 5000,
    });
    await until(() => s.stats().busy === 1);
    await new Promise((r) => setTimeout(r, 50));
    process.kill(pid!, "SIGKILL");
    const r = await run;
    expect(r.sum).toEqual([units.reduce((n, u) => n + u.rows[0]!.v, 0)]);
    expect(r.failures).toBe(0);
    expect(s.stats().crashed).toBe(1);
  });

  it("absorbs units that keep stalling their workers: each counts as its default and the call completes", async () => {
    const s = open({ size: 1 });
    const source = `function map(rows) { if (rows[0].stall) { Promise.reject({ get message() { for (;;) {} }, get stack() { for (;;) {} } }); } return [1]; }`;
    const units = Array.from({ length: 5 }, (_, i) => ({ rows: [{ stall: i % 2 === 0 }] }));
    const r = await s.runPerUnit({ source, units: [units], outputDim: 1, ranges: [[0, 1]], defaultVector: [0], perUnitTimeoutMs: 50, maxCrashes: 0 });
    expect(r).toMatchObject({ sum: [2], failures: 3, units: 5, unfinished: 0 });
  });
});

describe("recycling, queueing, closing", () => {
  it("replaces a worker after maxJobsPerWorker jobs", async () => {
    const s = open({ size: 1, maxJobsPerWorker: 2 });
    const pids = new Set<number>();
    for (let i = 0; i < 5; i++) {
      await healthy(s);
      for (const p of s.pool.workerPids()) pids.add(p);
    }
    expect(s.stats().recycled).toBe(2);
    expect(pids.size).toBe(3);
    expect(s.stats().lastSpawnMs).toBeGreaterThan(0);
  });

  it("refuses jobs beyond the queue bound with QUEUE_FULL, and runs the queued ones", async () => {
    const s = open({ size: 1, maxQueue: 2 });
    await s.warm();
    const running = codeOf(loop(s, { timeoutMs: 150 }));
    await until(() => s.stats().busy === 1);
    const queued = [codeOf(loop(s, { timeoutMs: 150 })), codeOf(healthy(s))];
    expect(await codeOf(healthy(s))).toBe("QUEUE_FULL");
    expect(await running).toBe("TIMEOUT");
    expect(await Promise.all(queued)).toEqual(["TIMEOUT", null]);
  });

  it("fails queued and later jobs with POOL_CLOSED once closed", async () => {
    const s = new Sandbox({ size: 1 });
    const running = codeOf(loop(s, { timeoutMs: 5000 }));
    const queued = codeOf(healthy(s));
    await until(() => s.stats().busy === 1);
    await s.close();
    expect(await running).toBe("POOL_CLOSED");
    expect(await queued).toBe("POOL_CLOSED");
    expect(await codeOf(healthy(s))).toBe("POOL_CLOSED");
  });
});
