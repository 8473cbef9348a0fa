/**
 * `npm run bench`: every benchmark that is not part of the tests, one after another, printing
 * key=value lines. BENCH_ROWS scales them down for a quick try (e.g. BENCH_ROWS=200000).
 * Add a benchmark by exporting a run function from its file and listing it here.
 */
import { runIngestBench } from "./ingest.ts";
import { runQueryBench } from "./query.ts";
import { runAccuracyBench } from "./accuracy.ts";
import { runSmallBench } from "./small.ts";

const BENCHES: Array<[name: string, run: () => Promise<void>]> = [
  ["ingest", runIngestBench],
  ["query", runQueryBench],
  ["small", runSmallBench],
  ["accuracy", runAccuracyBench],
];

const only = process.argv[2];
for (const [name, run] of BENCHES) {
  if (only && only !== name) continue;
  console.log(`# ${name}`);
  await run();
}
