/**
 * Warm kernels (`reuse: true`, sandbox/warm-kernels.ts): the worker keeps a generated kernel's
 * context across jobs, so what it guarantees must hold job after job: the context is locked down
 * (nothing a job writes outlives its call), the isolate-wide registry and random seed are gone,
 * each part reads its own copy of its own rows, and a kernel that writes its columns changes
 * nothing a later job reads (the copies are verified after every job).
 */
import { afterAll, describe, expect, it } from "vitest";
import { Sandbox } from "../../sandbox/index.ts";
import { GROUP_SUM_KERNEL, groupColumns, groupSumReference } from "../support/sandbox-fixtures.ts";

const sandbox = new Sandbox({ size: 1 }); // one worker: every job meets the same warm isolates
afterAll(() => sandbox.close());

const GROUPS = 5;
const data = groupColumns(30_000, GROUPS, true);
const columns = [{ values: data.codes }, { values: data.values, nulls: data.nulls }];

const run = (source: string, key = "ds_warm/v1/all", partitions = 2) =>
  sandbox.runKernelParallel({ source, columns, columnsKey: key, params: { groups: GROUPS }, partitions, reuse: true });

describe("warm kernels", () => {
  it("give the same answers job after job", async () => {
    const expected = groupSumReference(data, GROUPS);
    for (let i = 0; i < 4; i++) {
      const { partials } = await run(GROUP_SUM_KERNEL);
      const count = new Array<number>(GROUPS).fill(0);
      for (const p of partials as Array<{ count: number[] }>) p.count.forEach((c, g) => (count[g]! += c));
      expect(count).toEqual(expected.count);
    }
  });

  it("run in a locked-down context: globals, prototypes and built-ins cannot be written", async () => {
    const attempts = [
      `globalThis.leftover = 1`,
      `Object.prototype.polluted = "yes"`,
      `Array.prototype.push = null`,
      `JSON.stringify = () => "{}"`,
      `Math.max = () => 7`,
      `Float64Array.prototype.fill = null`,
      `Symbol.for("mark")`,
      `Math.random()`,
      `Date.now()`,
    ];
    // strict, as the compiler's kernels are: a write to a frozen object throws
    const probe = `function kernel() {
      "use strict";
      return [${attempts.map((a) => `(() => { try { ${a}; return "wrote"; } catch { return "refused"; } })()`).join(", ")}];
    }`;
    const { partials } = await run(probe);
    expect(partials).toEqual([new Array(attempts.length).fill("refused"), new Array(attempts.length).fill("refused")]);
    const after = await run(`function kernel() { return ["polluted" in {}, typeof [].push, Math.max(1, 2), typeof globalThis.leftover]; }`);
    expect(after.partials[0]).toEqual([false, "function", 2, "undefined"]);
  });

  it("let no kernel write a cached column: a later job on the same key reads the original bytes", async () => {
    const sum = () => run(GROUP_SUM_KERNEL, "ds_warm_w/v1/all");
    const before = await sum();
    const writer = `function kernel(cols, nulls) {
      for (const c of cols) c.fill(0);
      for (const n of nulls) if (n !== null) n.fill(255);
      return cols[1][0];
    }`;
    const wrote = await run(writer, "ds_warm_w/v1/all");
    expect(wrote.partials).toEqual([0, 0]); // the writes happened, in the parts' own copies
    expect((await sum()).partials).toEqual(before.partials);
    // and the writer itself, warm, again reads the original bytes before it writes
    const reader = `function kernel(cols) { const first = cols[1][1]; cols[1].fill(0); return first; }`;
    const first = await run(reader, "ds_warm_w/v1/all");
    expect(first.partials).toEqual([data.values[1], data.values[15_001]]);
    expect((await run(reader, "ds_warm_w/v1/all")).partials).toEqual(first.partials);
  });

  it("give each part its own rows: a part writing every row changes nothing a sibling reads", async () => {
    const source = `function kernel(cols, nulls, start, end, params) {
      if (params.partition === 0) { cols[0].fill(1e9); return [cols[0].length, 0]; }
      let s = 0;
      for (let r = 0; r < 100; r++) { s = 0; for (let i = start; i < end; i++) s += cols[0][i]; }
      return [cols[0].length, s];
    }`;
    const parts = [
      { rowStart: 0, rowEnd: 12_000, params: { partition: 0 } },
      { rowStart: 12_000, rowEnd: 30_000, params: { partition: 1 } },
    ];
    const values = data.values.map((v) => Math.round(v));
    const { partials } = await sandbox.runKernelParallel({ source, columns: [{ values }], columnsKey: "ds_warm_p/v1", parts, reuse: true });
    let expected = 0;
    for (let i = 12_000; i < 30_000; i++) expected += values[i]!;
    expect(partials).toEqual([
      [12_000, 0],
      [18_000, expected],
    ]);
  });

  it("replace an isolate whose job failed, and keep answering", async () => {
    const thrower = `function kernel() { throw new Error("no"); }`;
    await expect(run(thrower)).rejects.toMatchObject({ code: "KERNEL_THREW" });
    const looped = sandbox.runKernelParallel({
      source: `function kernel() { while (true) {} }`,
      columns,
      columnsKey: "ds_warm/v1/all",
      partitions: 2,
      reuse: true,
      timeoutMs: 200,
    });
    await expect(looped).rejects.toMatchObject({ code: "TIMEOUT" });
    const { partials } = await run(GROUP_SUM_KERNEL);
    expect(partials).toHaveLength(2);
  });
});
