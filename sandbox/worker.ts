/**
 * A sandbox worker process (spawned by pool.ts with --no-node-snapshot). It answers one job at a
 * time over IPC, holds a cache of column sets, and never writes job data anywhere: no logging,
 * no error messages out, only codes, JSON strings built inside isolates, and sums.
 */
import type { ColumnsMessage, FailureResponse, WorkerRequest, WorkerResponse } from "./protocol.ts";
import { ColumnCache } from "./column-cache.ts";
import { readTransferFile, removeTransferFile } from "./column-transfer.ts";
import { runKernelJob } from "./kernel-runner.ts";
import { verifyParts } from "./part-copies.ts";
import { runUnitsJob } from "./per-unit-runner.ts";

const cacheBytes = Number(process.env.SANDBOX_CACHE_BYTES ?? 1024 * 1024 * 1024);
const cache = new ColumnCache(Number.isFinite(cacheBytes) && cacheBytes >= 0 ? cacheBytes : 1024 * 1024 * 1024);

function send(message: WorkerResponse | { ready: true }): void {
  process.send?.(message);
}

async function loadColumns(columns: ColumnsMessage): Promise<SharedArrayBuffer[] | null> {
  if (columns.key !== null) {
    const hit = cache.get(columns.key, columns.buffers);
    if (hit !== null) return hit.buffers;
  }
  if (columns.file === null) return null;
  try {
    const buffers = readTransferFile(columns.file, columns.buffers);
    if (columns.key !== null) {
      cache.put(columns.key, {
        specs: columns.buffers,
        buffers,
        bytes: buffers.reduce((n, b) => n + b.byteLength, 0),
      });
    }
    return buffers;
  } finally {
    await removeTransferFile(columns.file);
  }
}

async function handle(req: WorkerRequest): Promise<WorkerResponse> {
  const fail = (code: FailureResponse["code"], recycle = false): WorkerResponse => ({
    id: req.id,
    ok: false,
    code,
    recycle,
    cachedKeys: cache.keys(),
  });
  try {
    if (req.kind === "kernel") {
      const buffers = await loadColumns(req.columns);
      if (buffers === null) return fail("COLUMNS_MISSING");
      const outcome = await runKernelJob(req, buffers, req.columns.key !== null);
      return { ...outcome, id: req.id, cachedKeys: cache.keys() };
    }
    const outcome = await runUnitsJob(req);
    return { ...outcome, id: req.id, cachedKeys: cache.keys() };
  } catch {
    return fail("SANDBOX_ERROR", true);
  }
}

let busy = false;
/** Work between jobs (verifying the kernel parts' copies), which the next job waits for. */
let between: Promise<void> = Promise.resolve();
process.on("message", (message: WorkerRequest) => {
  // the host sends one job at a time; a second one means the host is confused: refuse it
  if (busy) {
    send({ id: message.id, ok: false, code: "SANDBOX_ERROR", recycle: true, cachedKeys: cache.keys() });
    return;
  }
  busy = true;
  void between
    .then(() => handle(message))
    .then((response) => {
      busy = false;
      send(response);
      // Once the answer is on its way (the host holds it until its release moment): the parts'
      // copies are checked against the cached bytes before the next job may use them.
      if (message.kind === "kernel") {
        between = new Promise((resolve) =>
          setImmediate(() => {
            verifyParts();
            resolve();
          }),
        );
      }
    });
});
// the host went away: so do we
process.on("disconnect", () => process.exit(0));
send({ ready: true });
