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

/**
 * A random table with every column kind the kernels read, nulls in most of them, for comparing
 * kernels: string units (codes, -1 where null), numeric units, a string and an int dimension,
 * a number for edges and ranges, a boolean, and two measures with values beyond their bounds.
 */
export function mixedTable(rows: number, units: number, seed: number, options: { unitNulls?: boolean } = {}) {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
  const bitmap = () => new Uint8Array(Math.ceil(rows / 8));
  const setNull = (b: Uint8Array, i: number) => (b[i >>> 3]! |= 1 << (i & 7));
  const CATS = ["a", "b", "c", "d", "e", "zz-not-a-key"];
  const unit = new Int32Array(rows);
  const unitNulls = bitmap();
  const nunit = new Float64Array(rows);
  const cat = new Int32Array(rows);
  const catNulls = bitmap();
  const num = new Int32Array(rows);
  const numNulls = bitmap();
  const t = new Float64Array(rows);
  const tNulls = bitmap();
  const flag = new Uint8Array(rows);
  const m1 = new Float64Array(rows);
  const m1Nulls = bitmap();
  const m2 = new Float64Array(rows);
  // Unit codes in order of first appearance, as ingestion assigns them.
  const codeOf = new Map<number, number>();
  const unitDictionary: string[] = [];
  for (let i = 0; i < rows; i++) {
    const raw = Math.floor(next() * next() * units); // skewed: some units have many rows
    if (options.unitNulls && next() < 0.03) {
      unit[i] = -1;
      setNull(unitNulls, i);
    } else {
      let code = codeOf.get(raw);
      if (code === undefined) {
        code = unitDictionary.push(`unit-${raw}`) - 1;
        codeOf.set(raw, code);
      }
      unit[i] = code;
    }
    nunit[i] = raw * 7919 - 50_000; // negative and positive ids
    cat[i] = Math.floor(next() * CATS.length);
    if (next() < 0.05) setNull(catNulls, i);
    num[i] = Math.floor(next() * 7) - 1; // -1..5; keys are 0..4
    if (next() < 0.05) setNull(numNulls, i);
    t[i] = Math.round(next() * 1200) / 10 - 10; // -10..110
    if (next() < 0.05) setNull(tNulls, i);
    flag[i] = next() < 0.4 ? 1 : 0;
    m1[i] = Math.round((next() * 1500 - 200) * 100) / 100; // beyond [0, 1000]
    if (next() < 0.1) setNull(m1Nulls, i);
    m2[i] = Math.round(next() * 120 * 10) / 10; // beyond [0, 100]
  }
  const views: Record<string, ColumnView> = {
    unit: { values: unit, nulls: options.unitNulls ? unitNulls : null, dictionary: unitDictionary },
    nunit: { values: nunit, nulls: null, dictionary: null },
    cat: { values: cat, nulls: catNulls, dictionary: CATS },
    num: { values: num, nulls: numNulls, dictionary: null },
    t: { values: t, nulls: tNulls, dictionary: null },
    flag: { values: flag, nulls: null, dictionary: null },
    m1: { values: m1, nulls: m1Nulls, dictionary: null },
    m2: { values: m2, nulls: null, dictionary: null },
  };
  return { views };
}

export const MIXED_SCHEMA: DatasetSchema = {
  columns: [
    { name: "unit", type: "string", nullable: true },
    { name: "nunit", type: "int", nullable: false },
    { name: "cat", type: "string", nullable: true },
    { name: "num", type: "int", nullable: true },
    { name: "t", type: "float", nullable: true },
    { name: "flag", type: "boolean", nullable: false },
    { name: "m1", type: "float", nullable: true },
    { name: "m2", type: "float", nullable: false },
  ],
};

export const MIXED_POLICY: PolicyRules & { maxRowsPerUnit: number } = {
  privacyUnit: "unit",
  dimensions: [
    { column: "cat", keys: ["a", "b", "c", "d", "e"], edges: null, dateEdges: null },
    { column: "num", keys: [0, 1, 2, 3, 4], edges: null, dateEdges: null },
    { column: "t", keys: null, edges: [0, 25, 50, 75, 100], dateEdges: null },
    { column: "flag", keys: [true, false], edges: null, dateEdges: null },
  ],
  measures: [
    { column: "m1", lo: 0, hi: 1000 },
    { column: "m2", lo: 0, hi: 100 },
  ],
  aggregates: ["COUNT_UNITS", "COUNT_ROWS", "SUM", "AVG", "HISTOGRAM"],
  minGroupSize: 10,
  epsilonPerQuery: 1,
  buyerEpsilonBudget: 2,
  datasetEpsilonBudget: 10,
  maxGroupsPerUnit: 1,
  maxRowsPerUnit: 1000,
};
