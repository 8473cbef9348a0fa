/**
 * Cluster-engine benchmark (not part of the tests): `./nodew npm run bench:scale`.
 * Needs SPARK_CONNECT_URL (e.g. sc://127.0.0.1:15002; bash .ci/run shows how to start one).
 *
 * One bounded group-by — per district (16 keys): COUNT_ROWS, SUM(fare) where hour in 7–9, each
 * vehicle (privacy unit) in at most 1 district and 5 rows per district — over the same
 * SCALE_ROWS (default 10 000 000) synthetic rows, heavy-tailed per vehicle, two ways in one run:
 *   kernel_bounded_10m_ms  the compiled kernel in this process over the unit-clustered columns
 *                          (its parts one after another on one core), warm;
 *   spark_bounded_10m_ms   Spark through Spark Connect over the version's Parquet copy, warm
 *                          (median of SCALE_REPEATS, default 3), the same seeds;
 *   parquet_copy_10m_ms    writing that Parquet copy (once per version);
 *   spark_bounded_10m_all_rows_ms / kernel_bounded_10m_all_rows_ms  the same without the hour
 *                          filter: every row goes through the bounding (the hardest case);
 *   engines_agree          whether both gave the same bounded totals.
 * Key names say 10m whatever SCALE_ROWS is, so runs stay comparable; scale_rows= gives the size.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SparkConnectClient } from "../spark-connect/index.ts";
import { planQuery } from "../src/queries/plan.ts";
import { compileClusteredKernel, kernelColumns, kernelShape } from "../src/queries/compile.ts";
import { bindParams } from "../src/queries/bind.ts";
import type { ColumnView } from "../src/queries/kernel-abi.ts";
import type { DatasetSchema } from "../src/datasets/model.ts";
import type { PolicyRules } from "../src/privacy/policy/model.ts";
import { clusterColumns } from "../src/runs/columns.ts";
import { runClusteredInProcess } from "../src/runs/kernel-job.ts";
import { SparkEngine } from "../src/runs/cluster/spark-engine.ts";

const ROWS = Number(process.env.SCALE_ROWS ?? 10_000_000);
const REPEATS = Number(process.env.SCALE_REPEATS ?? 3);
const URL = process.env.SPARK_CONNECT_URL;
if (!URL) {
  console.error("bench:scale needs SPARK_CONNECT_URL (a Spark Connect server, e.g. sc://127.0.0.1:15002)");
  process.exit(2);
}

const DISTRICTS = Array.from({ length: 16 }, (_, k) => `district-${k}`);
const schema: DatasetSchema = {
  columns: [
    { name: "vehicle", type: "string", nullable: false },
    { name: "district", type: "string", nullable: false },
    { name: "hour", type: "int", nullable: false },
    { name: "fare", type: "float", nullable: true },
  ],
};
const policy: PolicyRules & { maxRowsPerUnit: number } = {
  privacyUnit: "vehicle",
  dimensions: [
    { column: "district", keys: DISTRICTS, edges: null, dateEdges: null },
    { column: "hour", keys: null, edges: [0, 6, 12, 18, 24], dateEdges: null },
  ],
  measures: [{ column: "fare", lo: 0, hi: 200 }],
  aggregates: ["COUNT_ROWS", "SUM"],
  minGroupSize: 10,
  epsilonPerQuery: 1,
  buyerEpsilonBudget: 10,
  datasetEpsilonBudget: 100,
  maxGroupsPerUnit: 1,
  maxRowsPerUnit: 5,
};

/** Synthetic rows: vehicles in file order of first trip, a few with very many trips. */
function table(rows: number): Record<string, ColumnView> {
  let s = 12345;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
  const vehicles = Math.max(10, Math.floor(rows / 100));
  const vehicle = new Int32Array(rows);
  const district = new Int32Array(rows);
  const hour = new Int32Array(rows);
  const fare = new Float64Array(rows);
  const fareNulls = new Uint8Array(Math.ceil(rows / 8));
  for (let i = 0; i < rows; i++) {
    vehicle[i] = Math.floor(next() * next() * vehicles);
    district[i] = Math.floor(next() * DISTRICTS.length);
    hour[i] = Math.floor(next() * 24);
    fare[i] = Math.round(next() * 30_000) / 100;
    if (next() < 0.01) fareNulls[i >>> 3]! |= 1 << (i & 7);
  }
  return {
    vehicle: { values: vehicle, nulls: null, dictionary: Array.from({ length: vehicles }, (_, k) => `v${k}`) },
    district: { values: district, nulls: null, dictionary: DISTRICTS },
    hour: { values: hour, nulls: null, dictionary: null },
    fare: { values: fare, nulls: fareNulls, dictionary: null },
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const views = table(ROWS);

/** The bounded group-by (with or without the hour filter), its kernel, bound parameters and warm kernel time. */
function prepared(filtered: boolean) {
  const plan = planQuery({
    ir: {
      datasetId: "ds",
      datasetVersion: 1,
      filters: filtered ? [{ column: "hour", op: "range", lo: 7, hi: 10 }] : [],
      groupBy: ["district"],
      aggregates: [{ kind: "COUNT_ROWS" }, { kind: "SUM", column: "fare" }],
      epsilon: "1",
    },
    policy,
    schema,
    rowCount: ROWS,
  });
  const names = kernelColumns(plan);
  const clustered = clusterColumns(views, "vehicle", names, 1);
  const program = compileClusteredKernel(plan, kernelShape(names, clustered.views));
  const bound = bindParams(plan, program, clustered.views);
  const times: number[] = [];
  let totals: number[] = [];
  for (let r = 0; r <= REPEATS; r++) {
    const t0 = performance.now();
    totals = runClusteredInProcess(program, clustered, bound).totals;
    if (r > 0) times.push(performance.now() - t0); // the first run compiles
  }
  return { plan, bound, totals, kernelMs: median(times) };
}
const filtered = prepared(true);
const allRows = prepared(false);

const dir = await mkdtemp(join(tmpdir(), "bench-scale-"));
const client = new SparkConnectClient(URL);
try {
  const engine = new SparkEngine({ client, dataDir: dir, readColumn: async (_v, index) => views[schema.columns[index]!.name]! });
  const version = { _id: `scale-${ROWS}`, rowCount: ROWS, schema };
  const t0 = performance.now();
  await engine.prepare(version);
  const copyMs = performance.now() - t0;
  const onSpark = async (q: ReturnType<typeof prepared>) => {
    const times: number[] = [];
    let totals: number[] = [];
    for (let r = 0; r <= REPEATS; r++) {
      const t1 = performance.now();
      totals = await engine.compute(q.plan, version, q.bound, { timeoutMs: 600_000 });
      if (r > 0) times.push(performance.now() - t1); // the first run warms the engine
    }
    return { totals, ms: median(times) };
  };
  const sparkFiltered = await onSpark(filtered);
  const sparkAll = await onSpark(allRows);
  // Per group: rows, units, sum, n; sums may differ in the last bits (order of additions).
  const countsAgree = (a: number[], b: number[]) => a.every((x, k) => k % 4 === 2 || x === b[k]);
  console.log(`scale_rows=${ROWS}`);
  console.log(`kernel_bounded_10m_ms=${filtered.kernelMs.toFixed(0)}`);
  console.log(`spark_bounded_10m_ms=${sparkFiltered.ms.toFixed(0)}`);
  console.log(`kernel_bounded_10m_all_rows_ms=${allRows.kernelMs.toFixed(0)}`);
  console.log(`spark_bounded_10m_all_rows_ms=${sparkAll.ms.toFixed(0)}`);
  console.log(`parquet_copy_10m_ms=${copyMs.toFixed(0)}`);
  console.log(`engines_counts_agree=${countsAgree(sparkFiltered.totals, filtered.totals) && countsAgree(sparkAll.totals, allRows.totals)}`);
  const maxRelSum = Math.max(
    ...[sparkFiltered, sparkAll].flatMap((s, q) =>
      s.totals.map((x, k) => (k % 4 === 2 ? Math.abs(x - [filtered, allRows][q]!.totals[k]!) / Math.max(1, Math.abs(x)) : 0)),
    ),
  );
  console.log(`engines_sum_max_rel_diff=${maxRelSum.toExponential(1)}`);
} finally {
  await client.close();
  await rm(dir, { recursive: true, force: true });
}
