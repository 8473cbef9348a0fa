/**
 * Worker side: what went wrong with an isolate call, as a code. Job exceptions never get here
 * (the runner catches them inside the isolate); what does is isolated-vm's own failure — a
 * timeout, or the isolate disposed for its memory limit or by our wall deadline. The error
 * itself is dropped: only the code leaves.
 */
import type ivm from "isolated-vm";
import type { SandboxErrorCode } from "./errors.ts";
import { RUN_BAD_RESULT, RUN_NO_FUNCTION, RUN_THREW, RUN_TOO_LARGE } from "./hardening.ts";

export interface IsolateWatch {
  isolate: ivm.Isolate;
  /** Set when our wall deadline disposed the isolate. */
  deadlineHit: boolean;
  /** Set when we disposed it because a sibling failed. */
  aborted: boolean;
}

export function isolateFailure(err: unknown, watch: IsolateWatch): { code: SandboxErrorCode; memory: boolean } {
  if (watch.deadlineHit) return { code: "TIMEOUT", memory: false };
  const message = err instanceof Error ? err.message : "";
  if (watch.isolate.isDisposed && !watch.aborted) {
    // isolated-vm disposes an isolate itself only when it passes its memory limit
    return { code: "MEMORY_LIMIT", memory: true };
  }
  if (/timed out/i.test(message)) return { code: "TIMEOUT", memory: false };
  if (/memory limit/i.test(message)) return { code: "MEMORY_LIMIT", memory: true };
  return { code: "SANDBOX_ERROR", memory: false };
}

/** The code for a failure number returned by a runner (see hardening.ts). */
export function runnerFailure(n: number): SandboxErrorCode {
  switch (n) {
    case RUN_THREW:
      return "KERNEL_THREW";
    case RUN_NO_FUNCTION:
      return "KERNEL_INVALID";
    case RUN_BAD_RESULT:
      return "BAD_RESULT";
    case RUN_TOO_LARGE:
      return "RESULT_TOO_LARGE";
    default:
      return "SANDBOX_ERROR";
  }
}

/** Isolate CPU time so far, in ns; 0 once the isolate is gone. */
export function cpuNs(isolate: ivm.Isolate): number {
  try {
    return isolate.isDisposed ? 0 : Number(isolate.cpuTime);
  } catch {
    return 0;
  }
}

/** Disposes, ignoring "already disposed". */
export function disposeQuietly(isolate: ivm.Isolate): void {
  try {
    if (!isolate.isDisposed) isolate.dispose();
  } catch {
    // already gone
  }
}
