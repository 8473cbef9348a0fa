/**
 * Profiling aid (not part of the tests): on the 10 000-row bench dataset,
 *   small_kernel_inprocess_ms   the compiled kernel alone, in this process (warm)
 *   small_kernel_job_ms         the same kernel job through a sandbox of its own (what the run
 *                               path's compute step pays: IPC, isolate, compile, run), median
 *   small_kernel_job_p99_ms     its 99th percentile
 *   small_kernel_jobs_qps       kernel jobs per second with 8 callers at once (2 workers)
 *   profile_e2e_median_ms       N (200) distinct small queries one after another over HTTP
 *   profile_e2e_p99_ms / _max_ms (with QUERY_RELEASE_BASE_MS=0 QUERY_RELEASE_MS_PER_1000_ROWS=0:
 *                               the compute a 10k slot must cover),
 * for `node --cpu-prof bench/profile-small.ts` (PROFILE_QUERIES=0 skips the HTTP part).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Sandbox } from "../sandbox/index.ts";
import { ColumnLoader } from "../src/runs/columns.ts";
import { prepareQueryKernel, runClusteredInProcess } from "../src/runs/kernel-job.ts";
import { bindParams, compileClusteredKernel, kernelColumns, kernelShape } from "../src/queries/index.ts";
import { benchPlan, csvFile, line, market, median, percentile, releaseCounts, runQuery } from "./query.ts";

const N = Number(process.env.PROFILE_QUERIES ?? 200);
const JOBS = Number(process.env.PROFILE_JOBS ?? 400);
const dataDir = await mkdtemp(join(tmpdir(), "bench-profile-"));
// QUERY_RELEASE_* from the environment (e.g. 0: the e2e figures then show compute alone, which is
// what the release slot must cover).
const release = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith("QUERY_RELEASE_"))) as Record<string, string>;
const m = await market(dataDir, await csvFile(10_000), 10_000, 1, { DATA_DIR: dataDir, ...release });
try {
  const { version, plan } = await benchPlan(m);
  const loader = new ColumnLoader(m.ex.services.datasets);
  const names = kernelColumns(plan);
  const clustered = await loader.loadClustered(version, plan.unitColumn.name, names, 1);
  const program = compileClusteredKernel(plan, kernelShape(names, clustered.views));
  const bound = bindParams(plan, program, clustered.views);
  const inProcess: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t = performance.now();
    runClusteredInProcess(program, clustered, bound);
    inProcess.push(performance.now() - t);
  }
  line("small_kernel_inprocess_ms", median(inProcess.slice(100)));

  const sandbox = new Sandbox({ size: 2 });
  try {
    await sandbox.warm();
    // A fresh seed per job, as the service binds one per run.
    const job = () => prepareQueryKernel(loader, plan, version, 2).then((j) => sandbox.runKernelParallel(j));
    for (let i = 0; i < 20; i++) await job();
    const alone: number[] = [];
    for (let i = 0; i < JOBS; i++) {
      const t = performance.now();
      await job();
      alone.push(performance.now() - t);
    }
    line("small_kernel_job_ms", median(alone));
    line("small_kernel_job_p99_ms", percentile(alone, 99));
    let done = 0;
    const t = performance.now();
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (done < JOBS) {
          done++;
          await job();
        }
      }),
    );
    line("small_kernel_jobs_qps", (done / (performance.now() - t)) * 1000);
  } finally {
    await sandbox.close();
  }

  if (N > 0) {
    for (let i = 0; i < 5; i++) await runQuery(m, m.buyerKeys[0]!);
    const times: number[] = [];
    for (let i = 0; i < N; i++) times.push(await runQuery(m, m.buyerKeys[0]!));
    line("profile_queries", N);
    line("profile_e2e_median_ms", median(times));
    line("profile_e2e_p99_ms", percentile(times, 99));
    line("profile_e2e_max_ms", Math.max(...times));
    // How the runs met their release slot, from the service's metrics.
    for (const [k, v] of Object.entries(await releaseCounts(m))) line(`profile_release_${k}`, v);
  }
} finally {
  await m.ex.close();
  await rm(dataDir, { recursive: true, force: true });
}
