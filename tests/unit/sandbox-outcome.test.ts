/**
 * Outcome independence (issue #15): whatever a unit does — throw, loop, exhaust memory, defeat
 * termination, kill its worker, return a poisoned value — it counts as its default vector and
 * nothing else changes: the call completes with the same status and unit count, and the honest
 * units keep their own vectors, whether 0, 1, half or all of the units misbehave.
 */
import { afterAll, describe, expect, it } from "vitest";
import { Sandbox } from "../../sandbox/index.ts";

const sandbox = new Sandbox({ size: 2 });
afterAll(() => sandbox.close());

const FAILURES: Record<string, string> = {
  throw: `throw new Error("row " + JSON.stringify(rows));`,
  loop: `for (;;) {}`,
  memory: `const a = []; for (;;) a.push({ x: a.length, y: [a.length] });`,
  "defeat termination": `Promise.reject({ get message() { for (;;) {} }, get stack() { for (;;) {} } }); return [1];`,
  "kill the worker": `new Array(1024 * 1024 * 60).fill(); return [1];`,
  "poisoned value": `return { toJSON() { for (;;) {} } };`,
};

const UNITS = 4;

function source(failure: string): string {
  return `function map(rows) {\n  if (rows[0].bad) { ${failure} }\n  return [rows[0].v];\n}`;
}

describe("a misbehaving unit changes only its own vector", () => {
  for (const [name, failure] of Object.entries(FAILURES)) {
    it(`${name}: 0, 1, half and all units failing give the same status and only defaults in their place`, async () => {
      for (const bad of [0, 1, UNITS / 2, UNITS]) {
        const units = Array.from({ length: UNITS }, (_, i) => ({ rows: [{ v: i + 1, bad: i < bad }] }));
        const r = await sandbox.runPerUnit({
          source: source(failure),
          units: [units],
          outputDim: 1,
          ranges: [[0, 100]],
          defaultVector: [50],
          perUnitTimeoutMs: 300,
          memoryLimitMb: 16,
          deadlineAt: Date.now() + 120_000,
        });
        const honest = units.filter((u) => !u.rows[0]!.bad).reduce((n, u) => n + u.rows[0]!.v, 0);
        expect({ bad, units: r.units, unfinished: r.unfinished, failures: r.failures, sum: r.sum }).toEqual({
          bad,
          units: UNITS,
          unfinished: 0,
          failures: bad,
          sum: [honest + 50 * bad],
        });
      }
    });
  }
});

describe("deadlineAt", () => {
  it("returns with the units done so far and counts the rest as defaults", async () => {
    const s = new Sandbox({ size: 1 });
    try {
      await s.warm();
      const units = Array.from({ length: 30 }, () => ({ rows: [{ v: 1 }] }));
      const r = await s.runPerUnit({
        source: `function map(rows) { for (;;) {} }`,
        units: [units],
        outputDim: 1,
        ranges: [[0, 1]],
        defaultVector: [0],
        perUnitTimeoutMs: 200,
        deadlineAt: Date.now() + 1500,
      });
      expect(r.units).toBe(30);
      expect(r.unfinished).toBeGreaterThan(0); // 30 units of at least 200 ms each cannot fit in 1.5 s
      expect(r.failures + r.unfinished).toBe(30);
      expect(r.sum).toEqual([0]);
    } finally {
      await s.close();
    }
  });

  it("counts every unit as a default when the deadline has already passed", async () => {
    const r = await sandbox.runPerUnit({
      source: `function map(rows) { return [1]; }`,
      units: [[{ rows: [] }, { rows: [] }]],
      outputDim: 1,
      ranges: [[0, 1]],
      defaultVector: [0],
      deadlineAt: Date.now() - 1,
    });
    expect(r).toMatchObject({ units: 2, unfinished: 2, failures: 0, sum: [0] });
  });
});
