import { describe, expect, it } from "vitest";
import { syntheticRows } from "../../../src/catalog/synthetic-samples.ts";
import { publicColumns, sampleSchema } from "../../../src/privacy/policy/public-schema.ts";
import type { DatasetSchema } from "../../../src/datasets/model.ts";
import type { PolicyRules } from "../../../src/privacy/policy/model.ts";

const schema: DatasetSchema = {
  columns: [
    { name: "vehicle_id", type: "string", nullable: false },
    { name: "district", type: "string", nullable: false },
    { name: "hour", type: "int", nullable: false },
    { name: "fare", type: "float", nullable: false },
    { name: "day", type: "date", nullable: false },
    { name: "driver_name", type: "string", nullable: false },
  ],
};

const policy: PolicyRules = {
  privacyUnit: "vehicle_id",
  dimensions: [
    { column: "district", keys: ["朝阳", "海淀"], edges: null, dateEdges: null },
    { column: "hour", keys: null, edges: [0, 6, 12, 24], dateEdges: null },
    { column: "day", keys: null, edges: null, dateEdges: ["2024-01-01", "2024-02-01"] },
  ],
  measures: [{ column: "fare", lo: 5, hi: 300 }],
  aggregates: ["COUNT_ROWS", "SUM"],
  minGroupSize: 10,
  epsilonPerQuery: 0.1,
  buyerEpsilonBudget: 2,
  datasetEpsilonBudget: 10,
  maxGroupsPerUnit: 1,
};

describe("synthetic sample rows", () => {
  it("draws every value from the declared keys, buckets and bounds, and hides undeclared columns", () => {
    for (const row of syntheticRows(schema, policy, 200)) {
      const v = Object.fromEntries(row.map((c) => [c.column, c.value]));
      expect(v.vehicle_id).toMatch(/^synthetic-[0-9a-f]{8}$/);
      expect(["朝阳", "海淀"]).toContain(v.district);
      expect(Number.isInteger(v.hour)).toBe(true);
      expect(v.hour as number).toBeGreaterThanOrEqual(0);
      expect(v.hour as number).toBeLessThan(24);
      expect(v.fare as number).toBeGreaterThanOrEqual(5);
      expect(v.fare as number).toBeLessThanOrEqual(300);
      expect((v.day as string) >= "2024-01-01" && (v.day as string) < "2024-02-01").toBe(true);
      expect(v.driver_name).toBeNull();
    }
  });

  it("are all null (but shaped like the schema) without a policy", () => {
    const [row] = syntheticRows(schema, null, 1);
    expect(row!.map((c) => c.column)).toEqual(schema.columns.map((c) => c.name));
    expect(row!.every((c) => c.value === null)).toBe(true);
  });

  it("differ from request to request (fresh randomness)", () => {
    const a = JSON.stringify(syntheticRows(schema, policy));
    const b = JSON.stringify(syntheticRows(schema, policy));
    expect(a).not.toBe(b);
  });
});

describe("the schema buyers see", () => {
  it("shows only declared types; samples take the type the policy implies where none is declared", () => {
    const declared = {
      ...policy,
      publicFacts: { columns: [{ name: "hour", type: "int" as const, nullable: false, description: "hour of day" }], size: null },
    };
    expect(publicColumns(schema, declared).map((c) => [c.name, c.type, c.nullable])).toEqual(
      schema.columns.map((c) => (c.name === "hour" ? ["hour", "int", false] : [c.name, null, null])),
    );
    const typed = sampleSchema(schema, policy);
    // The stored types are not looked at: a measure is sampled as a float unless declared otherwise.
    for (const m of policy.measures) expect(typed.columns.find((c) => c.name === m.column)?.type).toBe("float");
    expect(sampleSchema(schema, declared).columns.find((c) => c.name === "hour")?.type).toBe("int");
  });
});
