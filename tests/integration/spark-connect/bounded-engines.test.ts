/**
 * Same semantics, proven: random valid queries over small datasets through both engines — the
 * in-process compiled kernel and Spark over the version's Parquet copy — with the same bound
 * parameters and seeds must give identical bounded totals (before noise): the same rows and
 * groups chosen per unit (the shared selection hash), the same clamping, the same bins.
 * Measures are multiples of 1/4 here, so float sums are exact in any order and totals can be
 * compared bit for bit; with arbitrary decimals they differ only by the order of additions.
 * Needs SPARK_CONNECT_URL (bash .ci/run starts Spark Connect).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SparkConnectClient } from "../../../spark-connect/index.ts";
import { planQuery, type QueryPlan } from "../../../src/queries/plan.ts";
import { compileClusteredKernel, kernelColumns, kernelShape } from "../../../src/queries/compile.ts";
import { bindParams } from "../../../src/queries/bind.ts";
import type { QueryIR } from "../../../src/queries/ir.ts";
import type { ColumnView } from "../../../src/queries/kernel-abi.ts";
import { clusterColumns } from "../../../src/runs/columns.ts";
import { runClusteredInProcess } from "../../../src/runs/kernel-job.ts";
import { SparkEngine } from "../../../src/runs/cluster/spark-engine.ts";
import { boundedSql } from "../../../src/runs/cluster/bounded-sql.ts";
import { MIXED_POLICY, MIXED_SCHEMA, mixedTable } from "../../support/taxi-fixture.ts";

const URL = process.env.SPARK_CONNECT_URL;
if (!URL) console.warn("\n!!! SKIPPING the cluster engine's differential test: SPARK_CONNECT_URL is not set.\n");

const ROWS = 4_000;

/** The mixed fixture with measures on a grid of 1/4 (exact float sums in any order). */
function dyadicTable(seed: number, unitNulls: boolean): Record<string, ColumnView> {
  const { views } = mixedTable(ROWS, 120, seed, { unitNulls });
  for (const name of ["m1", "m2", "t"]) {
    const v = views[name]!.values as Float64Array;
    for (let i = 0; i < v.length; i++) v[i] = Math.round(v[i]! * 4) / 4;
  }
  return views;
}

/** A small deterministic generator for the random queries (the seeds of the runs come from node:crypto). */
function generator(seed: number) {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const some = <T>(xs: readonly T[], max: number): T[] => xs.filter(() => next() < max / xs.length);
  return { next, pick, some };
}

const FILTERS: NonNullable<QueryIR["filters"]> = [
  { column: "cat", op: "in", values: ["a", "c", "e"] },
  { column: "flag", op: "in", values: [true] },
  { column: "num", op: "in", values: [1, 2, 4] },
  { column: "t", op: "range", lo: 10, hi: 90 },
  { column: "t", op: "range", lo: null, hi: 60.5 },
  { column: "num", op: "range", lo: 0.5, hi: 3.5 },
];
const AGGREGATES: QueryIR["aggregates"] = [
  { kind: "COUNT_UNITS" },
  { kind: "COUNT_ROWS" },
  { kind: "SUM", column: "m1" },
  { kind: "AVG", column: "m2" },
  { kind: "HISTOGRAM", column: "m1", bins: 4 },
  { kind: "HISTOGRAM", column: "m2", bins: 7 },
];

function randomIR(g: ReturnType<typeof generator>): Pick<QueryIR, "filters" | "groupBy" | "aggregates"> {
  const aggregates = g.some(AGGREGATES, 3);
  return {
    filters: g.some(FILTERS, 2),
    groupBy: g.some(["cat", "num", "t", "flag"], 2),
    aggregates: aggregates.length > 0 ? aggregates : [{ kind: "COUNT_ROWS" }],
  };
}

for (const url of URL ? [URL] : []) {
  describe("the cluster engine (Spark) against the in-process kernel", () => {
    const client = new SparkConnectClient(url);
    let dir = "";
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "cluster-copies-"));
    });
    afterAll(async () => {
      await client.close();
      await rm(dir, { recursive: true, force: true });
    });

    const cases: Array<{ unit: "unit" | "nunit"; unitNulls: boolean; seed: number }> = [
      { unit: "unit", unitNulls: false, seed: 11 },
      { unit: "unit", unitNulls: true, seed: 12 },
      { unit: "nunit", unitNulls: false, seed: 13 },
    ];
    for (const c of cases) {
      it(`gives identical bounded totals for random queries (unit column ${c.unit}${c.unitNulls ? ", some units null" : ""})`, async () => {
        const views = dyadicTable(c.seed, c.unitNulls);
        const version = { _id: `v${c.seed}`, rowCount: ROWS, schema: MIXED_SCHEMA };
        const engine = new SparkEngine({
          client,
          dataDir: dir,
          readColumn: async (_v, index) => views[MIXED_SCHEMA.columns[index]!.name]!,
        });
        const g = generator(c.seed * 7919);
        let nonEmpty = 0;
        for (let q = 0; q < 6; q++) {
          const ir = randomIR(g);
          const policy = { ...MIXED_POLICY, privacyUnit: c.unit, maxGroupsPerUnit: g.pick([1, 2, 3, 100]), maxRowsPerUnit: g.pick([1, 2, 5, 1000]) };
          const plan: QueryPlan = planQuery({
            ir: { datasetId: "ds", datasetVersion: 1, epsilon: "1", ...ir },
            policy,
            schema: MIXED_SCHEMA,
            rowCount: ROWS,
          });
          const names = kernelColumns(plan);
          const clustered = clusterColumns(views, c.unit, names, 2);
          const program = compileClusteredKernel(plan, kernelShape(names, clustered.views));
          const bound = bindParams(plan, program, clustered.views); // fresh seeds from node:crypto
          const kernel = runClusteredInProcess(program, clustered, bound).totals;
          const spark = await engine.compute(plan, version, bound, { timeoutMs: 60_000 });
          expect(spark, `${JSON.stringify(ir)} MG ${policy.maxGroupsPerUnit} R ${policy.maxRowsPerUnit}`).toEqual(kernel);
          if (kernel.some((x) => x !== 0)) nonEmpty++;
        }
        expect(nonEmpty).toBeGreaterThan(0);
      });
    }

    it("keeps hostile names and values out of the statement's text", () => {
      const hostile = "x` FROM t; DROP TABLE y; --";
      const schema = { columns: MIXED_SCHEMA.columns.map((col) => (col.name === "cat" ? { ...col, name: hostile } : col)) };
      const policy = {
        ...MIXED_POLICY,
        dimensions: MIXED_POLICY.dimensions.map((d) => (d.column === "cat" ? { ...d, column: hostile, keys: ["'; --", "b"] } : d)),
      };
      const benignPolicy = { ...MIXED_POLICY, dimensions: MIXED_POLICY.dimensions.map((d) => (d.column === "cat" ? { ...d, keys: ["a", "b"] } : d)) };
      const ir = (column: string, key: string): QueryIR => ({
        datasetId: "ds",
        datasetVersion: 1,
        filters: [{ column, op: "in", values: [key] }],
        groupBy: [column],
        aggregates: [{ kind: "SUM", column: "m1" }],
        epsilon: "1",
      });
      const views = dyadicTable(5, false);
      const sqlOf = (plan: QueryPlan, dictionary: string[]) => {
        const catName = plan.groupDims[0]!.column;
        const bindViews = { ...views, [catName]: { ...views["cat"]!, dictionary } };
        const names = kernelColumns(plan);
        const clustered = clusterColumns(bindViews, "unit", names, 1);
        const bound = bindParams(plan, compileClusteredKernel(plan, kernelShape(names, clustered.views)), clustered.views);
        const position = (name: string) => (name === catName ? 2 : MIXED_SCHEMA.columns.findIndex((col) => col.name === name));
        return boundedSql(plan, bound, position, "/data/v1.parquet");
      };
      const a = sqlOf(planQuery({ ir: ir(hostile, "'; --"), policy, schema, rowCount: ROWS }), ["'; --", "b"]);
      const b = sqlOf(planQuery({ ir: ir("cat", "a"), policy: benignPolicy, schema: MIXED_SCHEMA, rowCount: ROWS }), ["a", "b"]);
      expect(a.sql).toBe(b.sql);
      expect(a.sql).not.toContain("DROP");
      expect(a.sql).not.toContain("'; --");
    });
  });
}
