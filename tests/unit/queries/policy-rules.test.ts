/**
 * One case per PolicyRule: each rule is produced, by the check it names, with the input path at
 * fault. The planner is called directly; NO_ENTITLEMENT and BUDGET_TOO_SMALL come from the checks
 * around it (analysis submission, the budget precheck), called with stand-in collaborators.
 */
import { describe, expect, it } from "vitest";
import { planQuery, requestedEpsilon } from "../../../src/queries/plan.ts";
import { POLICY_RULES, PolicyViolation, type PolicyRule } from "../../../src/queries/errors.ts";
import { budgetStanding } from "../../../src/runs/budget-check.ts";
import { policyCaps, type PrivacyBudgetService } from "../../../src/privacy/budget/index.ts";
import { parseEpsilon } from "../../../src/privacy/mechanism/index.ts";
import { AnalysisService, type AnalysisServiceDeps } from "../../../src/analysis/service.ts";
import type { DocumentStore } from "../../../src/store/port.ts";
import type { QueryIR } from "../../../src/queries/ir.ts";
import type { PolicyRules } from "../../../src/privacy/policy/model.ts";
import { TAXI_IR, TAXI_POLICY, TAXI_SCHEMA } from "../../support/taxi-fixture.ts";

async function refusal(f: () => unknown): Promise<{ rule: PolicyRule; path: string; message: string }> {
  try {
    await f();
  } catch (e) {
    if (e instanceof PolicyViolation) return { rule: e.rule, path: e.path, message: e.message };
    throw e;
  }
  throw new Error("expected a PolicyViolation");
}

const plan =
  (ir: Partial<QueryIR>, policy: PolicyRules & { maxRowsPerUnit?: number } = TAXI_POLICY, derivedKeys?: Record<string, string[]>) =>
  () =>
    planQuery({ ir: { ...TAXI_IR, ...ir }, policy, schema: TAXI_SCHEMA, rowCount: 100, ...(derivedKeys ? { derivedKeys } : {}) });

const derivedPolicy = {
  ...TAXI_POLICY,
  dimensions: [
    ...TAXI_POLICY.dimensions.filter((d) => d.column !== "district"),
    { column: "district", keys: null, edges: null, dateEdges: null, derivedKeys: true },
  ],
};

/** Each rule with the input that must produce it and the path it must name. */
const CASES: Record<PolicyRule, { run: () => unknown; path: string | RegExp }> = {
  UNKNOWN_COLUMN: { run: plan({ groupBy: ["nope"] }), path: "input.groupBy[0]" },
  COLUMN_NOT_ALLOWED: { run: plan({ groupBy: ["vehicle_id"] }), path: "input.groupBy[0]" },
  AGGREGATE_NOT_ALLOWED: { run: plan({}, { ...TAXI_POLICY, aggregates: ["COUNT_UNITS"] }), path: "input.aggregates[1].kind" },
  VALUE_NOT_IN_KEY_SET: { run: plan({ filters: [{ column: "district", op: "in", values: ["火星区"] }] }), path: "input.filters[0].values" },
  BAD_FILTER: { run: plan({ filters: [{ column: "hour", op: "range", lo: 9, hi: 7 }] }), path: "input.filters[0]" },
  NO_AGGREGATE: { run: plan({ aggregates: [] }), path: "input.aggregates" },
  TOO_MANY_AGGREGATES: { run: plan({ aggregates: Array.from({ length: 9 }, () => ({ kind: "COUNT_UNITS" as const })) }), path: "input.aggregates" },
  DUPLICATE_GROUP_BY: { run: plan({ groupBy: ["district", "district"] }), path: "input.groupBy[1]" },
  TOO_MANY_GROUPS: {
    run: plan(
      { groupBy: ["district", "hour"], filters: [] },
      {
        ...TAXI_POLICY,
        dimensions: [
          { column: "district", keys: Array.from({ length: 200 }, (_, i) => `k${i}`), edges: null, dateEdges: null },
          { column: "hour", keys: Array.from({ length: 100 }, (_, i) => i), edges: null, dateEdges: null },
        ],
      },
    ),
    path: "input.groupBy",
  },
  BAD_HISTOGRAM_BINS: { run: plan({ aggregates: [{ kind: "HISTOGRAM", column: "fare", bins: 1 }] }), path: "input.aggregates[0].bins" },
  BAD_EPSILON: { run: plan({ epsilon: "0.0000001" }), path: "input.epsilon" },
  EPSILON_ABOVE_LIMIT: { run: plan({ epsilon: "1.5" }), path: "input.epsilon" },
  DERIVED_KEYS_UNAVAILABLE: { run: plan({}, derivedPolicy, {}), path: "input.groupBy[0]" },
  BUDGET_TOO_SMALL: {
    run: () =>
      budgetStanding(
        {
          remaining: async () => ({ buyer: { remainingMicro: 50_000 }, dataset: { remainingMicro: 9_000_000 } }),
          getCachedAnswer: async () => null,
        } as unknown as PrivacyBudgetService,
        { buyerId: "acc_b", datasetId: "ds", versionId: "dv", hash: "h", epsilon: parseEpsilon("0.1"), caps: policyCaps(TAXI_POLICY), what: "query" },
      ),
    path: "input.epsilon",
  },
  NO_ENTITLEMENT: {
    run: async () => {
      const store = { collection: async () => ({}) } as unknown as DocumentStore;
      const deps = {
        catalog: { queryable: async () => ({ listing: { _id: "lst_1" }, version: { schema: TAXI_SCHEMA }, policy: TAXI_POLICY }) },
        access: { hasEntitlement: async () => false },
        audit: { drift: { registerFactCheck: () => undefined } },
      } as unknown as AnalysisServiceDeps;
      const analyses = await AnalysisService.open(store, deps);
      await analyses.submit("acc_stranger", {
        listingId: "lst_1",
        title: "fares",
        source: "function map(rows) { return [rows.length]; }",
        columns: ["fare"],
        outputs: [{ name: "n", lo: 0, hi: 10, default: 0 }],
      });
    },
    path: "input.listingId",
  },
};

describe("PolicyRule", () => {
  it("has a case below for every rule, and nothing else", () => {
    expect(Object.keys(CASES).sort()).toEqual([...POLICY_RULES].sort());
  });

  for (const rule of POLICY_RULES) {
    it(`${rule} is what that check refuses with`, async () => {
      const { run, path } = CASES[rule];
      const r = await refusal(run);
      expect(r.rule).toBe(rule);
      expect(r.path).toEqual(path);
      expect(r.message.length).toBeGreaterThan(0);
    });
  }

  it("a malformed ε is BAD_EPSILON, not EPSILON_ABOVE_LIMIT (which is for a well-formed ε over the policy's limit)", async () => {
    for (const bad of ["-1", "0", "abc", "1e-3"]) expect((await refusal(() => requestedEpsilon(bad, 1))).rule).toBe("BAD_EPSILON");
    expect((await refusal(() => requestedEpsilon("0.2", 0.1))).rule).toBe("EPSILON_ABOVE_LIMIT");
  });
});

describe("careless sizes are refused with the limit in the message, before anything runs", () => {
  it("100 filters, histogram bins of −1 and 10⁹", async () => {
    const many = Array.from({ length: 100 }, () => ({ column: "hour", op: "range" as const, lo: 0, hi: 24 }));
    const filters = await refusal(plan({ filters: many }));
    expect(filters).toMatchObject({ rule: "BAD_FILTER", path: "input.filters" });
    expect(filters.message).toMatch(/at most 32 filters/);
    for (const bins of [-1, 1e9]) {
      const r = await refusal(plan({ aggregates: [{ kind: "HISTOGRAM", column: "fare", bins }] }));
      expect(r).toMatchObject({ rule: "BAD_HISTOGRAM_BINS", path: "input.aggregates[0].bins" });
      expect(r.message).toMatch(/2 to 50 bins/);
    }
  });
});
