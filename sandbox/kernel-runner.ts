/**
 * Worker side: runs one kernel job — one isolate per part, all in parallel on isolated-vm's
 * threads, each reading its own copy of its own rows (part-copies.ts), shared with nothing else.
 *
 * Two kinds of isolate:
 * - `reuse: true` (the query compiler's kernels): the part slot's warm isolate and the source's
 *   warm context (warm-kernels.ts), kept for later jobs unless this one fails;
 * - otherwise: a fresh isolate per part (made ahead, spare-isolates.ts), disposed after it.
 * Each isolate gets the memory limit plus its part's column bytes (isolated-vm counts a shared
 * buffer against every isolate it is copied into), a timeout per call, and a wall deadline.
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
import { discardSlot, forgetAll, sameBuffers, warmMemoryLimit, warmPart } from "./warm-kernels.ts";

type PartOutcome = { ok: true; json: string } | { ok: false; code: SandboxErrorCode; memory: boolean };
type KernelOutcome = Omit<KernelResponse, "id" | "cachedKeys"> | Omit<FailureResponse, "id" | "cachedKeys">;

/**
 * Runs the job's parts over `buffers` (the cached column set, never handed to an isolate);
 * `kept`: the set stays cached, so the parts' copies are kept and verified after the job.
 */
export async function runKernelJob(req: KernelRequest, buffers: SharedArrayBuffer[], kept: boolean): Promise<KernelOutcome> {
  const specs = req.columns.buffers;
  const bitmaps = new Set(req.columns.nulls.filter((i): i is number => i !== null));
  const copiesOf = req.parts.map((part, slot) => partCopies(buffers, specs, bitmaps, part, slot, kept));
  const bytesOf = (copies: SharedArrayBuffer[]) => copies.reduce((n, b) => n + b.byteLength, 0);
  // Fresh isolates share one limit (the largest part's), so spares made for it fit every part.
  const freshLimit = req.memoryLimitMb + Math.ceil(Math.max(0, ...copiesOf.map(bytesOf)) / (1024 * 1024));
  const layoutJson = (part: KernelRequest["parts"][number]) => {
    const rows = part.rowEnd - part.rowStart;
    return JSON.stringify({
      buffers: specs.map((b, i) => ({ type: b.type, length: bitmaps.has(i) ? Math.ceil(rows / 8) : rows })),
      values: req.columns.values,
      nulls: req.columns.nulls,
    });
  };
  const watches: Array<IsolateWatch | undefined> = [];
  let cpu = 0;
  /** The part that failed first (its siblings' failures may be our own aborts). */
  let firstFailure: Extract<PartOutcome, { ok: false }> | null = null;

  const abortAll = () => {
    for (const w of watches) {
      if (w !== undefined && !w.isolate.isDisposed) {
        w.aborted = true;
        disposeQuietly(w.isolate);
      }
    }
  };

  const runWarm = async (part: KernelRequest["parts"][number], slot: number): Promise<PartOutcome> => {
    const copies = copiesOf[slot]!;
    const warm = await warmPart(slot, warmMemoryLimit(req.memoryLimitMb, bytesOf(copies)), req.source);
    if (warm === "KERNEL_INVALID") return { ok: false, code: "KERNEL_INVALID", memory: false };
    const { isolate, context } = warm;
    const watch: IsolateWatch = { isolate, deadlineHit: false, aborted: false };
    watches[slot] = watch;
    const cpuBefore = cpuNs(isolate);
    try {
      // the context's views are kept while its part's copies stay the same (hardening.ts)
      const same = sameBuffers(context.buffers, copies);
      const args = [
        context.factory?.derefInto(),
        0,
        part.rowEnd - part.rowStart,
        new ivm.ExternalCopy(part.params).copyInto({ release: true }),
        req.maxResultChars,
        same ? null : layoutJson(part),
        ...(same ? [] : copies.map((b) => new ivm.ExternalCopy(b).copyInto({ release: true }))),
      ];
      context.buffers = copies;
      const out: unknown = await context.runner.apply(undefined, args, { timeout: req.timeoutMs });
      context.factory?.release();
      context.factory = null;
      if (typeof out === "string") return { ok: true, json: out };
      return { ok: false, code: typeof out === "number" ? runnerFailure(out) : "SANDBOX_ERROR", memory: false };
    } catch (err) {
      const failure = isolateFailure(err, watch);
      // the call fails on its own only through an unhandled rejection in job code
      return failure.code === "SANDBOX_ERROR" ? { ok: false, code: "KERNEL_THREW", memory: false } : { ok: false, ...failure };
    } finally {
      cpu += Math.max(0, cpuNs(isolate) - cpuBefore);
    }
  };

  const runFresh = async (part: KernelRequest["parts"][number], slot: number): Promise<PartOutcome> => {
    const spare = await takeSpare(freshLimit);
    const watch: IsolateWatch = {
      isolate: spare?.isolate ?? new ivm.Isolate({ memoryLimit: freshLimit, onCatastrophicError }),
      deadlineHit: false,
      aborted: false,
    };
    watches[slot] = watch;
    const { isolate } = watch;
    let stage: "setup" | "job" = "setup";
    try {
      const { context, runner } = spare ?? (await newKernelIsolate(freshLimit, req.timeoutMs, isolate));
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
        0,
        part.rowEnd - part.rowStart,
        new ivm.ExternalCopy(part.params).copyInto({ release: true }),
        req.maxResultChars,
        layoutJson(part),
        ...copiesOf[slot]!.map((b) => new ivm.ExternalCopy(b).copyInto({ release: true })),
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
    req.parts.map(async (part, slot) => {
      const outcome = await (req.reuse ? runWarm : runFresh)(part, slot);
      if (!outcome.ok && firstFailure === null) {
        firstFailure = outcome;
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
    for (const w of watches) if (w !== undefined) w.deadlineHit = true;
    dropScratch();
    const warm = forgetAll();
    setImmediate(() => {
      abortAll(); // after the answer is on its way: dispose() may block
      for (const isolate of warm) disposeQuietly(isolate);
    });
    return { ok: false, code: "TIMEOUT", recycle: true };
  }
  const recycle = outcomes.some((o) => !o.ok && o.memory);
  if (!outcomes.every((o) => o.ok)) {
    dropScratch();
    // no isolate of a failed job is used again
    if (req.reuse) req.parts.forEach((_, slot) => discardSlot(slot));
  }
  if (!recycle && !req.reuse) setImmediate(() => refillSpares(freshLimit, req.parts.length)); // after the answer is on its way
  const failure = firstFailure as Extract<PartOutcome, { ok: false }> | null;
  if (failure !== null) return { ok: false, code: failure.code, recycle };
  return { ok: true, kind: "kernel", results: outcomes.map((o) => (o.ok ? o.json : "")), cpuNs: cpu, recycle };
}
