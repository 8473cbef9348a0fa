/**
 * Compiled kernels in the sandbox: the example group-by against a plain implementation, parallel
 * parts over the same shared columns, the worker's column cache, metering, and bad calls.
 */
import { afterAll, describe, expect, it } from "vitest";
import { Sandbox, SandboxError } from "../../sandbox/index.ts";
import { GROUP_SUM_KERNEL, groupColumns, groupSumReference } from "../support/sandbox-fixtures.ts";

const sandbox = new Sandbox({ size: 2 });
afterAll(() => sandbox.close());

const GROUPS = 7;
const data = groupColumns(50_000, GROUPS, true);
const columns = [{ values: data.codes }, { values: data.values, nulls: data.nulls }];

function expectGroupSums(actual: unknown, expected: { sum: number[]; count: number[] }) {
  const a = actual as { sum: number[]; count: number[] };
  expect(a.count).toEqual(expected.count);
  a.sum.forEach((v, g) => expect(v).toBeCloseTo(expected.sum[g]!, 6));
}

describe("runKernel", () => {
  it("runs the group-by kernel over shared columns and meters rows, CPU and wall time", async () => {
    const { result, metering } = await sandbox.runKernel({
      source: GROUP_SUM_KERNEL,
      columns,
      rowStart: 100,
      rowEnd: 40_000,
      params: { groups: GROUPS },
    });
    expectGroupSums(result, groupSumReference(data, GROUPS, 100, 40_000));
    expect(metering.rows).toBe(39_900);
    expect(metering.cpuMs).toBeGreaterThan(0);
    expect(metering.wallMs).toBeGreaterThan(0);
  });

  it("passes typed arrays in params as copies (the binder's lookup tables)", async () => {
    const source = `function kernel(cols, nulls, start, end, params) {
      let hits = 0;
      for (let i = start; i < end; i++) if (params.wanted[cols[0][i]] === 1) hits++;
      params.wanted[0] = 9; // a copy: changes nothing outside
      return { hits, isTyped: params.wanted instanceof Uint8Array };
    }`;
    const wanted = new Uint8Array(GROUPS);
    wanted[2] = 1;
    wanted[5] = 1;
    const { result } = await sandbox.runKernel({ source, columns, rowStart: 0, rowEnd: 50_000, params: { wanted } });
    let expected = 0;
    for (const c of data.codes) if (c === 2 || c === 5) expected++;
    expect(result).toEqual({ hits: expected, isTyped: true });
    expect(wanted[0]).toBe(0);
  });

  it("gives the kernel frozen column lists and null bitmaps in column order, with no way back to their shared buffers", async () => {
    const source = `function kernel(cols, nulls) {
      return { frozen: Object.isFrozen(cols) && Object.isFrozen(nulls), types: cols.map((c) => c.constructor.name),
        nulls: nulls.map((n) => n === null ? null : n.length), shared: Object.prototype.toString.call(cols[1].buffer) };
    }`;
    const { result } = await sandbox.runKernel({ source, columns, rowStart: 0, rowEnd: 50_000 });
    expect(result).toEqual({
      frozen: true,
      types: ["Int32Array", "Float64Array"],
      nulls: [null, Math.ceil(50_000 / 8)],
      shared: "[object Undefined]",
    });
  });

  it("hands a part its own rows only, rebased to row 0, null bits included", async () => {
    // rows 1 003 … 40 002 (an odd start, so the null bits are shifted); the kernel sees 39 000 rows from 0
    const source = `function kernel(cols, nulls, start, end) {
      let nullRows = 0, sum = 0;
      for (let i = start; i < end; i++) {
        if ((nulls[1][i >>> 3] & (1 << (i & 7))) !== 0) nullRows++;
        else sum += cols[1][i];
      }
      return { start, end, length: cols[0].length, bitmap: nulls[1].length, nullRows, sum };
    }`;
    let nullRows = 0;
    let sum = 0;
    for (let i = 1003; i < 40_003; i++) {
      if ((data.nulls![i >>> 3]! & (1 << (i & 7))) !== 0) nullRows++;
      else sum += data.values[i]!;
    }
    for (const reuse of [false, true]) {
      const { result } = await sandbox.runKernel({ source, columns, columnsKey: "ds_r/v1/all", rowStart: 1003, rowEnd: 40_003, reuse });
      const r = result as { sum: number };
      expect({ ...r, sum: 0 }).toEqual({ start: 0, end: 39_000, length: 39_000, bitmap: Math.ceil(39_000 / 8), nullRows, sum: 0 });
      expect(r.sum).toBeCloseTo(sum, 6);
    }
  });
});

describe("runKernelParallel", () => {
  it("splits the row range into parts and returns each partial for the caller's merge", async () => {
    const { partials, metering } = await sandbox.runKernelParallel({
      source: GROUP_SUM_KERNEL,
      columns,
      params: { groups: GROUPS },
      partitions: 3,
    });
    expect(partials).toHaveLength(3);
    const merged = { sum: new Array<number>(GROUPS).fill(0), count: new Array<number>(GROUPS).fill(0) };
    for (const p of partials as Array<{ sum: number[]; count: number[] }>) {
      p.sum.forEach((v, g) => (merged.sum[g]! += v));
      p.count.forEach((v, g) => (merged.count[g]! += v));
    }
    expectGroupSums(merged, groupSumReference(data, GROUPS));
    expect(metering.rows).toBe(50_000);
  });

  it("runs explicit parts, each with its own params", async () => {
    const source = `function kernel(cols, nulls, start, end, params) { return [params.partition, start, end]; }`;
    const parts = [0, 1, 2, 3].map((partition) => ({ rowStart: 0, rowEnd: 10, params: { partition } }));
    const { partials, metering } = await sandbox.runKernelParallel({ source, columns, parts });
    expect(partials).toEqual([
      [0, 0, 10],
      [1, 0, 10],
      [2, 0, 10],
      [3, 0, 10],
    ]);
    expect(metering.rows).toBe(40);
  });
});

describe("the column cache", () => {
  it("serves a keyed column set from the worker's cache on later jobs", async () => {
    const cached = new Sandbox({ size: 1 });
    try {
      const run = () =>
        cached.runKernel({ source: GROUP_SUM_KERNEL, columns, columnsKey: "ds_1/v1/all", rowStart: 0, rowEnd: 50_000, params: { groups: GROUPS } });
      const first = await run();
      // Overwrite the host's copy: a cached worker still sees the bytes it loaded under the key.
      const saved = data.values.slice();
      data.values.fill(0);
      try {
        const second = await run();
        expect(second.result).toEqual(first.result);
      } finally {
        data.values.set(saved);
      }
      // Without a key, the bytes are sent fresh every time.
      const uncached = await cached.runKernel({ source: GROUP_SUM_KERNEL, columns, rowStart: 0, rowEnd: 50_000, params: { groups: GROUPS } });
      expect(uncached.result).toEqual(first.result);
    } finally {
      await cached.close();
    }
  });
});

describe("kernel column buffers", () => {
  it("lets no kernel write a cached column: a later job on the same key reads the original bytes", async () => {
    const cached = new Sandbox({ size: 1 });
    try {
      const sum = () =>
        cached.runKernelParallel({ source: GROUP_SUM_KERNEL, columns, columnsKey: "ds_w/v1/all", params: { groups: GROUPS }, partitions: 2 });
      const before = await sum();
      const writer = `function kernel(cols, nulls) {
        for (const c of cols) c.fill(0);
        for (const n of nulls) if (n !== null) n.fill(255);
        return cols[1][0];
      }`;
      const wrote = await cached.runKernelParallel({ source: writer, columns, columnsKey: "ds_w/v1/all", partitions: 2 });
      expect(wrote.partials).toEqual([0, 0]); // the writes happened, in the parts' own copies
      const after = await sum();
      expect(after.partials).toEqual(before.partials);
    } finally {
      await cached.close();
    }
  });

  it("gives each part its own rows: a part writing every row changes nothing a sibling reads", async () => {
    // Part 0 overwrites all rows; part 1 sums only its own rows, which must match the plain sums.
    const source = `function kernel(cols, nulls, start, end, params) {
      if (params.partition === 0) { cols[0].fill(1e9); return null; }
      let s = 0;
      for (let r = 0; r < 200; r++) { s = 0; for (let i = start; i < end; i++) s += cols[0][i]; }
      return s;
    }`;
    const parts = [
      { rowStart: 0, rowEnd: 25_000, params: { partition: 0 } },
      { rowStart: 25_000, rowEnd: 50_000, params: { partition: 1 } },
    ];
    const { partials } = await sandbox.runKernelParallel({ source, columns: [{ values: data.values.map((v) => Math.round(v)) }], parts });
    let expected = 0;
    for (let i = 25_000; i < 50_000; i++) expected += Math.round(data.values[i]!);
    expect(partials).toEqual([null, expected]);
  });
});

describe("bad calls", () => {
  const bad = async (job: Parameters<Sandbox["runKernel"]>[0], detail: RegExp) => {
    const err = await sandbox.runKernel(job).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SandboxError);
    expect((err as SandboxError).code).toBe("INVALID_REQUEST");
    expect((err as SandboxError).message).toMatch(detail);
  };

  it("names the argument that is wrong", async () => {
    await bad({ source: "", columns, rowStart: 0, rowEnd: 1 }, /source/);
    await bad({ source: GROUP_SUM_KERNEL, columns, rowStart: 0, rowEnd: 50_001 }, /parts\[0\]\.rowEnd/);
    await bad({ source: GROUP_SUM_KERNEL, columns, rowStart: 5, rowEnd: 4 }, /rowEnd/);
    await bad({ source: GROUP_SUM_KERNEL, columns: [{ values: [1, 2] as unknown as Int32Array }], rowStart: 0, rowEnd: 1 }, /columns\[0\]\.values/);
    await bad(
      { source: GROUP_SUM_KERNEL, columns: [{ values: data.codes }, { values: new Float64Array(3) }], rowStart: 0, rowEnd: 1 },
      /columns\[1\]/,
    );
    await bad({ source: GROUP_SUM_KERNEL, columns, rowStart: 0, rowEnd: 1, params: { f: () => 1 } }, /params/);
    await bad({ source: GROUP_SUM_KERNEL, columns, rowStart: 0, rowEnd: 1, timeoutMs: 0 }, /timeoutMs/);
  });

  it("reports code that does not compile, or defines no kernel, as KERNEL_INVALID", async () => {
    for (const source of ["function kernel( {", "const notAKernel = 1;", "}); (function () {"]) {
      const err = await sandbox.runKernel({ source, columns, rowStart: 0, rowEnd: 1 }).catch((e: unknown) => e);
      expect((err as SandboxError).code).toBe("KERNEL_INVALID");
    }
  });
});
