/**
 * Profiling aid (not part of the tests): runs N (200) distinct small queries one after another on
 * the 10 000-row bench dataset, for `node --cpu-prof bench/profile-small.ts`, and prints the
 * median time of each run step seen in the API process.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { csvFile, line, market, median, runQuery } from "./query.ts";

const N = Number(process.env.PROFILE_QUERIES ?? 200);
const dataDir = await mkdtemp(join(tmpdir(), "bench-profile-"));
const m = await market(dataDir, await csvFile(10_000), 10_000, 1, { DATA_DIR: dataDir });
try {
  for (let i = 0; i < 5; i++) await runQuery(m, m.buyerKeys[0]!);
  const times: number[] = [];
  for (let i = 0; i < N; i++) times.push(await runQuery(m, m.buyerKeys[0]!));
  line("profile_queries", N);
  line("profile_e2e_median_ms", median(times));
} finally {
  await m.ex.close();
  await rm(dataDir, { recursive: true, force: true });
}
