/**
 * Query benchmark (not part of the tests): `./nodew npm run bench query`.
 *
 * Generates the seeded taxi-trips CSV (BENCH_ROWS rows, default 10 000 000, cached under
 * BENCH_DIR), ingests it into a real exchange (SQLite + files in a temp DATA_DIR), and times the
 * same group-by — per pickup district: COUNT, SUM(fare), AVG(distance) where hour in 7–9 —
 * three ways in one run, warm, median of BENCH_REPEATS (default 7):
 *   e2e_ms      the full service path: HTTP GraphQL runQuery → plan → ε debit → sandbox kernel
 *               (one isolate per partition) → noise → charge → audit. Each run asks a distinct ε
 *               so none is answered from the cache.
 *   kernel_ms   the same compiled kernel, in-process, over the same columns clustered by vehicle
 *               (the service's layout: one row range per partition), its parts one after another
 *               on one core.
 *   sandbox_ms  that kernel through the sandbox alone (one isolate per partition, in parallel),
 *               jobs back to back; sandbox_spaced_ms the same with 150 ms between jobs (as the
 *               release wait leaves the worker between queries, when it verifies the parts' copies).
 *   duckdb_ms   DuckDB (all cores) over the same CSV loaded into a table.
 *   ratio_vs_duckdb = e2e_ms / duckdb_ms; kernel_ratio_vs_duckdb = kernel_ms / duckdb_ms.
 *   release_slot_ms the slot of the bench's declared size; e2e_release_on_time / _fallback / _late
 *               how the e2e runs (warm-up included) met it.
 * Small queries (10 000 rows, one and 50 clients, both stores) are bench/small.ts.
 * Our kernel does more than DuckDB's: it keeps per-vehicle cells to bound each vehicle's
 * contribution before noise (DuckDB's plain group-by does not); plain_groupby_ms shows the
 * bare loop without that (over the same clustered columns, one core), for reference.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rename, rm, stat } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import { DuckDBInstance } from "@duckdb/node-api";
import { loadConfig } from "../src/config.ts";
import { createLogger } from "../src/logger.ts";
import { startExchange, type RunningExchange } from "../src/exchange/index.ts";
import { csvStream } from "../seed/csv-table.ts";
import { taxiTrips } from "../seed/generators/taxi-trips.ts";
import { SHANGHAI_DISTRICTS } from "../seed/generators/districts.ts";
import { planQuery } from "../src/queries/plan.ts";
import { compileClusteredKernel, kernelColumns, kernelShape } from "../src/queries/compile.ts";
import { bindParams } from "../src/queries/bind.ts";
import { partitionsFor, prepareQueryKernel, runClusteredInProcess } from "../src/runs/kernel-job.ts";
import { ColumnLoader } from "../src/runs/columns.ts";
import { Sandbox } from "../sandbox/index.ts";
import { SIZE_BUCKET_NAMES, SIZE_BUCKETS } from "../src/privacy/policy/index.ts";
import { DEFAULT_QUERY_RELEASE, releaseAfterMs } from "../src/runs/release-slot.ts";

const ROWS = Number(process.env.BENCH_ROWS ?? 10_000_000);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 7);
const DIR = process.env.BENCH_DIR ?? tmpdir();
const DISTRICTS = SHANGHAI_DISTRICTS.map(([name]) => name);

export const line = (key: string, value: number | string) =>
  console.log(`${key}=${typeof value === "number" ? (Number.isInteger(value) ? value : value.toFixed(value < 10 ? 3 : 1)) : value}`);
export const log = (msg: string) => process.stderr.write(`[bench:query] ${msg}\n`);
export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
export const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;

export async function csvFile(rows: number): Promise<string> {
  const file = join(DIR, `bench-taxi-${rows}-seed42.csv`);
  if (await stat(file).catch(() => null)) return file;
  log(`generating ${rows} taxi rows into ${file} …`);
  const tmp = `${file}.${process.pid}.tmp`;
  await pipeline(csvStream(taxiTrips({ rows, seed: 42 })), createWriteStream(tmp));
  await rename(tmp, file);
  return file;
}

const POLICY = {
  privacyUnit: "vehicle_id",
  dimensions: [
    { column: "pickup_district", keys: DISTRICTS },
    { column: "hour", edges: [0, 7, 10, 24] },
  ],
  measures: [
    { column: "fare_yuan", lo: 0, hi: 500 },
    { column: "distance_km", lo: 0, hi: 100 },
  ],
  aggregates: ["COUNT_UNITS", "COUNT_ROWS", "SUM", "AVG"] as Array<"COUNT_UNITS" | "COUNT_ROWS" | "SUM" | "AVG">,
  epsilonPerQuery: 1,
  buyerEpsilonBudget: 1000,
  datasetEpsilonBudget: 1000,
  maxRowsPerUnit: 1000,
};

export const QUERY = {
  filters: [{ column: "hour", op: "range" as const, lo: 7, hi: 10 }],
  groupBy: ["pickup_district"],
  aggregates: [{ kind: "COUNT_ROWS" as const }, { kind: "SUM" as const, column: "fare_yuan" }, { kind: "AVG" as const, column: "distance_km" }],
};

export const RUN = `mutation ($input: RunQueryInput!) { runQuery(input: $input) { __typename ... on MutationRunQuerySuccess { data { cached groups { key { value } values { value } } } } ... on DomainError { code message } } }`;

export interface Market {
  ex: RunningExchange;
  listingGid: string;
  buyerKeys: string[];
  datasetVersionId: string;
}

export async function market(dataDir: string, file: string, rows: number, buyers: number, env: Record<string, string> = {}): Promise<Market> {
  const config = loadConfig({
    NODE_ENV: "test",
    PORT: "0",
    DATA_DIR: dataDir,
    SEED_DEMO: "false",
    LOG_LEVEL: "silent",
    RATE_LIMIT_CAPACITY: "100000000",
    RATE_LIMIT_PER_SECOND: "100000000",
    ...env,
  });
  const ex = await startExchange(config, createLogger("silent"));
  const s = ex.services;
  const owner = await s.accounts.createAccount("owner@bench.test", "Correct-Horse-42", ["OWNER"]);
  const admin = await s.accounts.createAccount("admin@bench.test", "Correct-Horse-42", ["ADMIN"]);
  const ds = await s.datasets.createDataset(owner._id, { name: "taxi" });
  const started = performance.now();
  await s.datasets.uploadVersion(owner._id, ds._id, { source: createReadStream(file) as unknown as Readable, format: "csv", filename: "taxi.csv" });
  log(`ingested ${file} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  // The owner publishes the size bucket, so the release slot is fixed from it (not the assumed size).
  const bucket = SIZE_BUCKET_NAMES.find((b) => SIZE_BUCKETS[b] >= rows)!;
  await s.policies.declare(owner._id, { datasetId: ds._id, ...POLICY, publicFacts: { size: { bucket } } });
  const listing = await s.catalog.createListing(owner._id, {
    datasetId: ds._id,
    title: { zh: "出租车", en: "Taxi" },
    description: { zh: "基准", en: "bench" },
    category: "TRANSPORT",
    licence: "CC BY 4.0",
    permittedUse: "bench",
    pricePlan: { perQueryFee: 1, pricePerEpsilon: 0 },
    instantAccess: true,
  });
  await s.catalog.publish(owner._id, listing._id, false);
  const buyerKeys: string[] = [];
  for (let b = 0; b < buyers; b++) {
    const buyer = await s.accounts.createAccount(`buyer${b}@bench.test`, "Correct-Horse-42", ["BUYER"]);
    await s.access.request(buyer._id, { listingId: listing._id, purpose: "performance benchmark of the query path" });
    await s.billing.grantCredit(admin._id, buyer._id, { amount: 100_000_000, idempotencyKey: `bench-${b}` });
    buyerKeys.push((await s.accounts.createApiKey(buyer._id, "bench")).secret);
  }
  return { ex, listingGid: Buffer.from(`Listing:${listing._id}`).toString("base64"), buyerKeys, datasetVersionId: `${ds._id}@1` };
}

let epsilonCounter = 0;
/** A distinct ε per call (0.100001, 0.100002, …) so no answer comes from the cache. */
const nextEpsilon = () => (0.1 + ++epsilonCounter / 1e6).toFixed(6);

export async function runQuery(m: Market, key: string, epsilon = nextEpsilon()): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${m.ex.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({
      query: RUN,
      variables: {
        input: {
          query: {
            listingId: m.listingGid,
            filters: [{ column: "hour", gte: 7, lt: 10 }],
            groupBy: QUERY.groupBy,
            aggregates: QUERY.aggregates,
            epsilon,
          },
        },
      },
    }),
  });
  const body = (await res.json()) as { data?: { runQuery: { __typename: string; message?: string } } };
  const r = body.data?.runQuery;
  if (r?.__typename !== "MutationRunQuerySuccess") throw new Error(`runQuery failed: ${JSON.stringify(body).slice(0, 300)}`);
  return performance.now() - started;
}

/** How the market's runs so far met their release slot (the service's metrics). */
export async function releaseCounts(m: Market): Promise<Record<"on_time" | "fallback" | "late", number>> {
  const metrics = await (await fetch(`${m.ex.url}/metrics`)).text();
  const count = (release: string) => Number(new RegExp(`exchange_query_releases_total\\{release="${release}"\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
  return { on_time: count("on_time"), fallback: count("fallback"), late: count("late") };
}

/** The bench query's plan over the market's version, as the service plans it. */
export async function benchPlan(m: Market) {
  const version = (await m.ex.services.datasets.getVersion(m.datasetVersionId.split("@")[0]!, 1))!;
  const plan = planQuery({
    ir: { datasetId: version.datasetId, datasetVersion: 1, ...QUERY, epsilon: "0.5" },
    policy: {
      ...POLICY,
      minGroupSize: 10,
      maxGroupsPerUnit: 1,
      dimensions: POLICY.dimensions.map((d) => ({ keys: null, edges: null, dateEdges: null, ...d })),
    },
    schema: version.schema,
    rowCount: version.rowCount,
  });
  return { version, plan };
}

async function largeRun(file: string): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), "bench-query-"));
  // QUERY_RELEASE_* from the environment try other release models (e.g. 0 to see compute alone).
  const release = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith("QUERY_RELEASE_"))) as Record<string, string>;
  const m = await market(dataDir, file, ROWS, 1, release);
  try {
    // (a) the full service path, warm (first run loads columns into the sandbox workers).
    await runQuery(m, m.buyerKeys[0]!);
    const e2e: number[] = [];
    for (let i = 0; i < REPEATS; i++) e2e.push(await runQuery(m, m.buyerKeys[0]!));
    const releases = await releaseCounts(m);
    // (b) the bare kernel in-process over the same data, clustered as the service clusters it.
    const { version, plan } = await benchPlan(m);
    const partitions = partitionsFor(version.rowCount, 2); // as the service splits it (at most one part per core here)
    const names = kernelColumns(plan);
    const loader = new ColumnLoader(m.ex.services.datasets, 2 * 1024 * 1024 * 1024);
    const clustered = await loader.loadClustered(version, plan.unitColumn.name, names, partitions);
    const program = compileClusteredKernel(plan, kernelShape(names, clustered.views));
    const bound = bindParams(plan, program, clustered.views);
    runClusteredInProcess(program, clustered, bound);
    const kernel: number[] = [];
    for (let i = 0; i < REPEATS; i++) {
      const t = performance.now();
      runClusteredInProcess(program, clustered, bound);
      kernel.push(performance.now() - t);
    }
    // The same kernel through the sandbox alone: its own pool, columns transferred once.
    const sandbox = new Sandbox({ size: 1 });
    const sandboxed: number[] = [];
    const spaced: number[] = [];
    try {
      const job = await prepareQueryKernel(loader, plan, version, partitions);
      await sandbox.runKernelParallel(job);
      for (let i = 0; i < REPEATS; i++) {
        const t = performance.now();
        await sandbox.runKernelParallel(job);
        sandboxed.push(performance.now() - t);
      }
      // Each job after a pause, as the run path's release wait leaves the worker between queries
      // (it verifies the parts' copies then).
      for (let i = 0; i < REPEATS; i++) {
        await new Promise((resolve) => setTimeout(resolve, 150));
        const t = performance.now();
        await sandbox.runKernelParallel(job);
        spaced.push(performance.now() - t);
      }
    } finally {
      await sandbox.close();
    }
    const views = clustered.views;
    // Reference: the plain group-by loop with no per-unit bounding.
    const hour = views.hour!.values,
      district = views.pickup_district!.values as Int32Array;
    const fare = views.fare_yuan!.values,
      dist = views.distance_km!.values;
    const plainGroupBy = () => {
      const n = new Float64Array(64),
        f = new Float64Array(64),
        d = new Float64Array(64);
      for (let i = 0; i < hour.length; i++) {
        const h = hour[i]!;
        if (h < 7 || h >= 10) continue;
        const g = district[i]!;
        n[g]! += 1;
        f[g]! += fare[i]!;
        d[g]! += dist[i]!;
      }
      return n;
    };
    plainGroupBy();
    const plain: number[] = [];
    for (let i = 0; i < REPEATS; i++) {
      const t = performance.now();
      plainGroupBy();
      plain.push(performance.now() - t);
    }
    // (c) DuckDB, all cores, same CSV.
    const duck = await DuckDBInstance.create(":memory:", { threads: String(availableParallelism()) });
    const conn = await duck.connect();
    await conn.run(`CREATE TABLE t AS SELECT * FROM read_csv('${file.replaceAll("'", "''")}')`);
    const sql = `SELECT pickup_district, count(*), sum(fare_yuan), avg(distance_km) FROM t WHERE hour BETWEEN 7 AND 9 GROUP BY pickup_district`;
    await conn.runAndReadAll(sql);
    const duckdb: number[] = [];
    for (let i = 0; i < REPEATS; i++) {
      const t = performance.now();
      await conn.runAndReadAll(sql);
      duckdb.push(performance.now() - t);
    }
    conn.closeSync();
    line("rows", ROWS);
    line("e2e_ms", median(e2e));
    line("kernel_ms", median(kernel));
    line("sandbox_ms", median(sandboxed));
    line("sandbox_spaced_ms", median(spaced));
    line("plain_groupby_ms", median(plain));
    line("duckdb_ms", median(duckdb));
    line("ratio_vs_duckdb", median(e2e) / median(duckdb));
    line(
      "release_slot_ms",
      releaseAfterMs(ROWS, { ...DEFAULT_QUERY_RELEASE, ...loadConfig({ NODE_ENV: "test", ...release } as NodeJS.ProcessEnv).queryRelease }),
    );
    for (const [k, v] of Object.entries(releases)) line(`e2e_release_${k}`, v);
    line("kernel_ratio_vs_duckdb", median(kernel) / median(duckdb));
  } finally {
    await m.ex.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

export async function runQueryBench(): Promise<void> {
  line("load_avg_1m", loadavg()[0]!);
  line("cpus", availableParallelism());
  await largeRun(await csvFile(ROWS));
}

if (import.meta.main) await runQueryBench();
