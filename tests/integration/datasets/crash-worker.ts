/**
 * Child process for the crash test: starts an upload whose body never ends, prints the job id
 * and then keeps streaming until the parent kills it with SIGKILL mid-upload.
 *
 *   node crash-worker.ts '<json {env, ownerId, datasetId}>'
 */
import { loadConfig } from "../../../src/config.ts";
import { openExchange } from "../../../src/exchange/index.ts";

const { env, ownerId, datasetId } = JSON.parse(process.argv[2] ?? "{}") as { env: Record<string, string>; ownerId: string; datasetId: string };
const config = loadConfig(env);
const { services } = await openExchange(config);

// NDJSON: converted while the bytes arrive, so chunks exist mid-upload (a CSV is spooled whole
// first, for the native path, and would write none before its end).
async function* endless(): AsyncGenerator<Uint8Array> {
  for (let i = 0; ; i += 1000) {
    let batch = "";
    for (let k = i; k < i + 1000; k++) batch += `{"id":${k},"district":"浦东新区","fare":${k % 100}.5}\n`;
    yield Buffer.from(batch);
    await new Promise((r) => setImmediate(r));
  }
}

await services.datasets.uploadVersion(ownerId, datasetId, {
  source: endless(),
  format: "ndjson",
  onJob: (job) => process.stdout.write(`job ${job._id}\n`),
});
