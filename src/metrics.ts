/**
 * Prometheus metrics (prom-client) on a registry per running exchange, served at /metrics.
 * Labels are bounded: route patterns and operation names, never ids or raw values.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<"method" | "route" | "status">;
  graphqlDuration: Histogram<"operation" | "type" | "outcome">;
  queryDuration: Histogram<"outcome">;
  /** Analysis runs by how their release went: on the fixed deadline, or late (it overran). */
  analysisReleases: Counter<"release">;
  queryReleases: Counter<"release">;
  /** Query runs by the engine that computed their bounded aggregation: kernel (in-process sandbox) or cluster (Spark). */
  queryEngine: Counter<"engine">;
  /** Operators' exact figures (never shown to buyers): rows scanned and sandbox CPU time of queries. */
  queryRowsScanned: Counter;
  queryCpuSeconds: Counter;
  /** Units whose analysis code failed (threw, timed out, ran out of memory, wrong shape). */
  analysisUnitFailures: Counter;
  /** Units still unfinished at the run's hard end, counted as their defaults: the deadline model is too tight if this grows. */
  analysisUnitsUnfinished: Counter;
  errors: Counter<"code">;
  /** Durable flushes of the document store (group commits: one serves every run waiting). */
  storeFlushes: Counter;
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** `storeFlushes` reads the store's own count when scraped. */
export function createMetrics(storeFlushes: () => number = () => 0): Metrics {
  const registry = new Registry();
  let flushesSeen = 0;
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpDuration: new Histogram({
      name: "exchange_http_request_duration_seconds",
      help: "HTTP request latency by route pattern",
      labelNames: ["method", "route", "status"],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    graphqlDuration: new Histogram({
      name: "exchange_graphql_operation_duration_seconds",
      help: "GraphQL operation latency by operation name",
      labelNames: ["operation", "type", "outcome"],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    queryDuration: new Histogram({
      name: "exchange_query_duration_seconds",
      help: "Aggregate query latency from quote to released answer",
      labelNames: ["outcome"],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    analysisReleases: new Counter({
      name: "exchange_analysis_releases_total",
      help: "Analysis answers released on their fixed deadline (on_time) or after it (late)",
      labelNames: ["release"],
      registers: [registry],
    }),
    queryReleases: new Counter({
      name: "exchange_query_releases_total",
      help: "Query answers released in their slot (on_time), in the larger fallback slot (fallback) or after both (late)",
      labelNames: ["release"],
      registers: [registry],
    }),
    queryEngine: new Counter({
      name: "exchange_query_engine_runs_total",
      help: "Query runs by the engine of their bounded aggregation: kernel (in-process sandbox) or cluster (Spark)",
      labelNames: ["engine"],
      registers: [registry],
    }),
    queryRowsScanned: new Counter({
      name: "exchange_query_rows_scanned_total",
      help: "Rows scanned by query kernels (exact; operators only)",
      registers: [registry],
    }),
    queryCpuSeconds: new Counter({
      name: "exchange_query_sandbox_cpu_seconds_total",
      help: "Sandbox CPU time of query kernels (operators only)",
      registers: [registry],
    }),
    analysisUnitsUnfinished: new Counter({
      name: "exchange_analysis_units_unfinished_total",
      help: "Units not finished by the analysis run's hard end (counted as their default vector)",
      registers: [registry],
    }),
    analysisUnitFailures: new Counter({
      name: "exchange_analysis_unit_failures_total",
      help: "Privacy units whose analysis code failed and contributed the default vector",
      registers: [registry],
    }),
    errors: new Counter({
      name: "exchange_graphql_errors_total",
      help: "GraphQL errors by code",
      labelNames: ["code"],
      registers: [registry],
    }),
    storeFlushes: new Counter({
      name: "exchange_store_flushes_total",
      help: "Durable flushes of the document store (fdatasync of SQLite's WAL, or a journaled MongoDB write), each shared by every run waiting",
      registers: [registry],
      collect() {
        const now = storeFlushes();
        if (now > flushesSeen) this.inc(now - flushesSeen);
        flushesSeen = now;
      },
    }),
  };
}
