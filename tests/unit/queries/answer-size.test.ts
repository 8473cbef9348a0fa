/**
 * No run fails on its answer's size after ε is spent: the largest answer the planner accepts —
 * the most groups, the longest declared keys, as many values as the cell limit allows — fits the
 * bound the planner checks, and the bound fits what the answer cache stores.
 */
import { describe, expect, it } from "vitest";
import { planQuery, PLAN_LIMITS } from "../../../src/queries/plan.ts";
import { releaseAnswer } from "../../../src/queries/release.ts";
import { answerBytesBound, MAX_ANSWER_BYTES } from "../../../src/queries/answer-size.ts";
import { PolicyViolation } from "../../../src/queries/errors.ts";
import type { PolicyRules } from "../../../src/privacy/policy/model.ts";
import type { DatasetSchema } from "../../../src/datasets/model.ts";

const short = (prefix: string, i: number) => `${prefix}${i}`;
const long = (prefix: string, i: number) => `${prefix}${i}`.padEnd(200, "长");
const schema: DatasetSchema = {
  columns: [
    { name: "unit", type: "string", nullable: false },
    { name: "a", type: "string", nullable: false },
    { name: "b", type: "string", nullable: false },
    { name: "x", type: "float", nullable: false },
  ],
};
const policyWith = (key: (prefix: string, i: number) => string): PolicyRules => ({
  privacyUnit: "unit",
  dimensions: [
    { column: "a", keys: Array.from({ length: 100 }, (_, i) => key("a", i)), edges: null, dateEdges: null },
    { column: "b", keys: Array.from({ length: 100 }, (_, i) => key("b", i)), edges: null, dateEdges: null },
  ],
  measures: [{ column: "x", lo: -1e15, hi: 1e15 }],
  aggregates: ["COUNT_UNITS", "COUNT_ROWS", "SUM", "AVG", "HISTOGRAM"],
  minGroupSize: 2,
  epsilonPerQuery: 1,
  buyerEpsilonBudget: 10,
  datasetEpsilonBudget: 10,
  maxGroupsPerUnit: 1,
});

describe("answer size", () => {
  it("the largest accepted answer fits its public bound, and the bound fits the store", () => {
    const ir = {
      datasetId: "ds",
      datasetVersion: 1,
      filters: [],
      groupBy: ["a", "b"],
      aggregates: [
        { kind: "COUNT_UNITS" as const },
        { kind: "COUNT_ROWS" as const },
        { kind: "SUM" as const, column: "x" },
        { kind: "AVG" as const, column: "x" },
      ],
      epsilon: "1",
    };
    const plan = planQuery({ ir, policy: policyWith(short), schema, rowCount: 1 });
    expect(plan.groupCount * ir.aggregates.length).toBe(PLAN_LIMITS.maxCells);
    // Large totals (long numbers) in every group, so every group is released with every value.
    const W = 1 + 1 + 2;
    const totals = Array.from({ length: plan.groupCount * W }, (_, i) => (i % W === 0 ? 1e9 : -123456789.123));
    const bytes = Buffer.byteLength(JSON.stringify(releaseAnswer(plan, totals)), "utf8");
    const bound = answerBytesBound(plan.groupDims, plan.groupCount, ir.aggregates, 200);
    expect(bytes).toBeLessThanOrEqual(bound);
    expect(bound).toBeLessThanOrEqual(MAX_ANSWER_BYTES);
  });

  it("refuses, at plan time and with the limit in the message, a query whose answer could be too large", () => {
    const ten = {
      datasetId: "ds",
      datasetVersion: 1,
      filters: [],
      groupBy: ["a", "b"],
      aggregates: [{ kind: "COUNT_ROWS" as const }, { kind: "SUM" as const, column: "x" }],
      epsilon: "1",
    };
    // 10 000 groups with 200-character Chinese keys: too many bytes, refused before anything runs.
    expect(() => planQuery({ ir: ten, policy: policyWith(long), schema, rowCount: 1 })).toThrow(new RegExp(`at most ${MAX_ANSWER_BYTES}`));
    const ir = {
      datasetId: "ds",
      datasetVersion: 1,
      filters: [],
      groupBy: ["a", "b"],
      aggregates: [{ kind: "HISTOGRAM" as const, column: "x", bins: 10 }],
      epsilon: "1",
    };
    const refuse = () => planQuery({ ir, policy: policyWith(short), schema, rowCount: 1 });
    expect(refuse).toThrow(PolicyViolation);
    expect(refuse).toThrow(new RegExp(`at most ${PLAN_LIMITS.maxCells}`));
  });
});
