/**
 * Which engine computes a query's bounded aggregation, and the cluster engine's compute step.
 * The choice is a function of public facts only — the listing's declared size against the
 * operator's threshold — so it, and the release slot that comes with it, says nothing about the
 * rows. Both engines take the same plan and the same bound parameters and seeds (bind.ts) and
 * return the same totals (tests/integration/spark-connect/bounded-engines.test.ts); quotes,
 * budgets, noise, thresholds, charges and the log stay in the run path, engine-blind.
 */
import { kernelColumns, bindParams, type ColumnView, type KernelProgram, type QueryPlan } from "../queries/index.ts";
import type { DatasetsService, DatasetVersion } from "../datasets/index.ts";
import { SparkConnectError } from "../../spark-connect/index.ts";
import type { SparkEngine } from "./cluster/spark-engine.ts";
import { EngineUnavailable } from "./errors.ts";
import type { ReleaseModel } from "./release-slot.ts";

export type QueryEngineName = "kernel" | "cluster";

export interface ClusterEngineConfig {
  engine: SparkEngine;
  /** Listings whose declared public size reaches this many rows run on the cluster. */
  minRows: number;
  release: ReleaseModel;
}

/** The engine for a listing: the cluster when configured and the declared size reaches its threshold; never from the real size. */
export function engineFor(publicRows: number | null, cluster: ClusterEngineConfig | null | undefined): QueryEngineName {
  return cluster && publicRows !== null && publicRows >= cluster.minRows ? "cluster" : "kernel";
}

/**
 * The cluster engine's compute step: binds the plan against the version's dictionaries only (the
 * engine reads the values from the Parquet copy), with fresh seeds, and runs it on Spark, stopped
 * at `timeoutMs`.
 */
export async function computeOnCluster(
  cluster: ClusterEngineConfig,
  datasets: DatasetsService,
  plan: QueryPlan,
  version: DatasetVersion & { _id: string },
  timeoutMs: number,
): Promise<number[]> {
  const names = kernelColumns(plan);
  const views: Record<string, ColumnView> = {};
  for (const name of names) {
    const index = version.schema.columns.findIndex((c) => c.name === name);
    const dictionary = index >= 0 && version.schema.columns[index]!.type === "string" ? [...(await datasets.readDictionary(version, index))] : null;
    views[name] = { values: new Int32Array(0), nulls: null, dictionary };
  }
  const program: KernelProgram = { source: "", columns: names, groupWidth: 0, groupCount: plan.groupCount };
  const bound = bindParams(plan, program, views);
  try {
    return await cluster.engine.compute(plan, version, bound, { timeoutMs });
  } catch (e) {
    if (e instanceof SparkConnectError) throw new EngineUnavailable();
    throw e;
  }
}
