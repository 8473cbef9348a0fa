/**
 * Ingest benchmark (not part of the tests): `./nodew npm run bench` (or `bench:ingest`).
 *
 * Generates the seeded taxi-trips CSV (BENCH_ROWS rows, default 5 000 000; cached under
 * BENCH_DIR, default the OS temp dir) and, from it with DuckDB, the same table as Parquet and as
 * NDJSON (BENCH_NDJSON_ROWS rows, default 1 000 000, to keep the run bounded). Uploads each to a
 * real exchange (SQLite + files in a temp DATA_DIR; MongoDB + GridFS when BENCH_MONGODB_URI is
 * set) through the streaming HTTP route PUT /datasets/:id/versions while polling the job's
 * progress over GraphQL, then loads the same files with DuckDB (the reference: read_csv /
 * read_parquet into an in-memory table). BENCH_FORMATS=csv,parquet,ndjson picks the uploads;
 * BENCH_CSV=path uploads that CSV instead of the taxi table (the memory figure on narrow rows).
 * Prints key=value lines:
 *
 *   csv_bytes, rows                 the file
 *   ingest_s, ingest_mb_s           upload → committed version, MB = 10^6 bytes
 *   ingest_rows_s
 *   ingest_peak_rss_mb              peak growth of resident memory during the CSV upload
 *                                   (server and client, over ingest_base_rss_mb)
 *   ingest_base_rss_mb              resident memory before the upload started
 *   ingest_first_progress_s         seconds from the PUT to the first progress with bytes > 0
 *   ingest_<fmt>_receive_s          seconds until the job left "receiving" (spooled, for CSV and
 *                                   Parquet), polled every 0.25 s; -1 if never seen
 *   ingest_<fmt>_path               native (DuckDB) or js: which path stored the file
 *   ingest_csv_mb_s, duckdb_csv_mb_s, ingest_csv_ratio            the goals (#20)
 *   ingest_parquet_mb_s, duckdb_parquet_mb_s, ingest_parquet_ratio
 *   ingest_ndjson_mb_s
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
import { startExchange } from "../src/exchange/index.ts";
import { csvStream } from "../seed/csv-table.ts";
import { taxiTrips } from "../seed/generators/taxi-trips.ts";

const ROWS = Number(process.env.BENCH_ROWS ?? 5_000_000);
const NDJSON_ROWS = Math.min(ROWS, Number(process.env.BENCH_NDJSON_ROWS ?? 1_000_000));
const FORMATS = (process.env.BENCH_FORMATS ?? "csv,parquet,ndjson").split(",");
const SEED = 42;
const DIR = process.env.BENCH_DIR ?? tmpdir();
/** BENCH_CSV: upload this CSV instead of the taxi table (e.g. narrow rows, for the memory figure). */
const FILE = process.env.BENCH_CSV ?? join(DIR, `bench-taxi-${ROWS}-seed${SEED}.csv`);
const PARQUET = join(DIR, `bench-taxi-${ROWS}-seed${SEED}.parquet`);
const NDJSON = join(DIR, `bench-taxi-${NDJSON_ROWS}-seed${SEED}.ndjson`);
const sqlPath = (p: string): string => `'${p.replaceAll("'", "''")}'`;

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

/** The same table as Parquet and NDJSON, written by DuckDB from the CSV (in a child, for the same reason). */
async function ensureDerived(): Promise<void> {
  const missing = async (format: string, file: string) => FORMATS.includes(format) && !(await stat(file).catch(() => null));
  if (!(await missing("parquet", PARQUET)) && !(await missing("ndjson", NDJSON))) return;
  const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--derive"], { stdio: "inherit", env: process.env });
  if (child.status !== 0) throw new Error("deriving Parquet/NDJSON failed");
}

async function derive(): Promise<void> {
  const { DuckDBInstance } = await import("@duckdb/node-api");
  const db = await DuckDBInstance.create(":memory:");
  const c = await db.connect();
  if (FORMATS.includes("parquet") && !(await stat(PARQUET).catch(() => null))) {
    log(`writing ${PARQUET} …`);
    await c.run(`COPY (SELECT * FROM read_csv(${sqlPath(FILE)})) TO ${sqlPath(PARQUET + ".tmp")} (FORMAT parquet)`);
    await rename(PARQUET + ".tmp", PARQUET);
  }
  if (FORMATS.includes("ndjson") && !(await stat(NDJSON).catch(() => null))) {
    log(`writing ${NDJSON} …`);
    await c.run(`COPY (SELECT * FROM read_csv(${sqlPath(FILE)}) LIMIT ${NDJSON_ROWS}) TO ${sqlPath(NDJSON + ".tmp")} (FORMAT json)`);
    await rename(NDJSON + ".tmp", NDJSON);
  }
  c.closeSync();
}

const CONTENT_TYPES: Record<string, string> = { csv: "text/csv", parquet: "application/vnd.apache.parquet", ndjson: "application/x-ndjson" };

function put(url: string, token: string, file: string, size: number, format: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: "PUT", headers: { authorization: `Bearer ${token}`, "content-length": String(size), "content-type": CONTENT_TYPES[format]! } },
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

type Exchange = Awaited<ReturnType<typeof startExchange>>;

/** Uploads one file through HTTP; returns MB/s. The CSV upload also reports memory and first progress. */
async function ingest(exchange: Exchange, format: string, file: string, size: number): Promise<number> {
  const { datasets, accounts } = exchange.services;
  const owner = await accounts.createAccount(`bench-${format}@example.com`, "Correct-Horse-42", ["OWNER"]);
  const { secret } = await accounts.createApiKey(owner._id, "bench");
  const ds = await datasets.createDataset(owner._id, { name: `出租车行程 benchmark ${format}` });
  global.gc?.();
  const base = process.memoryUsage().rss;
  let sampled = base;
  const sampler = setInterval(() => (sampled = Math.max(sampled, process.memoryUsage().rss)), 50);
  const datasetGid = Buffer.from(`Dataset:${ds._id}`).toString("base64");
  let firstProgress: number | null = null;
  // When the poll first saw the job past "receiving": the spool's share of the time (±0.25 s).
  let received: number | null = null;
  let lastLog = 0;
  const started = performance.now();
  const progress = setInterval(() => {
    gql(
      exchange.url,
      secret,
      `query ($id: ID!) { dataset(id: $id) { ... on QueryDatasetSuccess { data { uploads(first: 1) { state phase rowsDone bytesDone } } } } }`,
      { id: datasetGid },
    )
      .then((r) => {
        const u = r?.data?.dataset?.data?.uploads?.[0];
        if (!u) return;
        const t = (performance.now() - started) / 1000;
        if (firstProgress === null && u.bytesDone > 0) firstProgress = t;
        if (received === null && u.phase !== "receiving") received = t;
        if (t - lastLog >= 5) {
          lastLog = t;
          log(`${format} progress: ${u.state} ${u.phase} rows=${u.rowsDone} MB=${(u.bytesDone / 1e6).toFixed(0)}`);
        }
      })
      .catch(() => undefined);
  }, 250);
  const res = await put(`${exchange.url}/datasets/${ds._id}/versions?format=${format}`, secret, file, size, format);
  const seconds = (performance.now() - started) / 1000;
  clearInterval(progress);
  clearInterval(sampler);
  if (res.status !== 201) throw new Error(`${format} upload failed: ${res.status} ${JSON.stringify(res.body)}`);
  const job = (await datasets.getUploadJob(Buffer.from(res.body.uploadJobId, "base64").toString().split(":")[1]!))!;
  const version = (await datasets.getVersion(ds._id, 1))!;
  const mbs = size / 1e6 / seconds;
  line(`${format}_bytes`, size);
  line(`${format}_rows`, version.rowCount);
  line(`ingest_${format}_s`, seconds);
  line(`ingest_${format}_mb_s`, mbs);
  line(`ingest_${format}_rows_s`, Math.round(version.rowCount / seconds));
  line(`second_pass_${format}`, job.passes === 2 ? 1 : 0);
  line(`ingest_${format}_path`, job.ingestPath ?? "js");
  line(`ingest_${format}_receive_s`, received ?? -1);
  line(`ingest_${format}_peak_rss_mb`, (sampled - base) / 1e6);
  if (format === "csv") {
    // The keys the benchmark printed before the Parquet and NDJSON uploads existed.
    line("rows", version.rowCount);
    line("chunks", version.chunkCount);
    line("ingest_s", seconds);
    line("ingest_mb_s", mbs);
    line("ingest_peak_rss_mb", (sampled - base) / 1e6);
    line("ingest_base_rss_mb", base / 1e6);
    line("ingest_first_progress_s", firstProgress ?? -1);
    line("second_pass", job.passes === 2 ? 1 : 0);
  }
  return mbs;
}

async function withExchange<T>(run: (exchange: Exchange) => Promise<T>): Promise<T> {
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
    line("store", `${exchange.services.store.kind}+${exchange.services.blobs.kind}`);
    return await run(exchange);
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

/** The reference: DuckDB reading the file into an in-memory table (a fresh instance each time). */
async function duckdb(reader: string, file: string, size: number): Promise<{ mbs: number; rows: number; seconds: number }> {
  const { DuckDBInstance } = await import("@duckdb/node-api");
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  const started = performance.now();
  await connection.run(`CREATE TABLE t AS SELECT * FROM ${reader}(${sqlPath(file)})`);
  const seconds = (performance.now() - started) / 1000;
  const count = await connection.runAndReadAll("SELECT count(*) FROM t");
  connection.closeSync();
  instance.closeSync();
  return { mbs: size / 1e6 / seconds, rows: Number(count.getRows()[0]![0]), seconds };
}

/** csv-parse alone, driven as the old ingest drives it. */
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
  await ensureDerived();
  const files: Record<string, { file: string; size: number; reader: string }> = {
    csv: { file: FILE, size, reader: "read_csv" },
    parquet: { file: PARQUET, size: (await stat(PARQUET).catch(() => ({ size: 0 }))).size, reader: "read_parquet" },
    ndjson: { file: NDJSON, size: (await stat(NDJSON).catch(() => ({ size: 0 }))).size, reader: "read_json" },
  };
  line("load_avg_1m", loadavg()[0]!);
  // Side by side, in this order: the ingest of a file, then DuckDB on the same file, so that load
  // from the other tenants of the machine affects both of a pair alike. CSV goes first, so its
  // memory figure is not raised by what the other uploads left behind.
  await withExchange(async (exchange) => {
    for (const format of FORMATS) {
      const f = files[format]!;
      const mbs = await ingest(exchange, format, f.file, f.size);
      global.gc?.();
      const ref = await duckdb(f.reader, f.file, f.size);
      line(`duckdb_${format}_s`, ref.seconds);
      line(`duckdb_${format}_mb_s`, ref.mbs);
      line(`duckdb_${format}_rows`, ref.rows);
      if (format !== "ndjson") line(`ingest_${format}_ratio`, mbs / ref.mbs);
      if (format === "csv") {
        line("duckdb_ingest_s", ref.seconds);
        line("duckdb_ingest_mb_s", ref.mbs);
      }
      global.gc?.();
    }
  });
  if (process.env.BENCH_CSVPARSE === "1") await csvParseOnly(size);
  line("load_avg_1m_end", loadavg()[0]!);
}

if (process.argv.includes("--generate")) {
  await generate(FILE, ROWS);
} else if (process.argv.includes("--derive")) {
  await derive();
} else if (import.meta.url === `file://${process.argv[1]}`) {
  await runIngestBench();
}
