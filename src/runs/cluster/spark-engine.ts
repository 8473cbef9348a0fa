/**
 * The cluster engine: a query's bounded aggregation run on Spark through Spark Connect, over the
 * version's Parquet copy, returning the same per-group totals the in-process kernel returns
 * (bounded-sql.ts). Everything else — quote, budget, noise, thresholds, charge, log, release — is
 * the run path's, engine-blind.
 *
 * At the boundary only per-group aggregates come back; a group index outside the plan's public
 * domain is dropped before anything else sees it, and a group the engine did not return counts
 * zero. Failures (engine unreachable, query failed, deadline) surface as the client's errors,
 * whose messages quote no data.
 */
import type { SparkConnectClient } from "../../../spark-connect/index.ts";
import type { BoundParams, ColumnView, QueryPlan } from "../../queries/index.ts";
import { boundedSql } from "./bounded-sql.ts";
import { ensureParquetCopy } from "./parquet-copy.ts";

export interface ClusterVersion {
  _id: string;
  rowCount: number;
  schema: { columns: ReadonlyArray<{ name: string }> };
}

export interface SparkEngineDeps {
  client: SparkConnectClient;
  /** Where Parquet copies are written (a directory the engine can read under the same path). */
  dataDir: string;
  /** The version's column `index` in file order. */
  readColumn: (version: ClusterVersion, index: number) => Promise<ColumnView>;
}

export class SparkEngine {
  private readonly deps: SparkEngineDeps;
  /** Copies being written: a run and a publish asking at once share one write. */
  private readonly writing = new Map<string, Promise<string>>();

  constructor(deps: SparkEngineDeps) {
    this.deps = deps;
  }

  /** The copy the engine reads: written when its listing is published, or on first use. */
  async prepare(version: ClusterVersion): Promise<string> {
    const inFlight = this.writing.get(version._id);
    if (inFlight) return inFlight;
    const write = ensureParquetCopy(this.deps.dataDir, version, (index) => this.deps.readColumn(version, index)).finally(() =>
      this.writing.delete(version._id),
    );
    this.writing.set(version._id, write);
    return write;
  }

  /** The plan's totals (kernel layout), computed by Spark with the run's bound parameters and seeds. */
  async compute(
    plan: QueryPlan,
    version: ClusterVersion,
    bound: Omit<BoundParams, "partitions" | "partition">,
    options: { timeoutMs?: number } = {},
  ): Promise<number[]> {
    const path = await this.prepare(version);
    const position = (name: string) => {
      const index = version.schema.columns.findIndex((c) => c.name === name);
      if (index < 0) throw new Error(`cluster: column ${JSON.stringify(name)} is not in version ${version._id}`);
      return index;
    };
    const { sql, args, width } = boundedSql(plan, bound, position, path);
    const result = await this.deps.client.sql(sql, args, options);
    const G = plan.groupCount;
    const totals = new Array<number>(G * width).fill(0);
    if (result.columns.length !== width + 1) throw new Error("cluster: the engine's answer has the wrong shape");
    const groups = result.columns[0]!.values;
    for (let row = 0; row < result.rowCount; row++) {
      const g = Number(groups[row]);
      if (!Number.isInteger(g) || g < 0 || g >= G) continue; // outside the public domain: dropped
      for (let k = 0; k < width; k++) totals[g * width + k] = Number(result.columns[k + 1]!.values[row] ?? 0);
    }
    return totals;
  }
}
