/**
 * Ingest benchmark (not part of the tests): `./nodew npm run bench` (or `bench:ingest`).
 *
 * Generates the seeded taxi-trips CSV (BENCH_ROWS rows, default 10 000 000; cached under
 * BENCH_DIR, default the OS temp dir), uploads it to a real exchange (SQLite + files in a temp
 * DATA_DIR; MongoDB + GridFS when BENCH_MONGODB_URI is set) through the streaming HTTP route
 * PUT /datasets/:id/versions while polling the job's progress over GraphQL, then loads the same
 * file with DuckDB's read_csv. Prints key=value lines:
 *
 *   csv_bytes, rows                 the file
 *   ingest_s, ingest_mb_s           upload → committed version, MB = 10^6 bytes
 *   ingest_rows_s
 *   ingest_peak_rss_mb              peak resident memory of this process during the ingest
 *                                   (server and client; the file is generated in a child)
 *   ingest_base_rss_mb              resident memory before the upload started
 *   second_pass                     1 if a type widened and the file was converted twice
 *   duckdb_ingest_s, duckdb_ingest_mb_s   CREATE TABLE … AS SELECT * FROM read_csv(file)
 *   csvparse_only_mb_s              csv-parse alone over the file (same options, records
 *                                   discarded): the ceiling of the CSV path
 *   load_avg_1m, cpus               how busy the machine was (numbers on a shared box vary)
 */
import { spawnSync } from "node:child_process";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rename, rm, stat } from "node:fs/promises";
import { request } from "node:http";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../src/config.ts";
import { createLogger } from "../src/logger.ts";
import { startExchange } from "../src/server.ts";
import { csvStream } from "../seed/csv-table.ts";
import { taxiTrips } from "../seed/generators/taxi-trips.ts";

const ROWS = Number(process.env.BENCH_ROWS ?? 10_000_000);
const SEED = 42;
const DIR = process.env.BENCH_DIR ?? tmpdir();
const FILE = join(DIR, `bench-taxi-${ROWS}-seed${SEED}.csv`);

const line = (key: string, value: number | string) =>
  console.log(`${key}=${typeof value === "number" ? (Number.isInteger(value) ? value : value.toFixed(value < 10 ? 3 : 1)) : value}`);
const log = (msg: string) => process.stderr.write(`[bench:ingest] ${msg}\n`);

async function generate(file: string, rows: number): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await pipeline(csvStream(taxiTrips({ rows, seed: SEED })), createWriteStream(tmp));
  await rename(tmp, file);
}

/** The CSV, generated once (in a child process, so this process's peak memory is the ingest's). */
async function ensureFile(): Promise<number> {
  const existing = await stat(FILE).catch(() => null);
  if (existing) return existing.size;
  log(`generating ${ROWS} taxi rows into ${FILE} …`);
  const started = performance.now();
  const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--generate"], { stdio: "inherit", env: process.env });
  if (child.status !== 0) throw new Error("generation failed");
  line("generate_s", (performance.now() - started) / 1000);
  return (await stat(FILE)).size;
}

function put(url: string, token: string, file: string, size: number): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: "PUT", headers: { authorization: `Bearer ${token}`, "content-length": String(size), "content-type": "text/csv" } },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      },
    );
    req.on("error", reject);
    createReadStream(file, { highWaterMark: 1 << 20 }).pipe(req);
  });
}

async function gql(url: string, token: string, query: string, variables: Record<string, unknown>): Promise<any> {
  const res = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return res.json();
}

async function ingest(size: number): Promise<void> {
  const dataDir = await mkdtemp(join(DIR, "bench-ingest-"));
  const mongo = process.env.BENCH_MONGODB_URI;
  const config = loadConfig({
    NODE_ENV: "test",
    PORT: "0",
    DATA_DIR: dataDir,
    SEED_DEMO: "false",
    LOG_LEVEL: "warn",
    UPLOAD_MAX_BYTES: String(64 * 1024 ** 3),
    ...(mongo ? { MONGODB_URI: mongo, MONGODB_DB: `bench_${process.pid}` } : {}),
  });
  const exchange = await startExchange(config, createLogger(config.logLevel));
  try {
    const { datasets, accounts } = exchange.services;
    const owner = await accounts.createAccount("bench@example.com", "Correct-Horse-42", ["OWNER"]);
    const { secret } = await accounts.createApiKey(owner._id, "bench");
    const ds = await datasets.createDataset(owner._id, { name: "出租车行程 benchmark" });
    global.gc?.();
    const base = process.memoryUsage().rss;
    let sampled = base;
    const sampler = setInterval(() => (sampled = Math.max(sampled, process.memoryUsage().rss)), 50);
    const datasetGid = Buffer.from(`Dataset:${ds._id}`).toString("base64");
    const progress = setInterval(() => {
      gql(
        exchange.url,
        secret,
        `query ($id: ID!) { dataset(id: $id) { ... on QueryDatasetSuccess { data { uploads(first: 1) { state phase rowsDone bytesDone } } } } }`,
        { id: datasetGid },
      )
        .then((r) => {
          const u = r?.data?.dataset?.data?.uploads?.[0];
          if (u) log(`progress: ${u.state} ${u.phase} rows=${u.rowsDone} MB=${(u.bytesDone / 1e6).toFixed(0)}`);
        })
        .catch(() => undefined);
    }, 5000);
    const started = performance.now();
    const res = await put(`${exchange.url}/datasets/${ds._id}/versions?format=csv`, secret, FILE, size);
    const seconds = (performance.now() - started) / 1000;
    clearInterval(progress);
    clearInterval(sampler);
    const maxRss = process.resourceUsage().maxRSS * 1024;
    if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${JSON.stringify(res.body)}`);
    const job = (await datasets.getUploadJob(Buffer.from(res.body.uploadJobId, "base64").toString().split(":")[1]!))!;
    const version = (await datasets.getVersion(ds._id, 1))!;
    line("csv_bytes", size);
    line("rows", version.rowCount);
    line("chunks", version.chunkCount);
    line("ingest_s", seconds);
    line("ingest_mb_s", size / 1e6 / seconds);
    line("ingest_rows_s", Math.round(version.rowCount / seconds));
    line("ingest_peak_rss_mb", Math.max(maxRss, sampled) / 1e6);
    line("ingest_base_rss_mb", base / 1e6);
    line("second_pass", job.passes === 2 ? 1 : 0);
    line("store", `${exchange.services.store.kind}+${exchange.services.blobs.kind}`);
  } finally {
    exchange.services.datasets.stopSweeping();
    await exchange.close();
    if (mongo) {
      const { MongoClient } = await import("mongodb");
      const c = new MongoClient(mongo);
      await c
        .db(`bench_${process.pid}`)
        .dropDatabase()
        .catch(() => undefined);
      await c.close();
    }
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function duckdb(size: number): Promise<void> {
  const { DuckDBInstance } = await import("@duckdb/node-api");
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  const started = performance.now();
  await connection.run(`CREATE TABLE trips AS SELECT * FROM read_csv('${FILE.replaceAll("'", "''")}')`);
  const seconds = (performance.now() - started) / 1000;
  const count = await connection.runAndReadAll("SELECT count(*) FROM trips");
  line("duckdb_rows", Number(count.getRows()[0]![0]));
  line("duckdb_ingest_s", seconds);
  line("duckdb_ingest_mb_s", size / 1e6 / seconds);
  connection.closeSync();
}

/** csv-parse alone, driven as the ingest drives it: the ceiling of the CSV path. */
async function csvParseOnly(size: number): Promise<void> {
  const { Parser } = await import("csv-parse");
  const core = (
    new Parser({ delimiter: ",", quote: '"', escape: '"', relax_column_count: true, max_record_size: 1 << 20 }) as unknown as {
      api: { parse(b: Buffer | undefined, end: boolean, push: (r: string[]) => void, close: () => void): Error | undefined };
    }
  ).api;
  let records = 0;
  const push = (): void => {
    records++;
  };
  const started = performance.now();
  for await (const buf of createReadStream(FILE, { highWaterMark: 256 * 1024 })) core.parse(buf as Buffer, false, push, () => {});
  core.parse(undefined, true, push, () => {});
  const seconds = (performance.now() - started) / 1000;
  line("csvparse_only_records", records);
  line("csvparse_only_mb_s", size / 1e6 / seconds);
}

export async function runIngestBench(): Promise<void> {
  line("cpus", availableParallelism());
  const size = await ensureFile();
  line("load_avg_1m", loadavg()[0]!);
  await ingest(size);
  await duckdb(size);
  await csvParseOnly(size);
  line("load_avg_1m_end", loadavg()[0]!);
}

if (process.argv.includes("--generate")) {
  await generate(FILE, ROWS);
} else if (import.meta.url === `file://${process.argv[1]}`) {
  await runIngestBench();
}
