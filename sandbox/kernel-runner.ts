/**
 * Worker side: runs one kernel job — one isolate per part, all in parallel on isolated-vm's
 * threads, each reading its own copy of the cached columns (part-copies.ts), shared
 * with nothing else. Each isolate gets the memory limit plus the column bytes (isolated-vm counts
 * a shared buffer against every isolate it is copied into), a timeout per call, and a wall deadline.
 *
 * Past the wall deadline the job answers TIMEOUT and asks to be recycled, and only then disposes
 * the isolates: isolated-vm's dispose() can block the calling thread forever when guest code
 * defeats termination (see README), and the host kills a recycled worker anyway.
 */
import ivm from "isolated-vm";
import type { FailureResponse, KernelRequest, KernelResponse } from "./protocol.ts";
import type { SandboxErrorCode } from "./errors.ts";
import { wrapSource } from "./hardening.ts";
import { cpuNs, disposeQuietly, isolateFailure, runnerFailure, type IsolateWatch } from "./isolate-failure.ts";
import { onCatastrophicError } from "./catastrophe.ts";
import { WORKER_DEADLINE_SLACK_MS } from "./limits.ts";
import { dropScratch, partCopies } from "./part-copies.ts";
import { newKernelIsolate, refillSpares, takeSpare } from "./spare-isolates.ts";

type PartOutcome = { ok: true; json: string } | { ok: false; code: SandboxErrorCode; memory: boolean };
type KernelOutcome = Omit<KernelResponse, "id" | "cachedKeys"> | Omit<FailureResponse, "id" | "cachedKeys">;

export async function runKernelJob(req: KernelRequest, buffers: SharedArrayBuffer[]): Promise<KernelOutcome> {
  const sharedBytes = buffers.reduce((n, b) => n + b.byteLength, 0);
  const memoryLimit = req.memoryLimitMb + Math.ceil(sharedBytes / (1024 * 1024));
  const layoutJson = JSON.stringify({
    buffers: req.columns.buffers.map((b) => ({ type: b.type, length: b.length })),
    values: req.columns.values,
    nulls: req.columns.nulls,
  });
  const jobRows = req.parts.reduce((n, p) => Math.max(n, p.rowEnd), 0);
  const watches: IsolateWatch[] = [];
  let cpu = 0;
  let failed = false;

  const abortAll = () => {
    for (const w of watches) {
      if (!w.isolate.isDisposed) {
        w.aborted = true;
        disposeQuietly(w.isolate);
      }
    }
  };

  const runPart = async (part: KernelRequest["parts"][number], partIndex: number): Promise<PartOutcome> => {
    const spare = await takeSpare(memoryLimit);
    const watch: IsolateWatch = {
      isolate: spare?.isolate ?? new ivm.Isolate({ memoryLimit, onCatastrophicError }),
      deadlineHit: false,
      aborted: false,
    };
    watches.push(watch);
    const { isolate } = watch;
    let stage: "setup" | "job" = "setup";
    try {
      const { context, runner } = spare ?? (await newKernelIsolate(memoryLimit, req.timeoutMs, isolate));
      let factoryScript: ivm.Script;
      try {
        await isolate.compileScript(req.source); // must compile alone, so it cannot close the wrapper
        factoryScript = await isolate.compileScript(wrapSource(req.source, "kernel"));
      } catch (err) {
        if (isolate.isDisposed) throw err;
        return { ok: false, code: "KERNEL_INVALID", memory: false };
      }
      const factory = await factoryScript.run(context, { reference: true, timeout: req.timeoutMs });
      const args = [
        factory.derefInto(),
        part.rowStart,
        part.rowEnd,
        new ivm.ExternalCopy(part.params).copyInto({ release: true }),
        req.maxResultChars,
        layoutJson,
        ...partCopies(buffers, req.columns.buffers, part, partIndex, jobRows).map((b) => new ivm.ExternalCopy(b).copyInto({ release: true })),
      ];
      stage = "job";
      const out: unknown = await runner.apply(undefined, args, { timeout: req.timeoutMs });
      if (typeof out === "string") return { ok: true, json: out };
      return { ok: false, code: typeof out === "number" ? runnerFailure(out) : "SANDBOX_ERROR", memory: false };
    } catch (err) {
      const failure = isolateFailure(err, watch);
      // the job call fails on its own only through an unhandled rejection in job code
      if (failure.code === "SANDBOX_ERROR" && stage === "job") return { ok: false, code: "KERNEL_THREW", memory: false };
      return { ok: false, ...failure };
    } finally {
      cpu += cpuNs(isolate);
      disposeQuietly(isolate);
    }
  };

  const all = Promise.all(
    req.parts.map(async (part, partIndex) => {
      const outcome = await runPart(part, partIndex);
      if (!outcome.ok && !failed) {
        failed = true;
        abortAll(); // the job has failed: stop the other parts now rather than at their deadlines
      }
      return outcome;
    }),
  );
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<"deadline">((resolve) => {
    timer = setTimeout(() => resolve("deadline"), req.timeoutMs + WORKER_DEADLINE_SLACK_MS);
  });
  const outcomes = await Promise.race([all, deadline]);
  clearTimeout(timer);
  if (outcomes === "deadline") {
    for (const w of watches) w.deadlineHit = true;
    dropScratch();
    setImmediate(abortAll); // after the answer is on its way: dispose() may block
    return { ok: false, code: "TIMEOUT", recycle: true };
  }
  const recycle = outcomes.some((o) => !o.ok && o.memory);
  if (!outcomes.every((o) => o.ok)) dropScratch();
  if (!recycle) setImmediate(() => refillSpares(memoryLimit, req.parts.length)); // after the answer is on its way
  // the part that failed first was not aborted by us; its siblings were
  const first = outcomes.findIndex((o, i) => !o.ok && !watches[i]!.aborted);
  const failure = outcomes[first >= 0 ? first : outcomes.findIndex((o) => !o.ok)];
  if (failure !== undefined && !failure.ok) return { ok: false, code: failure.code, recycle };
  return { ok: true, kind: "kernel", results: outcomes.map((o) => (o.ok ? o.json : "")), cpuNs: cpu, recycle };
}
