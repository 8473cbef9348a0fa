/**
 * Random contribution selection (issue #16): when a unit has more than R rows in a group, the
 * R rows that count are a uniform random sample drawn afresh each run, not the first R in file
 * order, so a sorted file no longer biases sums and means.
 */
import { describe, expect, it } from "vitest";
import { planQuery } from "../../../src/queries/plan.ts";
import { compileClusteredKernel, kernelColumns, kernelShape } from "../../../src/queries/compile.ts";
import { bindParams, type BoundParams } from "../../../src/queries/bind.ts";
import { selectionHash } from "../../../src/queries/selection-hash.ts";
import type { ColumnView } from "../../../src/queries/kernel-abi.ts";
import type { DatasetSchema } from "../../../src/datasets/model.ts";
import type { PolicyRules } from "../../../src/privacy/policy/model.ts";
import { clusterColumns } from "../../../src/runs/columns.ts";
import { runClusteredInProcess } from "../../../src/runs/kernel-job.ts";

const UNITS = 200;
const PER_UNIT = 10;
const R = 2;

/** Each unit has 10 rows in group "a", its measure 0, 1, …, 9 in file order (sorted ascending). */
function sortedTable(): Record<string, ColumnView> {
  const n = UNITS * PER_UNIT;
  const unit = new Int32Array(n);
  const grp = new Int32Array(n);
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    unit[i] = Math.floor(i / PER_UNIT);
    v[i] = i % PER_UNIT;
  }
  return {
    unit: { values: unit, nulls: null, dictionary: Array.from({ length: UNITS }, (_, u) => `u${u}`) },
    grp: { values: grp, nulls: null, dictionary: ["a"] },
    v: { values: v, nulls: null, dictionary: null },
  };
}

const schema: DatasetSchema = {
  columns: [
    { name: "unit", type: "string", nullable: false },
    { name: "grp", type: "string", nullable: false },
    { name: "v", type: "float", nullable: false },
  ],
};
const policy: PolicyRules = {
  privacyUnit: "unit",
  dimensions: [{ column: "grp", keys: ["a"], edges: null, dateEdges: null }],
  measures: [{ column: "v", lo: 0, hi: 10 }],
  aggregates: ["COUNT_ROWS", "SUM", "HISTOGRAM"],
  minGroupSize: 2,
  epsilonPerQuery: 1,
  buyerEpsilonBudget: 10,
  datasetEpsilonBudget: 10,
  maxGroupsPerUnit: 1,
  maxRowsPerUnit: R,
};

function setup(partitions: number) {
  const views = sortedTable();
  const plan = planQuery({
    ir: {
      datasetId: "ds",
      datasetVersion: 1,
      filters: [],
      groupBy: ["grp"],
      aggregates: [{ kind: "COUNT_ROWS" }, { kind: "SUM", column: "v" }, { kind: "HISTOGRAM", column: "v", bins: 10 }],
      epsilon: "1",
    },
    policy,
    schema,
    rowCount: UNITS * PER_UNIT,
  });
  const names = kernelColumns(plan);
  const clustered = clusterColumns(views, "unit", names, partitions);
  const program = compileClusteredKernel(plan, kernelShape(names, clustered.views));
  const run = (bound: Omit<BoundParams, "partitions" | "partition">) => runClusteredInProcess(program, clustered, bound).totals;
  return { plan, program, clustered, run };
}

// Output per group: units, rows, (sum, n) of v, 10 histogram bins.
describe("random contribution selection", () => {
  it.each([1, 2])("keeps exactly R rows per unit and group, each row equally likely, over fresh seeds (%i partition(s))", (partitions) => {
    const { plan, program, clustered, run } = setup(partitions);
    const runs = 60;
    let sum = 0;
    const bins = new Array<number>(10).fill(0);
    for (let r = 0; r < runs; r++) {
      const totals = run(bindParams(plan, program, clustered.views));
      expect(totals[0]).toBe(UNITS);
      expect(totals[1]).toBe(UNITS * R);
      expect(totals[3]).toBe(UNITS * R);
      sum += totals[2]!;
      totals.slice(4, 14).forEach((b, i) => (bins[i]! += b));
    }
    // first-R in file order would give 0 + 1 = 1 per unit; a uniform pair averages 2 × 4.5 = 9
    expect(sum / (runs * UNITS)).toBeGreaterThan(8.6);
    expect(sum / (runs * UNITS)).toBeLessThan(9.4);
    const expected = (runs * UNITS * R) / PER_UNIT;
    for (const b of bins) expect(Math.abs(b - expected) / expected).toBeLessThan(0.12);
  });

  it("repeats for one row seed, differs across seeds, and keeps the first R rows without one", () => {
    const { plan, program, clustered, run } = setup(1);
    const bound = bindParams(plan, program, clustered.views);
    expect(Number.isInteger(bound.rowSeed)).toBe(true);
    expect(run(bound)).toEqual(run({ ...bound }));
    expect(run({ ...bound, rowSeed: 1 })).not.toEqual(run({ ...bound, rowSeed: 5 }));
    const { rowSeed: _seed, ...firstRows } = bound;
    const legacy = run(firstRows);
    expect(legacy[2]).toBe(UNITS * (0 + 1));
    expect(legacy.slice(4, 6)).toEqual([UNITS, UNITS]);
  });

  it.each([1, 2])("keeps the R rows of smallest keyed hash of their row index, the one rule every engine follows (%i partition(s))", (partitions) => {
    const { plan, program, clustered, run } = setup(partitions);
    for (const rowSeed of [0, -7, 123_456_789]) {
      // The definition (selection-hash.ts), computed directly over file rows: per unit, the R rows
      // of smallest (rowRank(seed, row), row).
      let expected = 0;
      for (let u = 0; u < UNITS; u++) {
        const rows = Array.from({ length: PER_UNIT }, (_, k) => u * PER_UNIT + k);
        rows.sort((a, b) => selectionHash.rowRank(rowSeed, a) - selectionHash.rowRank(rowSeed, b) || a - b);
        for (const row of rows.slice(0, R)) expected += row % PER_UNIT;
      }
      const totals = run({ ...bindParams(plan, program, clustered.views), rowSeed });
      expect(totals[2]).toBe(expected);
    }
  });
});
