/**
 * Sandbox benchmark (not part of the tests): `./nodew npm run bench:sandbox`.
 *
 * Prints key=value lines, medians over repeated runs:
 *   share_240mb_ms / copy_240mb_ms      a 240 MB column into an isolate: shared vs copied
 *   transfer_cold_ms / transfer_warm_ms  a 120 MB column set to a worker: first job vs cached
 *   kernel_inprocess_ms                  10M-row group-by (Int32 codes, Float64 values), bare loop
 *   kernel_sandbox_ms                    the same through the sandbox, one isolate (warm cache)
 *   kernel_sandbox_parallel_ms           the same, one isolate per core
 *   kernel_ratio / kernel_parallel_ratio sandbox ÷ in-process
 *   unit_*_us                            per-unit overhead of buyer code, per strategy
 *   recycle_ms                           spawn-to-ready of a replacement worker
 *   units_10k_ms                         10,000 units of buyer code through a pool of one worker per core
 *   per_unit_overhead_us                 the same, per unit and per core (wall × cores ÷ units)
 *   per_unit_overhead_fresh_isolate_us   the same with unitsPerIsolate 1 (2,000 units)
 * BENCH_ONLY=units runs only the last three (the per-unit isolation figures, ~10 s).
 */
import ivm from "isolated-vm";
import { availableParallelism } from "node:os";
import { Sandbox } from "../sandbox/index.ts";
import { UNIT_PRELUDE, wrapSource } from "../sandbox/hardening.ts";

const ROWS = Number(process.env.BENCH_ROWS ?? 10_000_000);
const GROUPS = 64;
const REPEAT = Number(process.env.BENCH_REPEAT ?? 7);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const line = (key: string, value: number) => console.log(`${key}=${value.toFixed(value < 10 ? 3 : 1)}`);

async function timeIt(fn: () => Promise<unknown> | unknown, n = REPEAT): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return median(times);
}

const KERNEL = `function kernel(cols, nulls, start, end, params) {
  const codes = cols[0], values = cols[1];
  const sum = new Float64Array(params.groups), count = new Float64Array(params.groups);
  for (let i = start; i < end; i++) { const g = codes[i]; sum[g] += values[i]; count[g] += 1; }
  return { sum: Array.from(sum), count: Array.from(count) };
}`;

function columns(rows: number) {
  const codes = new Int32Array(new SharedArrayBuffer(rows * 4));
  const values = new Float64Array(new SharedArrayBuffer(rows * 8));
  let s = 12345;
  for (let i = 0; i < rows; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    codes[i] = s % GROUPS;
    values[i] = (s >>> 8) / 1000;
  }
  return { codes, values };
}

async function shareVersusCopy() {
  const bytes = 240 * 1024 * 1024;
  const sab = new SharedArrayBuffer(bytes);
  const ab = new ArrayBuffer(bytes);
  const into = async (value: SharedArrayBuffer | ArrayBuffer) => {
    const isolate = new ivm.Isolate({ memoryLimit: 64 + 2 * 240 });
    const context = await isolate.createContext();
    const t = performance.now();
    await context.global.set("data", new ivm.ExternalCopy(value).copyInto({ release: true }));
    const ms = performance.now() - t;
    isolate.dispose();
    return ms;
  };
  const share: number[] = [];
  const copy: number[] = [];
  for (let i = 0; i < 3; i++) {
    share.push(await into(sab));
    copy.push(await into(ab));
  }
  line("share_240mb_ms", median(share));
  line("copy_240mb_ms", median(copy));
}

async function kernels() {
  const { codes, values } = columns(ROWS);
  const cols = [{ values: codes }, { values: values }];
  // bare: the same source, compiled in this process, over plain (non-shared) copies
  const bare = new Function(`${KERNEL}\nreturn kernel;`)() as (...a: unknown[]) => unknown;
  const plainCodes = codes.slice();
  const plainValues = values.slice();
  const inProcess = await timeIt(() => bare([plainCodes, plainValues], [null, null], 0, ROWS, { groups: GROUPS }));

  const sandbox = new Sandbox();
  try {
    await sandbox.warm();
    const job = { source: KERNEL, columns: cols, columnsKey: `bench/${ROWS}`, params: { groups: GROUPS } };
    let t = performance.now();
    await sandbox.runKernel({ ...job, rowStart: 0, rowEnd: ROWS });
    line("transfer_cold_ms", performance.now() - t);
    t = performance.now();
    await sandbox.runKernel({ ...job, rowStart: 0, rowEnd: 0 });
    line("transfer_warm_ms", performance.now() - t);
    const cpu: number[] = [];
    const single = await timeIt(async () => {
      const r = await sandbox.runKernel({ ...job, rowStart: 0, rowEnd: ROWS });
      cpu.push(r.metering.cpuMs);
    });
    // make sure every worker holds the columns before timing the parallel run
    await Promise.all(Array.from({ length: sandbox.pool.size }, () => sandbox.runKernel({ ...job, rowStart: 0, rowEnd: 0 })));
    const parallel = await timeIt(() => sandbox.runKernelParallel({ ...job, partitions: availableParallelism() }));
    line("rows", ROWS);
    line("kernel_inprocess_ms", inProcess);
    line("kernel_sandbox_ms", single);
    line("kernel_sandbox_cpu_ms", median(cpu));
    line("kernel_sandbox_parallel_ms", parallel);
    line("kernel_ratio", single / inProcess);
    line("kernel_parallel_ratio", parallel / inProcess);
  } finally {
    await sandbox.close();
  }
}

/** Per-unit overhead: the chosen strategy through the pool, and three strategies measured raw. */
async function perUnit() {
  const UNITS = 2000;
  const source = "function map(rows) { let s = 0; for (const r of rows) s += r.v; return [rows.length, s]; }";
  const units = Array.from({ length: UNITS }, (_, i) => ({ rows: [{ v: i % 7 }, { v: 1 }] }));
  const sandbox = new Sandbox();
  try {
    await sandbox.warm();
    const call = {
      source,
      units: [units],
      outputDim: 2,
      ranges: [
        [0, 10],
        [0, 100],
      ] as Array<[number, number]>,
      defaultVector: [0, 0],
    };
    await sandbox.runPerUnit(call);
    const ms = await timeIt(() => sandbox.runPerUnit(call), 3);
    line("unit_pool_us", (ms * 1000) / UNITS);
  } finally {
    await sandbox.close();
  }

  const rowsJson = units.map((u) => JSON.stringify(u.rows));
  const N = 300;
  const freshContext = async (isolate: ivm.Isolate, prelude: ivm.Script, factory: ivm.Script, json: string) => {
    const context = await isolate.createContext();
    const runner = await prelude.run(context, { reference: true, timeout: 100 });
    const f = await factory.run(context, { reference: true, timeout: 100 });
    await runner.apply(undefined, [f.derefInto(), json, 2000], { timeout: 100 });
    runner.release();
    f.release();
    context.release();
  };
  // 1. a fresh isolate per unit
  let t = performance.now();
  for (let i = 0; i < N; i++) {
    const isolate = new ivm.Isolate({ memoryLimit: 64 });
    const prelude = await isolate.compileScript(UNIT_PRELUDE);
    const factory = await isolate.compileScript(wrapSource(source, "map"));
    await freshContext(isolate, prelude, factory, rowsJson[i]!);
    isolate.dispose();
  }
  line("unit_fresh_isolate_us", ((performance.now() - t) * 1000) / N);
  // 2. a fresh context per unit on one isolate (the sandbox's choice)
  const isolate = new ivm.Isolate({ memoryLimit: 64 });
  const prelude = await isolate.compileScript(UNIT_PRELUDE);
  const factory = await isolate.compileScript(wrapSource(source, "map"));
  t = performance.now();
  for (let i = 0; i < N; i++) await freshContext(isolate, prelude, factory, rowsJson[i]!);
  line("unit_fresh_context_us", ((performance.now() - t) * 1000) / N);
  // 3. one hardened context reused for every unit (unsafe: state can cross units; baseline only)
  const context = await isolate.createContext();
  const runner = await prelude.run(context, { reference: true });
  const f = await factory.run(context, { reference: true });
  t = performance.now();
  for (let i = 0; i < N; i++) await runner.apply(undefined, [f.derefInto(), rowsJson[i]!, 2000], { timeout: 100 });
  line("unit_shared_context_us", ((performance.now() - t) * 1000) / N);
  isolate.dispose();
}

async function recycle() {
  const sandbox = new Sandbox({ size: 1, maxJobsPerWorker: 1 });
  const times: number[] = [];
  try {
    for (let i = 0; i < 5; i++) {
      await sandbox.runKernel({ source: "function kernel() { return 1; }", columns: [], rowStart: 0, rowEnd: 0 });
      times.push(sandbox.stats().lastSpawnMs ?? NaN);
    }
  } finally {
    await sandbox.close();
  }
  line("recycle_ms", median(times));
}

/** The figures issue #15 asks for: 10k units, all isolation measures on, one worker per core. */
async function perUnitOverhead() {
  const cores = availableParallelism();
  const source = "function map(rows) { let s = 0; for (const r of rows) s += r.v; return [rows.length, s]; }";
  const sandbox = new Sandbox({ size: cores });
  try {
    await sandbox.warm();
    const run = async (count: number, unitsPerIsolate: number) => {
      const units = Array.from({ length: count }, (_, i) => ({ rows: [{ v: i % 7 }, { v: 1 }] }));
      const call = {
        source,
        outputDim: 2,
        ranges: [
          [0, 10],
          [0, 100],
        ] as Array<[number, number]>,
        defaultVector: [0, 0],
        unitsPerIsolate,
      };
      await sandbox.runPerUnit({ ...call, units: [units.slice(0, 200)] }); // warm every worker
      const t = performance.now();
      await sandbox.runPerUnit({ ...call, units: [units] });
      return performance.now() - t;
    };
    const ms = await run(10_000, 32);
    line("units_10k_ms", ms);
    line("per_unit_overhead_us", (ms * 1000 * cores) / 10_000);
    line("per_unit_overhead_fresh_isolate_us", ((await run(2000, 1)) * 1000 * cores) / 2000);
  } finally {
    await sandbox.close();
  }
}

if (process.env.BENCH_ONLY !== "units") {
  await shareVersusCopy();
  await kernels();
  await perUnit();
  await recycle();
}
await perUnitOverhead();
