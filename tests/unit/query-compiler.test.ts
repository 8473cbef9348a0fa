/**
 * Planner, compiler and release, in-process: kernels against a plain reference implementation,
 * hostile names and values that must not change the kernel's code, and every refusal rule.
 */
import { describe, expect, it } from "vitest";
import { planQuery } from "../../src/queries/plan.ts";
import { compileKernel } from "../../src/queries/compile.ts";
import { bindParams, mergeTotals, runKernelInProcess } from "../../src/queries/bind.ts";
import { releaseAnswer } from "../../src/queries/release.ts";
import { PolicyViolation } from "../../src/queries/errors.ts";
import type { QueryIR } from "../../src/queries/ir.ts";
import type { PolicyRules } from "../../src/privacy/policy/model.ts";
import type { DatasetSchema } from "../../src/datasets/model.ts";
import { DISTRICTS, TAXI_IR, TAXI_POLICY, TAXI_SCHEMA, taxiTable } from "../support/taxi-fixture.ts";

const schema = TAXI_SCHEMA;
const policy = TAXI_POLICY;
const baseIR = TAXI_IR;

function run(ir: QueryIR, t: ReturnType<typeof taxiTable>, p = policy, partitions = 1) {
  const plan = planQuery({ ir, policy: p, schema, rowCount: t.vehicle.length });
  const program = compileKernel(plan);
  const bound = bindParams(plan, program, t.views);
  const parts = Array.from({ length: partitions }, (_, partition) => runKernelInProcess(program, t.views, { ...bound, partitions, partition }));
  return { plan, program, totals: mergeTotals(parts) };
}

describe("compiled kernels", () => {
  it("match a plain reference implementation (filter, group, clamp, row cap)", () => {
    const t = taxiTable(20_000, 300);
    const { totals, program } = run(baseIR, t);
    const W = program.groupWidth;
    for (const [g, name] of DISTRICTS.entries()) {
      const code = t.dictionary.indexOf(name);
      const units = new Set<number>();
      let rows = 0;
      let sum = 0;
      let n = 0;
      const bins = [0, 0, 0, 0, 0];
      for (let i = 0; i < t.vehicle.length; i++) {
        if (t.district[i] !== code || !(t.hour[i]! >= 7 && t.hour[i]! < 10)) continue;
        units.add(t.vehicle[i]!);
        rows++;
        if (t.fareNulls[i >>> 3]! & (1 << (i & 7))) continue;
        const v = Math.min(500, Math.max(0, t.fare[i]!));
        sum += v;
        n++;
        bins[Math.min(4, Math.floor(v / 100))]!++;
      }
      const o = g * W;
      expect(totals[o]).toBe(units.size);
      expect(totals[o + 1]).toBe(rows);
      expect(totals[o + 2]).toBeCloseTo(sum, 6);
      expect(totals[o + 3]).toBe(n);
      expect(totals.slice(o + 4, o + 9)).toEqual(bins);
    }
  });

  it("gives the same totals when units are split across partitions", () => {
    const t = taxiTable(10_000, 200, 11);
    const one = run(baseIR, t, policy, 1).totals;
    const three = run(baseIR, t, policy, 3).totals;
    three.forEach((v, i) => expect(v).toBeCloseTo(one[i]!, 6));
  });

  it("counts each unit in at most maxGroupsPerUnit groups and at most R rows per group", () => {
    const t = taxiTable(20_000, 50, 3); // 50 vehicles, each in every district
    const p = { ...policy, maxGroupsPerUnit: 1, maxRowsPerUnit: 5 };
    const { totals, program } = run({ ...baseIR, filters: [] }, t, p);
    const W = program.groupWidth;
    const unitsCounted = DISTRICTS.reduce((n, _, g) => n + totals[g * W]!, 0);
    expect(unitsCounted).toBeLessThanOrEqual(50);
    expect(unitsCounted).toBeGreaterThan(40); // most vehicles land in some listed district
    DISTRICTS.forEach((_, g) => expect(totals[g * W + 1]!).toBeLessThanOrEqual(totals[g * W]! * 5));
  });

  it("groups numbers by bucket edges", () => {
    const t = taxiTable(5_000, 100, 5);
    const { totals, program, plan } = run({ ...baseIR, filters: [], groupBy: ["hour"], aggregates: [{ kind: "COUNT_ROWS" }] }, t);
    expect(plan.groupCount).toBe(4);
    const rowsByBucket = [0, 1, 2, 3].map((b) => totals[b * program.groupWidth + 1]);
    const expected = [0, 0, 0, 0];
    for (const h of t.hour) expected[Math.floor(h / 6)]!++;
    expect(rowsByBucket).toEqual(expected);
  });

  it("emits the same code whatever the column names and values: names and literals are data", () => {
    const hostileName = 'x"]); globalThis.pwned = 1; //';
    const hostileKey = "'); while(1){} ('";
    const hostileSchema: DatasetSchema = { columns: schema.columns.map((c) => (c.name === "district" ? { ...c, name: hostileName } : c)) };
    const hostilePolicy = {
      ...policy,
      dimensions: [{ column: hostileName, keys: [hostileKey, "b"], edges: null, dateEdges: null }, policy.dimensions[1]!],
    };
    const benignPolicy = { ...policy, dimensions: [{ column: "district", keys: ["a", "b"], edges: null, dateEdges: null }, policy.dimensions[1]!] };
    const ir = (col: string, key: string): QueryIR => ({
      ...baseIR,
      filters: [{ column: col, op: "in", values: [key] }],
      groupBy: [col],
    });
    const a = compileKernel(planQuery({ ir: ir(hostileName, hostileKey), policy: hostilePolicy, schema: hostileSchema, rowCount: 1 }));
    const b = compileKernel(planQuery({ ir: ir("district", "a"), policy: benignPolicy, schema, rowCount: 1 }));
    expect(a.source).toBe(b.source);
    expect(a.source).not.toContain("pwned");
    expect(a.columns).toContain(hostileName);
  });
});

describe("the planner refuses, naming the rule", () => {
  const refuse = (ir: Partial<QueryIR>, p: PolicyRules = policy) => {
    try {
      planQuery({ ir: { ...baseIR, ...ir }, policy: p, schema, rowCount: 100 });
    } catch (e) {
      if (e instanceof PolicyViolation) return { rule: e.rule, path: e.path, message: e.message };
      throw e;
    }
    throw new Error("expected a refusal");
  };

  it("column, aggregate, key, ε and size rules", () => {
    expect(refuse({ groupBy: ["nope"] })).toMatchObject({ rule: "UNKNOWN_COLUMN", path: "input.groupBy[0]" });
    expect(refuse({ groupBy: ["vehicle_id"] })).toMatchObject({ rule: "COLUMN_NOT_ALLOWED", path: "input.groupBy[0]" });
    expect(refuse({ aggregates: [{ kind: "SUM", column: "hour" }] })).toMatchObject({ rule: "COLUMN_NOT_ALLOWED", path: "input.aggregates[0].column" });
    expect(refuse({}, { ...policy, aggregates: ["COUNT_UNITS"] })).toMatchObject({ rule: "AGGREGATE_NOT_ALLOWED", path: "input.aggregates[1].kind" });
    expect(refuse({ filters: [{ column: "district", op: "in", values: ["火星区"] }] })).toMatchObject({ rule: "VALUE_NOT_IN_KEY_SET" });
    expect(refuse({ epsilon: "1.5" })).toMatchObject({ rule: "EPSILON_ABOVE_LIMIT", path: "input.epsilon" });
    expect(refuse({ aggregates: Array.from({ length: 9 }, () => ({ kind: "COUNT_UNITS" as const })) })).toMatchObject({ rule: "TOO_MANY_AGGREGATES" });
    const wide = { ...policy, dimensions: [{ column: "district", keys: Array.from({ length: 200 }, (_, i) => `k${i}`), edges: null, dateEdges: null }, { column: "hour", keys: Array.from({ length: 100 }, (_, i) => i), edges: null, dateEdges: null }] };
    expect(refuse({ groupBy: ["district", "hour"], filters: [] }, wide)).toMatchObject({ rule: "TOO_MANY_GROUPS" });
  });

  it("splits ε over the noisy statistics and quotes their expected noise", () => {
    const plan = planQuery({ ir: { ...baseIR, aggregates: [{ kind: "COUNT_UNITS" }, { kind: "AVG", column: "fare" }] }, policy, schema, rowCount: 100 });
    expect(plan.statistics.map((s) => s.stat)).toEqual(["units", "sum", "count"]);
    for (const s of plan.statistics) expect(Number(s.epsilon.num) / Number(s.epsilon.den)).toBeCloseTo(0.5 / 3, 12);
    expect(plan.statistics[0]!.sensitivity).toBe(100n); // maxGroupsPerUnit
    expect(plan.statistics[0]!.expectedStdDev).toBeGreaterThan(0);
  });
});

describe("release", () => {
  it("reports every public key, noised, at exact multiples of each statistic's granularity", () => {
    const t = taxiTable(5_000, 100, 9);
    const { plan, totals } = run(baseIR, t);
    const answer = releaseAnswer(plan, totals);
    expect(answer.groups.map((g) => g.key[0]!.value)).toEqual(DISTRICTS);
    const sumStat = plan.statistics.find((s) => s.stat === "sum")!;
    for (const g of answer.groups) {
      const sum = g.values.find((v) => v.kind === "SUM")!.value!;
      expect(Number.isInteger(sum / sumStat.granularity)).toBe(true);
      expect(Number.isInteger(g.values.find((v) => v.kind === "COUNT_UNITS")!.value)).toBe(true);
      expect(g.values.find((v) => v.kind === "HISTOGRAM")!.bins).toHaveLength(5);
    }
  });
});
