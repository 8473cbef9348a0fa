/**
 * A query's kernel job: the plan's columns clustered by unit (columns.ts), the kernel compiled
 * for their shape (compile.ts), the plan's literals bound (bind.ts), and one part per unit
 * partition — its own row range, so each parallel isolate scans only its own units' rows.
 * QueryService.execute() hands the job to the sandbox; tests and the bench run it in-process.
 */
import type { ColumnInput, KernelPart } from "../../sandbox/index.ts";
import type { DatasetVersion } from "../datasets/index.ts";
import {
  type QueryPlan,
  type KernelOutput,
  type KernelProgram,
  compileClusteredKernel,
  kernelColumns,
  kernelShape,
  bindParams,
  mergeTotals,
  runKernelInProcess,
  type BoundParams,
} from "../queries/index.ts";
import type { ClusteredColumns, ColumnLoader } from "./columns.ts";

type Bound = Omit<BoundParams, "partitions" | "partition">;

/**
 * Rows a part should have at least: below this a second isolate costs more (its setup and its
 * cold start, ~20 ms) than the rows it takes off the first, and it halves how many queries the
 * pool runs at once.
 */
export const MIN_ROWS_PER_PART = 500_000;

/** How many unit partitions (parallel parts) a version of `rows` rows is split into, at most `max`. */
export function partitionsFor(rows: number, max: number): number {
  return Math.max(1, Math.min(Math.floor(max), Math.ceil(rows / MIN_ROWS_PER_PART)));
}

/** One part per partition of clustered columns: its row range, and the bound params. */
export function clusteredParts(clustered: ClusteredColumns, bound: Bound): KernelPart[] {
  const { partStarts, partitions } = clustered.layout;
  return Array.from({ length: partitions }, (_, partition) => ({
    rowStart: partStarts[partition]!,
    rowEnd: partStarts[partition + 1]!,
    params: { ...bound, partitions, partition },
  }));
}

/** A clustered kernel's parts run one after another in this process (tests, the bench), merged. */
export function runClusteredInProcess(program: KernelProgram, clustered: ClusteredColumns, bound: Bound): KernelOutput {
  const parts = clusteredParts(clustered, bound).map((p) =>
    runKernelInProcess(program, clustered.views, p.params as BoundParams, p.rowStart, p.rowEnd),
  );
  return { totals: mergeTotals(parts) };
}

/** What QueryService.execute() hands the sandbox's runKernelParallel for a plan. */
export interface QueryKernelJob {
  source: string;
  columns: ColumnInput[];
  columnsKey: string;
  parts: KernelPart[];
  /** Rows the parts scan together (the version's rows whose unit is not null). */
  rows: number;
  /** The compiler's kernels keep no state between calls: the sandbox keeps them warm (sandbox/warm-kernels.ts). */
  reuse: true;
}

/**
 * Loads the plan's columns clustered by unit into row ranges (partitionsFor: at most
 * `maxPartitions`), compiles the kernel for their shape, binds the plan's literals (with a
 * fresh seed), and makes one part per partition.
 */
export async function prepareQueryKernel(
  loader: ColumnLoader,
  plan: QueryPlan,
  version: DatasetVersion & { _id: string },
  maxPartitions: number,
): Promise<QueryKernelJob> {
  const names = kernelColumns(plan);
  const clustered = await loader.loadClustered(version, plan.unitColumn.name, names, partitionsFor(version.rowCount, maxPartitions));
  const program = compileClusteredKernel(plan, kernelShape(names, clustered.views));
  const bound = bindParams(plan, program, clustered.views);
  return {
    source: program.source,
    columns: program.columns.map((n) => ({ values: clustered.views[n]!.values, nulls: clustered.views[n]!.nulls })),
    columnsKey: clustered.key,
    parts: clusteredParts(clustered, bound),
    rows: clustered.rows,
    reuse: true,
  };
}
