/**
 * Worker side: runs owner-approved buyer code `map(rows) → number[d]` once per privacy unit.
 *
 * No state crosses units: every unit gets a fresh context (its own global and intrinsics) on an
 * isolate shared by at most `unitsPerIsolate` units, and the buyer's script is re-run in it, so closures start empty. An isolate
 * whose unit ended abnormally (timeout, memory limit, unhandled rejection) is thrown away before
 * the next unit: a terminated run can leave microtasks or garbage behind that would otherwise
 * bill the next unit. Each unit's rows arrive as a JSON string parsed inside the isolate; its
 * output leaves as a JSON string, is checked and clamped here, and only the running sum leaves.
 *
 * A unit that leaves a heavy heap behind (garbage is only freed when the next unit needs room,
 * and that collection would bill the next unit's time limit) also gets a fresh isolate, so one
 * unit cannot push the next one over its limit.
 *
 * Units share an isolate for at most `unitsPerIsolate` units (each in a fresh context; the
 * prelude removes what reaches isolate-wide state, see hardening.ts and the README's channel
 * table), and the isolate is replaced sooner after any abnormal end or heavy heap.
 *
 * With a deadline, no unit starts unless it can end (its timeout and slack included) before
 * it; the job answers with the units done so far and the host counts the rest as defaults.
 *
 * A unit that outlives its wall deadline has defeated isolated-vm's termination (an unhandled
 * rejection whose `message` and `stack` getters loop does that: isolated-vm reads them untimed).
 * Its thread is lost, and dispose() would block on it; so the job stops there and answers with
 * the sum so far, that unit counted as failed, and asks to be recycled. The host runs the rest.
 */
import ivm from "isolated-vm";
import type { FailureResponse, UnitsRequest, UnitsResponse } from "./protocol.ts";
import { UNIT_PRELUDE, wrapSource } from "./hardening.ts";
import { cpuNs, disposeQuietly, isolateFailure, type IsolateWatch } from "./isolate-failure.ts";
import { clampedVector, vectorOutputCap } from "./vector.ts";
import { onCatastrophicError } from "./catastrophe.ts";
import { UNIT_DEADLINE_SLACK_MS } from "./limits.ts";

type UnitsOutcome = Omit<UnitsResponse, "id" | "cachedKeys"> | Omit<FailureResponse, "id" | "cachedKeys">;

interface Prepared {
  watch: IsolateWatch;
  /** Units run on this isolate so far. */
  used: number;
  prelude: ivm.Script;
  factory: ivm.Script;
}

type UnitResult = { vector: number[] | null; abnormal: boolean; memory: boolean };

export async function runUnitsJob(req: UnitsRequest): Promise<UnitsOutcome> {
  const cap = vectorOutputCap(req.dimension);
  const sum = new Array<number>(req.dimension).fill(0);
  let failures = 0;
  let cpu = 0;
  let recycle = false;
  let prepared: Prepared | null = null;

  const prepare = async (): Promise<Prepared | "invalid"> => {
    const watch: IsolateWatch = {
      isolate: new ivm.Isolate({ memoryLimit: req.memoryLimitMb, onCatastrophicError }),
      deadlineHit: false,
      aborted: false,
    };
    try {
      const prelude = await watch.isolate.compileScript(UNIT_PRELUDE);
      await watch.isolate.compileScript(req.source); // must compile alone, so it cannot close the wrapper
      const factory = await watch.isolate.compileScript(wrapSource(req.source, "map"));
      return { watch, prelude, factory, used: 0 };
    } catch {
      disposeQuietly(watch.isolate);
      return "invalid";
    }
  };
  const retire = (p: Prepared) => {
    cpu += cpuNs(p.watch.isolate);
    disposeQuietly(p.watch.isolate);
  };
  const add = (vector: number[] | null) => {
    if (vector === null) failures++;
    const v = vector ?? req.defaultVector;
    for (let i = 0; i < sum.length; i++) sum[i]! += v[i]!;
  };

  const runUnit = async (p: Prepared, rowsJson: string): Promise<UnitResult> => {
    let context: ivm.Context | null = null;
    let runner: ivm.Reference | null = null;
    let factory: ivm.Reference | null = null;
    try {
      context = await p.watch.isolate.createContext();
      const opts = { reference: true as const, timeout: req.perUnitTimeoutMs };
      runner = await p.prelude.run(context, opts);
      factory = await p.factory.run(context, opts);
      const columnsJson = req.columnsJson ?? undefined;
      const out: unknown = await runner.apply(undefined, [factory.derefInto(), rowsJson, cap, columnsJson], { timeout: req.perUnitTimeoutMs });
      return { vector: typeof out === "string" ? clampedVector(out, req.ranges, req.granularity) : null, abnormal: false, memory: false };
    } catch (err) {
      return { vector: null, abnormal: true, memory: isolateFailure(err, p.watch).memory };
    } finally {
      try {
        runner?.release();
        factory?.release();
        context?.release();
      } catch {
        // the isolate is gone
      }
    }
  };

  const unitSpanMs = req.perUnitTimeoutMs + UNIT_DEADLINE_SLACK_MS;
  for (let u = 0; u < req.units.length; u++) {
    if (req.deadlineAt !== null && Date.now() + unitSpanMs > req.deadlineAt) {
      if (prepared !== null) retire(prepared);
      return { ok: true, kind: "units", sum, failures, processed: u, deadlineReached: true, cpuNs: cpu, recycle };
    }
    if (prepared === null) {
      const p = await prepare();
      if (p === "invalid") return { ok: false, code: "KERNEL_INVALID", recycle };
      prepared = p;
    }
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise<"stalled">((resolve) => {
      timer = setTimeout(() => resolve("stalled"), req.perUnitTimeoutMs + UNIT_DEADLINE_SLACK_MS);
    });
    const result = await Promise.race([runUnit(prepared, req.units[u]!), stalled]);
    clearTimeout(timer);
    if (result === "stalled") {
      add(null);
      return { ok: true, kind: "units", sum, failures, processed: u + 1, cpuNs: cpu, recycle: true };
    }
    if (result.memory) recycle = true;
    prepared.used++;
    if (result.abnormal || prepared.used >= req.unitsPerIsolate || prepared.watch.isolate.isDisposed || leftHeavyHeap(prepared, req.memoryLimitMb)) {
      retire(prepared);
      prepared = null;
    }
    add(result.vector);
  }
  if (prepared !== null) retire(prepared);
  return { ok: true, kind: "units", sum, failures, processed: req.units.length, cpuNs: cpu, recycle };
}

/** More than a quarter of the memory limit still in use after a unit: start the next one clean. */
function leftHeavyHeap(p: Prepared, memoryLimitMb: number): boolean {
  try {
    const h = p.watch.isolate.getHeapStatisticsSync();
    return h.used_heap_size + h.externally_allocated_size > (memoryLimitMb * 1024 * 1024) / 4;
  } catch {
    return true;
  }
}
