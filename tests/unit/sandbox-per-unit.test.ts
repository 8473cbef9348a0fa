/**
 * Owner-approved buyer code: map(unitRows) → number[d] once per privacy unit, clamped to the
 * declared ranges, failures replaced by the default vector, only the sum and a count returned.
 */
import { afterAll, describe, expect, it } from "vitest";
import { Sandbox, SandboxError, type PerUnitCall, type PrivacyUnit } from "../../sandbox/index.ts";

const sandbox = new Sandbox({ size: 2 });
afterAll(() => sandbox.close());

const trips = (fares: number[]): PrivacyUnit => ({ rows: fares.map((fare, i) => ({ trip: i, fare })) });

const FARE_STATS = `
function map(rows) {
  let total = 0;
  for (const r of rows) total += r.fare;
  return [rows.length, total];
}`;

const base = (units: PrivacyUnit[][], extra: Partial<PerUnitCall> = {}): PerUnitCall => ({
  source: FARE_STATS,
  units,
  outputDim: 2,
  ranges: [
    [0, 10],
    [0, 100],
  ],
  defaultVector: [0, 0],
  perUnitTimeoutMs: 2000, // generous: these units are honest, and CI machines are shared
  ...extra,
});

describe("runPerUnit", () => {
  it("sums each unit's vector, clamped to the declared ranges", async () => {
    const r = await sandbox.runPerUnit(
      base([
        [trips([10, 20]), trips([500])],
        [trips([]), trips([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1])],
      ]),
    );
    // [2, 30] + [1, 100 (500 clamped)] + [0, 0] + [10 (12 clamped), 12]
    expect(r.sum).toEqual([13, 142]);
    expect(r.units).toBe(4);
    expect(r.failures).toBe(0);
    expect(r.metering.rows).toBe(15);
    expect(r.metering.units).toBe(4);
    expect(r.metering.cpuMs).toBeGreaterThan(0);
  });

  it("rounds each clamped output and the default to its power-of-two granularity, so the sum is exact", async () => {
    const source = `function map(rows) { if (rows[0].fare < 0) throw new Error("x"); return [rows[0].fare, 0.1]; }`;
    const units = [trips([0.3]), trips([1.2]), trips([2.74]), trips([-1])];
    const r = await sandbox.runPerUnit(
      base([units], {
        source,
        ranges: [
          [0, 4],
          [0, 1],
        ],
        defaultVector: [0.7, 0.3],
        granularity: [0.5, 0.125],
      }),
    );
    // 0.3 → 0.5, 1.2 → 1, 2.74 → 2.5, failed unit → default 0.7 → 0.5; 0.1 → 0.125 three times, default 0.3 → 0.25
    expect(r.sum).toEqual([4.5, 0.625]);
    expect(r.failures).toBe(1);
    await expect(sandbox.runPerUnit(base([units], { granularity: [0.3, 1] }))).rejects.toThrow(/granularity\[0\] must be a power of two/);
    await expect(sandbox.runPerUnit(base([units], { granularity: [1] }))).rejects.toThrow(/granularity must hold 2/);
  });

  it("takes units from an async iterable and spreads jobs over the pool", async () => {
    async function* stream() {
      for (let b = 0; b < 5; b++) yield Array.from({ length: 30 }, () => trips([1, 2]));
    }
    const r = await sandbox.runPerUnit(base([], { units: stream(), maxUnitsPerJob: 16 }));
    expect(r.units).toBe(150);
    expect(r.sum).toEqual([300, 450]);
    expect(r.failures).toBe(0);
  });

  it("gives the default vector to a unit whose code throws, loops, or returns the wrong shape", async () => {
    const source = `
function map(rows) {
  const kind = rows[0].kind;
  if (kind === "ok") return [1, 1];
  if (kind === "throw") throw new Error("row " + JSON.stringify(rows));
  if (kind === "loop") for (;;) {}
  if (kind === "nan") return [NaN, 1];
  if (kind === "inf") return [Infinity, 1];
  if (kind === "short") return [1];
  if (kind === "string") return ["1", "1"];
  if (kind === "rows") return rows;
  if (kind === "object") return { 0: 1, 1: 1, length: 2 };
  if (kind === "promise") return Promise.resolve([1, 1]);
  if (kind === "undefined") return undefined;
}`;
    const kinds = ["ok", "throw", "loop", "nan", "inf", "short", "string", "rows", "object", "promise", "undefined", "ok"];
    const r = await sandbox.runPerUnit({
      source,
      units: [kinds.map((kind) => ({ rows: [{ kind }] }))],
      outputDim: 2,
      ranges: [
        [0, 1],
        [0, 1],
      ],
      defaultVector: [0.5, 0],
      perUnitTimeoutMs: 500,
    });
    expect(r.failures).toBe(10);
    expect(r.sum).toEqual([2 + 10 * 0.5, 2]);
  });

  it("carries no state from one unit to the next", async () => {
    const source = `
let seen = 0;
function map(rows) {
  seen += 1;
  globalThis.counter = (globalThis.counter || 0) + 1;
  const polluted = "polluted" in {} ? 1 : 0;
  Object.prototype.polluted = true;
  Array.prototype.map = function () { return [99, 99]; };
  return [seen + globalThis.counter + polluted, [1, 2].map((x) => x).length];
}`;
    const r = await sandbox.runPerUnit({
      source,
      units: [Array.from({ length: 20 }, () => trips([1]))],
      outputDim: 2,
      ranges: [
        [0, 100],
        [0, 100],
      ],
      defaultVector: [0, 0],
      perUnitTimeoutMs: 2000,
    });
    // every unit sees seen = 1, counter = 1, nothing polluted, and a real Array.prototype.map
    expect(r.sum).toEqual([40, 40]);
    expect(r.failures).toBe(0);
  });

  it("keeps other units' vectors when one unit exhausts the isolate's memory", async () => {
    const source = `
function map(rows) {
  if (rows[0].bomb) { const a = []; for (;;) a.push({ x: a.length, y: [a.length] }); }
  return [1];
}`;
    const units = [0, 1, 2, 3, 4, 5].map((i) => ({ rows: [{ bomb: i === 2 }] }));
    const recycled = sandbox.stats().recycled;
    const r = await sandbox.runPerUnit({
      source,
      units: [units],
      outputDim: 1,
      ranges: [[0, 1]],
      defaultVector: [0],
      memoryLimitMb: 16,
      perUnitTimeoutMs: 5000,
    });
    expect(r.sum).toEqual([5]);
    expect(r.failures).toBe(1);
    expect(sandbox.stats().recycled).toBe(recycled + 1); // V8 is not trusted after an OOM: new worker
  });

  it("refuses code that does not compile as KERNEL_INVALID", async () => {
    const err = await sandbox.runPerUnit(base([[trips([1])]], { source: "function map(rows) {" })).catch((e: unknown) => e);
    expect((err as SandboxError).code).toBe("KERNEL_INVALID");
  });

  it("names the argument that is wrong", async () => {
    const cases: Array<[Partial<PerUnitCall>, RegExp]> = [
      [{ outputDim: 33 }, /outputDim/],
      [{ ranges: [[0, 1]] }, /ranges/],
      [
        {
          ranges: [
            [0, 1],
            [5, 1],
          ],
        },
        /ranges\[1\]/,
      ],
      [{ defaultVector: [0, 1000] }, /defaultVector\[1\]/],
      [{ units: [[{ rows: "x" } as unknown as PrivacyUnit]] }, /unit 0 has no rows/],
      [{ units: [[{ rows: [{ big: 1n }] }]] }, /rows are not JSON/],
      [{ perUnitTimeoutMs: -1 }, /perUnitTimeoutMs/],
    ];
    for (const [extra, detail] of cases) {
      const err = await sandbox.runPerUnit(base([[trips([1])]], extra)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SandboxError);
      expect((err as SandboxError).code).toBe("INVALID_REQUEST");
      expect((err as SandboxError).message).toMatch(detail);
    }
  });
});
