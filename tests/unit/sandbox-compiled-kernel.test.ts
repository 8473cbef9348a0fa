/**
 * The compiler's kernels (src/queries) run in the sandbox exactly as in-process: same calling
 * convention (cols, nulls, start, end, params with typed-array lookup tables), and the compiler's
 * unit-hash partitions as parallel parts over the same shared columns — for the clustered kernel,
 * each part its own row range.
 */
import { afterAll, describe, expect, it } from "vitest";
import { Sandbox } from "../../sandbox/index.ts";
import { planQuery } from "../../src/queries/plan.ts";
import { compileClusteredKernel, kernelColumns, kernelShape } from "../../src/queries/compile.ts";
import { compileKernel } from "../support/legacy-kernel.ts";
import { bindParams, mergeTotals, runKernelInProcess } from "../../src/queries/bind.ts";
import { clusteredParts, runClusteredInProcess } from "../../src/runs/kernel-job.ts";
import { clusterColumns } from "../../src/runs/columns.ts";
import type { ColumnValues } from "../../src/queries/kernel-abi.ts";
import { MIXED_POLICY, MIXED_SCHEMA, TAXI_IR, TAXI_POLICY, TAXI_SCHEMA, mixedTable, taxiTable } from "../support/taxi-fixture.ts";

const sandbox = new Sandbox({ size: 2 });
afterAll(() => sandbox.close());

/** The same numbers over a SharedArrayBuffer (what the sandbox shares with its isolates). */
function toShared<T extends ColumnValues>(a: T): T {
  const out = new (a.constructor as new (b: SharedArrayBuffer) => T)(new SharedArrayBuffer(a.byteLength));
  out.set(a as never);
  return out;
}

const taxi = (rows: number, vehicles: number) => taxiTable(rows, vehicles, 17, { shared: true }).views;
const schema = TAXI_SCHEMA;
const policy = TAXI_POLICY;
const ir = TAXI_IR;

describe("compiled kernels in the sandbox", () => {
  it("give the in-process totals, in one part and in unit-hash partitions run in parallel", async () => {
    const views = taxi(30_000, 400);
    const plan = planQuery({ ir, policy, schema, rowCount: 30_000 });
    const program = compileKernel(plan);
    const bound = bindParams(plan, program, views);
    const expected = runKernelInProcess(program, views, { ...bound, partitions: 1, partition: 0 }).totals;
    const columns = program.columns.map((name) => ({ values: views[name]!.values, nulls: views[name]!.nulls }));

    const one = await sandbox.runKernel({
      source: program.source,
      columns,
      rowStart: 0,
      rowEnd: 30_000,
      params: { ...bound, partitions: 1, partition: 0 },
    });
    expect((one.result as { totals: number[] }).totals).toEqual(expected);

    const P = 3;
    const parts = Array.from({ length: P }, (_, partition) => ({ rowStart: 0, rowEnd: 30_000, params: { ...bound, partitions: P, partition } }));
    const { partials, metering } = await sandbox.runKernelParallel({ source: program.source, columns, columnsKey: "ds_test/v1/taxi", parts });
    const merged = mergeTotals(partials as Array<{ totals: number[] }>);
    merged.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
    expect(metering.rows).toBe(P * 30_000); // each unit partition scans every row
  });

  it("run the clustered kernel's parts in parallel isolates, each over its own rows, to the unclustered kernel's totals", async () => {
    const { views } = mixedTable(40_000, 500, 23, { unitNulls: true });
    const policy = { ...MIXED_POLICY, maxGroupsPerUnit: 2, maxRowsPerUnit: 3 };
    const plan = planQuery({
      ir: {
        datasetId: "ds_test",
        datasetVersion: 1,
        filters: [
          { column: "t", op: "range", lo: 10, hi: 100 },
          { column: "cat", op: "in", values: ["a", "b", "d"] },
        ],
        groupBy: ["cat", "flag"],
        aggregates: [
          { kind: "COUNT_UNITS" },
          { kind: "COUNT_ROWS" },
          { kind: "SUM", column: "m1" },
          { kind: "AVG", column: "m2" },
          { kind: "HISTOGRAM", column: "m1", bins: 5 },
        ],
        epsilon: "0.5",
      },
      policy,
      schema: MIXED_SCHEMA,
      rowCount: 40_000,
    });
    const legacy = compileKernel(plan);
    // No row seed: the first R rows in file order, the legacy oracle's rule.
    const { rowSeed: _firstRows, ...bound } = bindParams(plan, legacy, views);
    const P = 2;
    const expected = mergeTotals(
      Array.from({ length: P }, (_, partition) => runKernelInProcess(legacy, views, { ...bound, partitions: P, partition })),
    );

    const names = kernelColumns(plan);
    const clustered = clusterColumns(views, plan.unitColumn.name, names, P);
    const program = compileClusteredKernel(plan, kernelShape(names, clustered.views));
    expect(runClusteredInProcess(program, clustered, bound).totals).toEqual(expected);
    const shared = program.columns.map((name) => ({
      values: toShared(clustered.views[name]!.values),
      nulls: clustered.views[name]!.nulls && toShared(clustered.views[name]!.nulls!),
    }));
    const parts = clusteredParts(clustered, bound);
    expect(parts.map((p) => [p.rowStart, p.rowEnd])).toEqual([
      [0, clustered.layout.partStarts[1]],
      [clustered.layout.partStarts[1], clustered.rows],
    ]);
    const { partials, metering } = await sandbox.runKernelParallel({ source: program.source, columns: shared, columnsKey: clustered.key, parts });
    expect(mergeTotals(partials as Array<{ totals: number[] }>)).toEqual(expected);
    expect(metering.rows).toBe(clustered.rows); // every row scanned once, by the part that owns its unit
    // Warm (the run path's way): the same kernel again and again in the workers' warm contexts.
    for (let i = 0; i < 3; i++) {
      const warm = await sandbox.runKernelParallel({ source: program.source, columns: shared, columnsKey: clustered.key, parts, reuse: true });
      expect(mergeTotals(warm.partials as Array<{ totals: number[] }>)).toEqual(expected);
    }
    // …and with a row seed per run, each run's totals are the in-process ones for that seed.
    for (const rowSeed of [7, 123_456, -99]) {
      const seeded = { ...bound, rowSeed };
      const warm = await sandbox.runKernelParallel({
        source: program.source,
        columns: shared,
        columnsKey: clustered.key,
        parts: clusteredParts(clustered, seeded),
        reuse: true,
      });
      expect(mergeTotals(warm.partials as Array<{ totals: number[] }>)).toEqual(runClusteredInProcess(program, clustered, seeded).totals);
    }
  });

  it("declare only functions at their top level, so a warm context keeps no value from one run to the next", () => {
    const { views } = mixedTable(2_000, 50, 5, { unitNulls: true });
    const plan = planQuery({
      ir: {
        datasetId: "ds_test",
        datasetVersion: 1,
        filters: [{ column: "cat", op: "in", values: ["a"] }],
        groupBy: ["cat"],
        aggregates: [{ kind: "COUNT_UNITS" }, { kind: "SUM", column: "m1" }, { kind: "HISTOGRAM", column: "m1", bins: 3 }],
        epsilon: "0.5",
      },
      policy: { ...MIXED_POLICY, maxGroupsPerUnit: 2 },
      schema: MIXED_SCHEMA,
      rowCount: 2_000,
    });
    const names = kernelColumns(plan);
    const program = compileClusteredKernel(plan, kernelShape(names, clusterColumns(views, plan.unitColumn.name, names, 2).views));
    // Every statement that starts at column 0 opens a function declaration (or is the strict directive).
    const topLevel = program.source.split("\n").filter((line) => line.length > 0 && !/^[\s}]/.test(line));
    expect(topLevel.length).toBeGreaterThan(5);
    for (const line of topLevel) expect(line).toMatch(/^(function [A-Za-z0-9_]+\(|'use strict';$)/);
  });
});
