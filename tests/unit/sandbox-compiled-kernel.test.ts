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
import { TAXI_IR, TAXI_POLICY, TAXI_SCHEMA, taxiTable } from "../support/taxi-fixture.ts";

const sandbox = new Sandbox({ size: 2 });
afterAll(() => sandbox.close());

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
