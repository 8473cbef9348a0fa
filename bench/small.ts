/**
 * Small-query benchmark (not part of the tests): `./nodew npm run bench small`.
 *
 * On the seeded 10 000-row taxi dataset, per store (SQLite, then the MongoDB-wire server at
 * MONGODB_URI when set, keys prefixed `mongo_`), distinct uncached runs, each really debited,
 * charged and logged:
 *   small_e2e_ms / small_duckdb_ms / small_ratio_vs_duckdb   one query alone, median of REPEATS
 *   clients50_qps / _p50_ms / _p99_ms    LAT_CLIENTS (50) clients for LAT_SECONDS (10)
 *   clients50_flushes_per_run            durable store flushes per run during that load (group
 *                                        commit: below 1 when concurrent runs share a flush)
 *   clients50_rss_mb                     the API process's peak RSS during that load (the
 *                                        sandbox workers are separate processes, not counted)
 *   cached_p50_ms / cached_p99_ms        the same query again (answered from the cache)
 *   quote_p50_ms / quote_p99_ms          quoteQuery
 *   release_slot_ms                      the release slot those queries used
 *   consistent=1|0                       ledger reconciliation (balanced, meter, holds) after the load
 */
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { DEFAULT_QUERY_RELEASE, releaseAfterMs } from "../src/runs/release-slot.ts";
import { loadConfig } from "../src/config.ts";
import { csvFile, line, log, market, median, percentile, QUERY, runQuery, type Market } from "./query.ts";

const ROWS = 10_000;
const REPEATS = Number(process.env.BENCH_REPEATS ?? 15);
const CLIENTS = Number(process.env.LAT_CLIENTS ?? 50);
const SECONDS = Number(process.env.LAT_SECONDS ?? 10);
const SAMPLES = 200;

const QUOTE = `query ($input: QueryInput!) { quoteQuery(input: $input) { __typename ... on QueryQuoteQuerySuccess { data { cached datasetVersion } } } }`;

async function quote(m: Market, key: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${m.ex.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({
      query: QUOTE,
      variables: {
        input: {
          listingId: m.listingGid,
          filters: [{ column: "hour", gte: 7, lt: 10 }],
          groupBy: QUERY.groupBy,
          aggregates: QUERY.aggregates,
          epsilon: "0.5",
        },
      },
    }),
  });
  const body = (await res.json()) as { data?: { quoteQuery: { __typename: string } } };
  if (body.data?.quoteQuery.__typename !== "QueryQuoteQuerySuccess") throw new Error(`quoteQuery failed: ${JSON.stringify(body).slice(0, 300)}`);
  return performance.now() - started;
}

async function duckdbMs(file: string): Promise<number> {
  const duck = await DuckDBInstance.create(":memory:", { threads: String(availableParallelism()) });
  const conn = await duck.connect();
  await conn.run(`CREATE TABLE t AS SELECT * FROM read_csv('${file.replaceAll("'", "''")}')`);
  const sql = `SELECT pickup_district, count(*), sum(fare_yuan), avg(distance_km) FROM t WHERE hour BETWEEN 7 AND 9 GROUP BY pickup_district`;
  await conn.runAndReadAll(sql);
  const times: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const t = performance.now();
    await conn.runAndReadAll(sql);
    times.push(performance.now() - t);
  }
  conn.closeSync();
  return median(times);
}

/** Durable flushes of the store so far (its group commits; one per run when runs come alone). */
async function storeFlushes(m: Market): Promise<number> {
  const metric = m.ex.services.metrics.registry.getSingleMetric("exchange_store_flushes_total");
  return metric ? ((await metric.get()).values[0]?.value ?? 0) : 0;
}

async function storeRun(prefix: string, file: string, duckdb: number, env: Record<string, string>): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), "bench-small-"));
  const m = await market(dataDir, file, ROWS, CLIENTS, { ...env, DATA_DIR: dataDir });
  const key = (k: string) => `${prefix}${k}`;
  try {
    for (const k of m.buyerKeys.slice(0, 2)) await runQuery(m, k); // warm the sandbox
    const alone: number[] = [];
    for (let i = 0; i < REPEATS; i++) alone.push(await runQuery(m, m.buyerKeys[0]!));
    line(key("small_e2e_ms"), median(alone));
    line(key("small_ratio_vs_duckdb"), median(alone) / duckdb);

    const flushesBefore = await storeFlushes(m);
    const latencies: number[] = [];
    let rss = process.memoryUsage().rss;
    const sampler = setInterval(() => (rss = Math.max(rss, process.memoryUsage().rss)), 100);
    const deadline = performance.now() + SECONDS * 1000;
    const started = performance.now();
    await Promise.all(
      m.buyerKeys.map(async (k) => {
        while (performance.now() < deadline) latencies.push(await runQuery(m, k));
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    line(key("clients50_clients"), CLIENTS);
    line(key("clients50_requests"), latencies.length);
    line(key("clients50_qps"), latencies.length / seconds);
    line(key("clients50_p50_ms"), percentile(latencies, 50));
    line(key("clients50_p99_ms"), percentile(latencies, 99));
    line(key("clients50_rss_mb"), Math.round(rss / (1024 * 1024)));
    line(key("clients50_flushes_per_run"), ((await storeFlushes(m)) - flushesBefore) / latencies.length);

    const report = await m.ex.services.billing.reconcile();
    const consistent = report.balanced && report.meter.agrees && report.holds.agrees && report.holds.open === 0;
    line(key("consistent"), consistent ? 1 : 0);
    if (!consistent) log(`reconciliation: ${JSON.stringify({ balanced: report.balanced, meter: report.meter, holds: report.holds })}`);

    const cached: number[] = [];
    await runQuery(m, m.buyerKeys[0]!, "0.5");
    for (let i = 0; i < SAMPLES; i++) cached.push(await runQuery(m, m.buyerKeys[0]!, "0.5"));
    line(key("cached_p50_ms"), percentile(cached, 50));
    line(key("cached_p99_ms"), percentile(cached, 99));
    const quotes: number[] = [];
    for (let i = 0; i < SAMPLES; i++) quotes.push(await quote(m, m.buyerKeys[1]!));
    line(key("quote_p50_ms"), percentile(quotes, 50));
    line(key("quote_p99_ms"), percentile(quotes, 99));
  } finally {
    await m.ex.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

export async function runSmallBench(): Promise<void> {
  const file = await csvFile(ROWS);
  const duckdb = await duckdbMs(file);
  line("small_rows", ROWS);
  line("small_duckdb_ms", duckdb);
  // The slot the service computes for the bench's declared size bucket (UP_TO_10K: 10 000 rows).
  line("release_slot_ms", releaseAfterMs(ROWS, { ...DEFAULT_QUERY_RELEASE, ...loadConfig({ NODE_ENV: "test" } as NodeJS.ProcessEnv).queryRelease }));
  await storeRun("", file, duckdb, {});
  const uri = process.env.MONGODB_URI;
  if (uri) await storeRun("mongo_", file, duckdb, { MONGODB_URI: uri, MONGODB_DB: `bench_small_${process.pid}` });
  else log("MONGODB_URI unset: no MongoDB-wire run");
}

if (import.meta.main) await runSmallBench();
