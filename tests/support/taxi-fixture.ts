/**
 * A small deterministic taxi table, its schema, a policy and a query, shared by the compiler's
 * tests in-process and in the sandbox (xorshift: tests need reproducible data, not secure randomness).
 */
import type { ColumnView } from "../../src/queries/kernel-abi.ts";
import type { QueryIR } from "../../src/queries/ir.ts";
import type { PolicyRules } from "../../src/privacy/policy/model.ts";
import type { DatasetSchema } from "../../src/datasets/model.ts";

export const DISTRICTS = ["朝阳区", "海淀区", "东城区", "西城区"];

/** Fares up to 900 (policies clamp at 500); 2% of fares null; one district outside the key set. */
export function taxiTable(rows: number, vehicles: number, seed = 7, options: { shared?: boolean } = {}) {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
  const buffer = (bytes: number) => (options.shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  const dictionary = [...DISTRICTS, "unknown-district"];
  const vehicle = new Int32Array(buffer(rows * 4));
  const district = new Int32Array(buffer(rows * 4));
  const hour = new Float64Array(buffer(rows * 8));
  const fare = new Float64Array(buffer(rows * 8));
  const fareNulls = new Uint8Array(buffer(Math.ceil(rows / 8)));
  for (let i = 0; i < rows; i++) {
    vehicle[i] = Math.floor(next() * vehicles);
    district[i] = Math.floor(next() * dictionary.length);
    hour[i] = Math.floor(next() * 24);
    fare[i] = Math.round(next() * 900 * 100) / 100;
    if (next() < 0.02) fareNulls[i >>> 3]! |= 1 << (i & 7);
  }
  const views: Record<string, ColumnView> = {
    vehicle_id: { values: vehicle, nulls: null, dictionary: Array.from({ length: vehicles }, (_, v) => `V${v}`) },
    district: { values: district, nulls: null, dictionary },
    hour: { values: hour, nulls: null, dictionary: null },
    fare: { values: fare, nulls: fareNulls, dictionary: null },
  };
  return { views, vehicle, district, hour, fare, fareNulls, dictionary };
}

export const TAXI_SCHEMA: DatasetSchema = {
  columns: [
    { name: "vehicle_id", type: "string", nullable: false },
    { name: "district", type: "string", nullable: false },
    { name: "hour", type: "int", nullable: false },
    { name: "fare", type: "float", nullable: true },
  ],
};

export const TAXI_POLICY: PolicyRules & { maxRowsPerUnit: number } = {
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

/** Per district, 07:00–10:00: units, rows, SUM(fare) and a 5-bin fare histogram. */
export const TAXI_IR: QueryIR = {
  datasetId: "ds_test",
  datasetVersion: 1,
  filters: [{ column: "hour", op: "range", lo: 7, hi: 10 }],
  groupBy: ["district"],
  aggregates: [{ kind: "COUNT_UNITS" }, { kind: "COUNT_ROWS" }, { kind: "SUM", column: "fare" }, { kind: "HISTOGRAM", column: "fare", bins: 5 }],
  epsilon: "0.5",
};
