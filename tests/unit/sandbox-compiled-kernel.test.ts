/**
 * The compiler's kernels (src/queries) run in the sandbox exactly as in-process: same calling
 * convention (cols, nulls, start, end, params with typed-array lookup tables), and the compiler's
 * unit-hash partitions as parallel parts over the same shared columns.
 */
import { afterAll, describe, expect, it } from "vitest";
import { Sandbox } from "../../sandbox/index.ts";
import { planQuery } from "../../src/queries/plan.ts";
import { compileKernel } from "../../src/queries/compile.ts";
import { bindParams, mergeTotals, runKernelInProcess } from "../../src/queries/bind.ts";
import type { ColumnView } from "../../src/queries/kernel-abi.ts";
import type { QueryIR } from "../../src/queries/ir.ts";
import type { PolicyRules } from "../../src/privacy/policy/model.ts";
import type { DatasetSchema } from "../../src/datasets/model.ts";

const sandbox = new Sandbox({ size: 2 });
afterAll(() => sandbox.close());

const DISTRICTS = ["朝阳区", "海淀区", "东城区", "西城区"];

function taxi(rows: number, vehicles: number) {
  let s = 17;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
  const shared = <T extends Int32Array | Float64Array | Uint8Array>(make: (b: SharedArrayBuffer) => T, bytes: number) => make(new SharedArrayBuffer(bytes));
  const vehicle = shared((b) => new Int32Array(b), rows * 4);
  const district = shared((b) => new Int32Array(b), rows * 4);
  const hour = shared((b) => new Float64Array(b), rows * 8);
  const fare = shared((b) => new Float64Array(b), rows * 8);
  const fareNulls = shared((b) => new Uint8Array(b), Math.ceil(rows / 8));
  for (let i = 0; i < rows; i++) {
    vehicle[i] = Math.floor(next() * vehicles);
    district[i] = Math.floor(next() * 5);
    hour[i] = Math.floor(next() * 24);
    fare[i] = Math.round(next() * 90_000) / 100;
    if (next() < 0.02) fareNulls[i >>> 3]! |= 1 << (i & 7);
  }
  const views: Record<string, ColumnView> = {
    vehicle_id: { values: vehicle, nulls: null, dictionary: Array.from({ length: vehicles }, (_, v) => `V${v}`) },
    district: { values: district, nulls: null, dictionary: [...DISTRICTS, "other"] },
    hour: { values: hour, nulls: null, dictionary: null },
    fare: { values: fare, nulls: fareNulls, dictionary: null },
  };
  return views;
}

const schema: DatasetSchema = {
  columns: [
    { name: "vehicle_id", type: "string", nullable: false },
    { name: "district", type: "string", nullable: false },
    { name: "hour", type: "int", nullable: false },
    { name: "fare", type: "float", nullable: true },
  ],
};

const policy: PolicyRules & { maxRowsPerUnit: number } = {
  privacyUnit: "vehicle_id",
  dimensions: [
    { column: "district", keys: DISTRICTS, edges: null, dateEdges: null },
    { column: "hour", keys: null, edges: [0, 6, 12, 18, 24], dateEdges: null },
  ],
  measures: [{ column: "fare", lo: 0, hi: 500 }],
  aggregates: ["COUNT_UNITS", "COUNT_ROWS", "SUM", "AVG", "HISTOGRAM"],
  minGroupSize: 10,
  epsilonPerQuery: 1,
  buyerEpsilonBudget: 2,
  datasetEpsilonBudget: 10,
  maxGroupsPerUnit: 100,
  maxRowsPerUnit: 1000,
};

const ir: QueryIR = {
  datasetId: "ds_test",
  datasetVersion: 1,
  filters: [{ column: "hour", op: "range", lo: 7, hi: 10 }],
  groupBy: ["district"],
  aggregates: [{ kind: "COUNT_UNITS" }, { kind: "COUNT_ROWS" }, { kind: "SUM", column: "fare" }, { kind: "HISTOGRAM", column: "fare", bins: 5 }],
  epsilon: "0.5",
};

describe("compiled kernels in the sandbox", () => {
  it("give the in-process totals, in one part and in unit-hash partitions run in parallel", async () => {
    const views = taxi(30_000, 400);
    const plan = planQuery({ ir, policy, schema, rowCount: 30_000 });
    const program = compileKernel(plan);
    const bound = bindParams(plan, program, views);
    const expected = runKernelInProcess(program, views, { ...bound, partitions: 1, partition: 0 }).totals;
    const columns = program.columns.map((name) => ({ values: views[name]!.values, nulls: views[name]!.nulls }));

    const one = await sandbox.runKernel({ source: program.source, columns, rowStart: 0, rowEnd: 30_000, params: { ...bound, partitions: 1, partition: 0 } });
    expect((one.result as { totals: number[] }).totals).toEqual(expected);

    const P = 3;
    const parts = Array.from({ length: P }, (_, partition) => ({ rowStart: 0, rowEnd: 30_000, params: { ...bound, partitions: P, partition } }));
    const { partials, metering } = await sandbox.runKernelParallel({ source: program.source, columns, columnsKey: "ds_test/v1/taxi", parts });
    const merged = mergeTotals(partials as Array<{ totals: number[] }>);
    merged.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
    expect(metering.rows).toBe(P * 30_000); // each unit partition scans every row
  });
});
