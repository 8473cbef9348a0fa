/**
 * Host side of owner-approved buyer code: `map(unitRows) → number[d]` once per privacy unit.
 *
 * Units arrive in batches (an array or an async iterable, so a caller can stream them from
 * storage); each batch is cut into jobs of at most `maxUnitsPerJob` units spread over the pool.
 * Each worker returns only the sum of its units' clamped vectors and a failure count; this
 * function adds them up in input order (a deterministic float sum). Noise is the privacy gate's.
 *
 * One unit must never change another unit's vector or the call's outcome, or the sum's
 * sensitivity bound breaks. A unit that stalls its worker's thread is reported by the worker
 * (sum so far, where it stopped); the rest of the job goes to a fresh worker. A job whose worker
 * dies without a word, or misses the host deadline, is re-run one unit per job: the units that
 * did nothing wrong get their own vectors again, the unit that kills its worker alone gets the
 * default (each unit runs at most twice). No number of crashes fails the call: the only failures
 * after validation are SANDBOX_UNAVAILABLE (no worker process could start, several times in a
 * row: a fault of the machine, not of any unit) and KERNEL_INVALID (the source does not compile).
 *
 * With `deadlineAt`, the call returns by that moment: no unit starts unless it can end before
 * it, and every unit not done by then counts as its default (`unfinished`).
 */
import { SandboxError } from "./errors.ts";
import type { SandboxPool } from "./pool.ts";
import type { UnitsResponse } from "./protocol.ts";
import { UNIT_DEADLINE_SLACK_MS } from "./limits.ts";
import { checkInt, checkSource } from "./checks.ts";
import { isPowerOfTwo, quantize } from "./vector.ts";
import { DeadlineClock } from "./deadline.ts";

export interface PrivacyUnit {
  /** The unit's rows, plain JSON values; the code gets a copy. */
  rows: readonly unknown[];
}

export type UnitBatches = Iterable<readonly PrivacyUnit[]> | AsyncIterable<readonly PrivacyUnit[]>;

export interface PerUnitCall {
  source: string;
  units: UnitBatches;
  /** d, the length of every vector (1–32). */
  outputDim: number;
  /** Declared [lo, hi] per output; outputs are clamped into them. */
  ranges: ReadonlyArray<readonly [number, number]>;
  /** What a failed unit contributes; must lie within the ranges. */
  defaultVector: readonly number[];
  /**
   * Per output, a power of two: each clamped output (and the default) is rounded to a multiple
   * of it, so the returned sum is an exact multiple too (while it stays below 2^53 of them).
   */
  granularity?: readonly number[] | null;
  /** Per unit (default 100 ms). */
  perUnitTimeoutMs?: number;
  /** Per isolate (default 64 MB). */
  memoryLimitMb?: number;
  /** Units per worker job (default 256). */
  maxUnitsPerJob?: number;
  /** Ignored since crashes are absorbed (each costs only its unit's vector); kept so old callers compile. */
  maxCrashes?: number;
  /**
   * Column names, when each row is an array of cells in this order (smaller to ship, and every
   * name — "__proto__" included — becomes an ordinary property). Without it rows are objects.
   * Either way `map` gets null-prototype row objects.
   */
  columns?: readonly string[] | null;
  /**
   * Units that may share one isolate, each in its own fresh context (default 32; 1 = a fresh
   * isolate per unit, ~3× the per-unit cost). See the README for the channels this bounds.
   */
  unitsPerIsolate?: number;
  /**
   * Absolute end time, epoch milliseconds (Date.now() scale): the call returns by then, units not
   * done count as their default vector. Omit for no limit.
   */
  deadlineAt?: number | null;
}

export interface PerUnitResult {
  /** Sum over units of the clamped vectors (the default vector for each failed unit). */
  sum: number[];
  units: number;
  /** Units whose code threw, timed out, ran out of memory, crashed or returned a wrong shape. */
  failures: number;
  /** Units not run because the deadline came (counted as defaults, not in `failures`). For operators only. */
  unfinished: number;
  metering: { rows: number; units: number; cpuMs: number; wallMs: number };
}

interface Partial {
  sum: number[];
  failures: number;
  unfinished: number;
  cpuNs: number;
}

/** Consecutive worker start failures before the call gives up with SANDBOX_UNAVAILABLE. */
const START_ATTEMPTS = 3;
/** Wait before re-offering a job the shared queue refused. */
const QUEUE_RETRY_MS = 20;
/** What the worker keeps back from the call's deadline for the answer to travel home. */
const ANSWER_MARGIN_MS = 50;

export async function runPerUnitCall(pool: SandboxPool, call: PerUnitCall): Promise<PerUnitResult> {
  checkSource(call.source);
  const d = checkInt(call.outputDim, "outputDim", 1, 32);
  if (!Array.isArray(call.ranges) || call.ranges.length !== d) throw new SandboxError("INVALID_REQUEST", `ranges must hold ${d} [lo, hi] pairs`);
  const ranges = call.ranges.map((r, i): [number, number] => {
    if (!Array.isArray(r) || r.length !== 2 || !Number.isFinite(r[0]) || !Number.isFinite(r[1]) || r[0] > r[1]) {
      throw new SandboxError("INVALID_REQUEST", `ranges[${i}] must be [lo, hi] with finite lo ≤ hi`);
    }
    return [r[0], r[1]];
  });
  if (!Array.isArray(call.defaultVector) || call.defaultVector.length !== d)
    throw new SandboxError("INVALID_REQUEST", `defaultVector must hold ${d} numbers`);
  const defaultVector = call.defaultVector.map((v, i) => {
    if (typeof v !== "number" || !(v >= ranges[i]![0] && v <= ranges[i]![1])) {
      throw new SandboxError("INVALID_REQUEST", `defaultVector[${i}] must lie within ranges[${i}]`);
    }
    return v;
  });
  let granularity: number[] | null = null;
  if (call.granularity !== undefined && call.granularity !== null) {
    if (!Array.isArray(call.granularity) || call.granularity.length !== d)
      throw new SandboxError("INVALID_REQUEST", `granularity must hold ${d} numbers`);
    granularity = call.granularity.map((g, i) => {
      if (typeof g !== "number" || !isPowerOfTwo(g)) throw new SandboxError("INVALID_REQUEST", `granularity[${i}] must be a power of two`);
      return g;
    });
  }
  let columns: string[] | null = null;
  if (call.columns !== undefined && call.columns !== null) {
    if (!Array.isArray(call.columns) || call.columns.some((c) => typeof c !== "string") || call.columns.length > 10_000) {
      throw new SandboxError("INVALID_REQUEST", "columns must be a list of column names");
    }
    columns = [...call.columns];
  }
  const columnsJson = columns === null ? null : JSON.stringify(columns);
  const quantizedDefault = defaultVector.map((v, i) => quantize(v, granularity?.[i]));
  const perUnitTimeoutMs = checkInt(call.perUnitTimeoutMs ?? 100, "perUnitTimeoutMs", 1, 60_000);
  const memoryLimitMb = checkInt(call.memoryLimitMb ?? 64, "memoryLimitMb", 8, 4096);
  const maxUnitsPerJob = checkInt(call.maxUnitsPerJob ?? 256, "maxUnitsPerJob", 1, 100_000);
  const unitsPerIsolate = checkInt(call.unitsPerIsolate ?? 32, "unitsPerIsolate", 1, 100_000);
  if (call.deadlineAt !== undefined && call.deadlineAt !== null && !Number.isFinite(call.deadlineAt)) {
    throw new SandboxError("INVALID_REQUEST", "deadlineAt must be epoch milliseconds");
  }
  const clock = new DeadlineClock(call.deadlineAt ?? null);
  const unitSpanMs = perUnitTimeoutMs + UNIT_DEADLINE_SLACK_MS;

  const started = performance.now();
  const defaults = (n: number, unfinished: boolean): Partial => ({
    sum: quantizedDefault.map((v) => v * n),
    failures: unfinished ? 0 : n,
    unfinished: unfinished ? n : 0,
    cpuNs: 0,
  });

  /** Sends one job; crashes and stalls are absorbed here, so it rejects only on faults no unit can cause. */
  const runJob = async (units: string[], startFailures = 0): Promise<Partial> => {
    if (!clock.allows(unitSpanMs)) return defaults(units.length, true);
    try {
      const r = (await pool.run({
        deadlineMs: clock.cap(units.length * (unitSpanMs + 50) + 2000),
        request: async () => ({
          kind: "units",
          source: call.source,
          units,
          dimension: d,
          ranges,
          defaultVector: quantizedDefault,
          granularity,
          perUnitTimeoutMs,
          memoryLimitMb,
          columnsJson,
          unitsPerIsolate,
          deadlineAt: clock.workerDeadline(ANSWER_MARGIN_MS),
        }),
      })) as UnitsResponse;
      const part: Partial = { sum: r.sum, failures: r.failures, unfinished: 0, cpuNs: r.cpuNs };
      if (r.processed < units.length) {
        // the deadline came (the rest are defaults), or a unit stalled its worker (counted in
        // r.failures) and the rest go to a fresh worker
        add(part, r.deadlineReached === true ? defaults(units.length - r.processed, true) : await runJob(units.slice(r.processed)));
      }
      return part;
    } catch (err) {
      if (!(err instanceof SandboxError)) throw err;
      switch (err.code) {
        case "SANDBOX_UNAVAILABLE":
          if (startFailures + 1 >= START_ATTEMPTS) throw err;
          return runJob(units, startFailures + 1);
        case "QUEUE_FULL":
          await clock.sleep(QUEUE_RETRY_MS);
          return runJob(units, startFailures);
        case "SANDBOX_CRASHED":
        case "TIMEOUT":
        case "SANDBOX_ERROR": {
          if (units.length === 1) return defaults(1, false);
          const total = defaults(0, false);
          for (const unit of units) add(total, await runJob([unit]));
          return total;
        }
        default:
          throw err;
      }
    }
  };

  const jobs: Array<{ units: number; done: Partial | null; promise: Promise<Partial> }> = [];
  const inFlight = new Set<Promise<unknown>>();
  let failed = null as { err: unknown } | null;
  let units = 0;
  let rows = 0;
  let batchIndex = 0;
  for await (const batch of call.units) {
    if (failed !== null) break;
    if (!Array.isArray(batch)) throw new SandboxError("INVALID_REQUEST", `units batch ${batchIndex} is not an array`);
    for (let at = 0; at < batch.length; at += maxUnitsPerJob) {
      const chunk = batch.slice(at, at + maxUnitsPerJob);
      chunk.forEach((unit: PrivacyUnit, i: number) => {
        if (unit === null || typeof unit !== "object" || !Array.isArray(unit.rows)) {
          throw new SandboxError("INVALID_REQUEST", `units batch ${batchIndex}, unit ${at + i} has no rows array`);
        }
        rows += unit.rows.length;
      });
      units += chunk.length;
      if (!clock.allows(unitSpanMs)) {
        // past the deadline: the rest only need counting
        jobs.push({ units: chunk.length, done: defaults(chunk.length, true), promise: Promise.resolve(defaults(0, true)) });
        continue;
      }
      const jsons = chunk.map((unit: PrivacyUnit, i: number) => unitJson(unit, columns, `units batch ${batchIndex}, unit ${at + i}`));
      // at most one job per worker in flight: this call never fills the shared queue by itself
      while (inFlight.size >= pool.size && clock.allows(0)) await clock.race(Promise.race(inFlight));
      if (failed !== null) break;
      const job = { units: jsons.length, done: null as Partial | null, promise: runJob(jsons) };
      jobs.push(job);
      const tracked = job.promise.then(
        (p) => {
          job.done = p;
        },
        (err: unknown) => {
          failed ??= { err };
        },
      );
      inFlight.add(tracked);
      void tracked.then(() => inFlight.delete(tracked));
    }
    batchIndex++;
  }
  await clock.race(Promise.all(inFlight));
  if (failed !== null) throw failed.err;
  // in input order; a job still out at the deadline counts as defaults (its worker stops itself)
  const total: Partial = defaults(0, false);
  for (const job of jobs) add(total, job.done ?? defaults(job.units, true));
  return {
    sum: total.sum,
    units,
    failures: total.failures,
    unfinished: total.unfinished,
    metering: { rows, units, cpuMs: total.cpuNs / 1e6, wallMs: performance.now() - started },
  };
}

/** One unit's rows as JSON: objects as given, or arrays of cells when the call names its columns. */
function unitJson(unit: PrivacyUnit, columns: string[] | null, where: string): string {
  if (columns !== null) {
    for (const row of unit.rows) {
      if (!Array.isArray(row) || row.length !== columns.length)
        throw new SandboxError("INVALID_REQUEST", `${where} has a row that is not ${columns.length} cells`);
    }
  }
  try {
    return JSON.stringify(unit.rows);
  } catch {
    throw new SandboxError("INVALID_REQUEST", `${where} rows are not JSON`);
  }
}

function add(into: Partial, part: Partial): void {
  for (let i = 0; i < into.sum.length; i++) into.sum[i]! += part.sum[i]!;
  into.failures += part.failures;
  into.unfinished += part.unfinished;
  into.cpuNs += part.cpuNs;
}
