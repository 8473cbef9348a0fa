/** Each bad policy input gets its own error naming the field and the rule. */
import { describe, expect, it } from "vitest";
import { InvalidInput } from "../../../src/errors.ts";
import { derivedKeyIssues, validatePolicy } from "../../../src/privacy/policy/validate.ts";
import type { DatasetSchema } from "../../../src/datasets/model.ts";

const schema: DatasetSchema = {
  columns: [
    { name: "patient_id", type: "string", nullable: false },
    { name: "department", type: "string", nullable: false },
    { name: "age", type: "int", nullable: false },
    { name: "cost", type: "float", nullable: false },
    { name: "visit_date", type: "date", nullable: false },
    { name: "visit_time", type: "timestamp", nullable: false },
    { name: "insured", type: "boolean", nullable: false },
    { name: "weight", type: "float", nullable: true },
  ],
};

const good = {
  privacyUnit: "patient_id",
  dimensions: [
    { column: "department", keys: ["内科", "外科"] },
    { column: "age", edges: [0, 18, 65, 120] },
    { column: "visit_date", dateEdges: ["2024-01-01", "2024-07-01", "2025-01-01"] },
    { column: "insured", keys: ["true", "false"] },
  ],
  measures: [{ column: "cost", lo: 0, hi: 5000 }],
  aggregates: ["COUNT_UNITS", "SUM", "AVG"],
};

function issuesOf(input: unknown): Array<{ path: string; message: string }> {
  try {
    validatePolicy(input, schema, 1);
  } catch (e) {
    if (e instanceof InvalidInput) return e.issues;
    throw e;
  }
  throw new Error("expected InvalidInput");
}

describe("policy validation", () => {
  it("accepts a good policy, applies the defaults and types the keys like their columns", () => {
    const { rules } = validatePolicy(good, schema, 1);
    expect(rules).toMatchObject({ minGroupSize: 10, epsilonPerQuery: 0.1, buyerEpsilonBudget: 2, datasetEpsilonBudget: 10, maxGroupsPerUnit: 1 });
    expect(rules.dimensions[3]!.keys).toEqual([true, false]);
    const intKeys = validatePolicy({ ...good, dimensions: [{ column: "age", keys: ["7", 8] }] }, schema, 1);
    expect(intKeys.rules.dimensions[0]!.keys).toEqual([7, 8]);
  });

  const cases: Array<[string, unknown, string, RegExp]> = [
    ["unknown privacy unit", { ...good, privacyUnit: "nobody" }, "input.privacyUnit", /no column named "nobody" in dataset version 1/],
    ["float privacy unit", { ...good, privacyUnit: "weight" }, "input.privacyUnit", /must be a string or int column/],
    [
      "unit as a dimension",
      { ...good, dimensions: [{ column: "patient_id", keys: ["a"] }] },
      "input.dimensions.0.column",
      /privacy-unit column cannot be a dimension/,
    ],
    [
      "unit as a measure",
      { ...good, measures: [{ column: "patient_id", lo: 0, hi: 1 }] },
      "input.measures.0.column",
      /privacy-unit column cannot be a measure/,
    ],
    ["unknown dimension column", { ...good, dimensions: [{ column: "ward", keys: ["a"] }] }, "input.dimensions.0.column", /no column named "ward"/],
    ["dimension without keys or edges", { ...good, dimensions: [{ column: "department" }] }, "input.dimensions.0", /exactly one of keys/],
    [
      "dimension with keys and edges",
      { ...good, dimensions: [{ column: "age", keys: ["1"], edges: [0, 1] }] },
      "input.dimensions.0",
      /exactly one of keys/,
    ],
    ["empty key set", { ...good, dimensions: [{ column: "department", keys: [] }] }, "input.dimensions.0.keys", /at least one public key/],
    ["duplicate key", { ...good, dimensions: [{ column: "department", keys: ["内科", "内科"] }] }, "input.dimensions.0.keys.1", /declared twice/],
    [
      "non-integer key on an int column",
      { ...good, dimensions: [{ column: "age", keys: ["old"] }] },
      "input.dimensions.0.keys.0",
      /not a valid int value/,
    ],
    ["keys on a float column", { ...good, dimensions: [{ column: "cost", keys: ["1"] }] }, "input.dimensions.0.keys", /declare edges instead/],
    [
      "edges on a string column",
      { ...good, dimensions: [{ column: "department", edges: [0, 1] }] },
      "input.dimensions.0.edges",
      /for int and float columns/,
    ],
    ["decreasing edges", { ...good, dimensions: [{ column: "age", edges: [0, 65, 18] }] }, "input.dimensions.0.edges", /strictly increasing/],
    ["one edge", { ...good, dimensions: [{ column: "age", edges: [0] }] }, "input.dimensions.0.edges", /at least two edges/],
    [
      "bad date edge",
      { ...good, dimensions: [{ column: "visit_date", dateEdges: ["2024-01-01", "2024-02-30"] }] },
      "input.dimensions.0.dateEdges.1",
      /not a date like/,
    ],
    [
      "decreasing date edges",
      { ...good, dimensions: [{ column: "visit_time", dateEdges: ["2024-02-01T00:00:00Z", "2024-01-01T00:00:00Z"] }] },
      "input.dimensions.0.dateEdges",
      /strictly increasing/,
    ],
    [
      "date edges on a number column",
      { ...good, dimensions: [{ column: "age", dateEdges: ["2024-01-01", "2024-02-01"] }] },
      "input.dimensions.0.dateEdges",
      /for date and timestamp columns/,
    ],
    [
      "dimension twice",
      {
        ...good,
        dimensions: [
          { column: "department", keys: ["a"] },
          { column: "department", keys: ["b"] },
        ],
      },
      "input.dimensions.1.column",
      /declared as a dimension twice/,
    ],
    [
      "measure on a string column",
      { ...good, measures: [{ column: "department", lo: 0, hi: 1 }] },
      "input.measures.0.column",
      /must be int or float columns/,
    ],
    ["measure bounds reversed", { ...good, measures: [{ column: "cost", lo: 10, hi: 10 }] }, "input.measures.0.hi", /greater than lo/],
    ["measure bound not finite", { ...good, measures: [{ column: "cost", lo: 0, hi: 1e16 }] }, "input.measures.0.hi", /between/],
    ["no aggregates", { ...good, aggregates: [] }, "input.aggregates", /at least one aggregate/],
    ["unknown aggregate", { ...good, aggregates: ["MEDIAN"] }, "input.aggregates.0", /.+/],
    ["SUM without a measure", { ...good, measures: [], aggregates: ["SUM"] }, "input.aggregates", /SUM need at least one measure/],
    ["k of 1", { ...good, minGroupSize: 1 }, "input.minGroupSize", /at least 2/],
    ["fractional k", { ...good, minGroupSize: 2.5 }, "input.minGroupSize", /whole number/],
    ["ε of 0", { ...good, epsilonPerQuery: 0 }, "input.epsilonPerQuery", /greater than 0/],
    ["ε above 1", { ...good, epsilonPerQuery: 1.5 }, "input.epsilonPerQuery", /at most 1/],
    [
      "buyer budget below ε per query",
      { ...good, epsilonPerQuery: 0.5, buyerEpsilonBudget: 0.2 },
      "input.buyerEpsilonBudget",
      /at least epsilonPerQuery/,
    ],
    [
      "dataset budget below buyer budget",
      { ...good, buyerEpsilonBudget: 5, datasetEpsilonBudget: 3 },
      "input.datasetEpsilonBudget",
      /at least buyerEpsilonBudget/,
    ],
    ["max groups per unit of 0", { ...good, maxGroupsPerUnit: 0 }, "input.maxGroupsPerUnit", /at least 1/],
    [
      "derived keys on an int column",
      { ...good, dimensions: [{ column: "age", derivedKeys: true }] },
      "input.dimensions.0.derivedKeys",
      /for string columns; age is int: declare edges instead/,
    ],
    [
      "derived keys on a date column",
      { ...good, dimensions: [{ column: "visit_date", derivedKeys: true }] },
      "input.dimensions.0.derivedKeys",
      /declare dateEdges instead/,
    ],
    [
      "derived keys and a key set",
      { ...good, dimensions: [{ column: "department", derivedKeys: true, keys: ["内科"] }] },
      "input.dimensions.0",
      /exactly one of keys/,
    ],
    [
      "derivedKeys false alone",
      { ...good, dimensions: [{ column: "department", derivedKeys: false }] },
      "input.dimensions.0",
      /or derivedKeys: true/,
    ],
    ["max rows per unit of 0", { ...good, maxRowsPerUnit: 0 }, "input.maxRowsPerUnit", /at least 1/],
    ["fractional max rows per unit", { ...good, maxRowsPerUnit: 2.5 }, "input.maxRowsPerUnit", /whole number/],
    ["max rows per unit too large", { ...good, maxRowsPerUnit: 10_001 }, "input.maxRowsPerUnit", /at most 10000/],
  ];

  it("accepts data-derived keys on a string column and an explicit maxRowsPerUnit (default 100)", () => {
    expect(validatePolicy(good, schema, 1).rules.maxRowsPerUnit).toBe(100);
    const { rules } = validatePolicy(
      { ...good, dimensions: [{ column: "department", derivedKeys: true }, ...good.dimensions.slice(1)], maxRowsPerUnit: 7 },
      schema,
      1,
    );
    expect(rules.maxRowsPerUnit).toBe(7);
    expect(rules.dimensions[0]).toEqual({ column: "department", keys: null, edges: null, dateEdges: null, derivedKeys: true });
    // Other dimensions do not grow the field: policies declared before it keep their shape.
    expect(rules.dimensions[1]).not.toHaveProperty("derivedKeys");
  });

  it("refuses derived keys on a column with more distinct values than they allow, naming the count to the owner", () => {
    const rules = { dimensions: [{ column: "department", keys: null, edges: null, dateEdges: null, derivedKeys: true }] };
    const version = (distinct: number) => ({
      version: 3,
      schema,
      columns: schema.columns.map((c) => ({
        storage: "int32" as const,
        nullChunks: [],
        dictionarySize: c.name === "department" ? distinct : null,
        stats: { count: 0, nullCount: 0, min: null, max: null, mean: null, distinct: null },
      })),
    });
    expect(derivedKeyIssues(rules, version(1000))).toEqual([]);
    expect(derivedKeyIssues(rules, version(1001))).toEqual([
      {
        path: "input.dimensions.0.derivedKeys",
        message:
          "column department has 1001 distinct values in dataset version 3; data-derived keys allow at most 1000: declare a public key set instead",
      },
    ]);
  });

  it.each(cases)("%s → its own error", (_name, input, path, message) => {
    const issues = issuesOf(input);
    const hit = issues.find((i) => i.path === path);
    expect(hit, JSON.stringify(issues)).toBeDefined();
    expect(hit!.message).toMatch(message);
  });
});
