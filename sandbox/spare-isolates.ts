/**
 * Worker side: kernel isolates made ahead. Each kernel part still gets a fresh isolate, used for
 * that part only and disposed after it (nothing carries over between parts or jobs), but its
 * creation — isolate, context, hardened prelude, ~3–4 ms — happens between jobs instead of on
 * the job's path. Spares are made for the memory limit the last job needed; a job needing another
 * limit makes its own as before.
 */
import ivm from "isolated-vm";
import { KERNEL_PRELUDE } from "./hardening.ts";
import { onCatastrophicError } from "./catastrophe.ts";
import { disposeQuietly } from "./isolate-failure.ts";

export interface KernelIsolate {
  isolate: ivm.Isolate;
  context: ivm.Context;
  runner: ivm.Reference;
}

/** At most this many spares are kept (one per part of a typical parallel job, plus one). */
const MAX_SPARES = 4;
/** The prelude's own time limit when made ahead (it does no job work). */
const PRELUDE_TIMEOUT_MS = 2_000;

const spares: Array<{ memoryLimit: number; ready: Promise<KernelIsolate | null> }> = [];

/** A fresh isolate with the kernel prelude, context and runner ready. */
export async function newKernelIsolate(
  memoryLimit: number,
  timeoutMs: number,
  isolate = new ivm.Isolate({ memoryLimit, onCatastrophicError }),
): Promise<KernelIsolate> {
  const context = await isolate.createContext();
  const runner = await (await isolate.compileScript(KERNEL_PRELUDE)).run(context, { reference: true, timeout: timeoutMs });
  return { isolate, context, runner };
}

/** A spare made for `memoryLimit`, or null (then the caller makes one on the spot). */
export async function takeSpare(memoryLimit: number): Promise<KernelIsolate | null> {
  const i = spares.findIndex((s) => s.memoryLimit === memoryLimit);
  if (i < 0) return null;
  const [spare] = spares.splice(i, 1);
  const ready = await spare!.ready;
  if (ready === null || ready.isolate.isDisposed) return null;
  return ready;
}

/** Makes spares for `memoryLimit` up to `count` (after a job: the next one likely needs the same). */
export function refillSpares(memoryLimit: number, count: number): void {
  for (const s of spares.filter((x) => x.memoryLimit !== memoryLimit)) void s.ready.then((k) => k && disposeQuietly(k.isolate));
  const kept = spares.filter((x) => x.memoryLimit === memoryLimit);
  spares.length = 0;
  spares.push(...kept);
  while (spares.length < Math.min(count, MAX_SPARES)) {
    const isolate = new ivm.Isolate({ memoryLimit, onCatastrophicError });
    const ready = newKernelIsolate(memoryLimit, PRELUDE_TIMEOUT_MS, isolate).catch(() => {
      disposeQuietly(isolate);
      return null;
    });
    spares.push({ memoryLimit, ready });
  }
}
