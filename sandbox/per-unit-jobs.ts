/**
 * Host side of owner-approved buyer code: `map(unitRows) → number[d]` once per privacy unit.
 *
 * Units arrive in batches (an array or an async iterable, so a caller can stream them from
 * storage); each batch is cut into jobs of at most `maxUnitsPerJob` units spread over the pool.
 * Each worker returns only the sum of its units' clamped vectors and a failure count; this
 * function adds them up in input order (a deterministic float sum). Noise is the privacy gate's.
 *
 * One unit must never change another unit's vector, or the sum's sensitivity bound breaks. A
 * unit that stalls its worker's thread is reported by the worker (sum so far, where it stopped);
 * the rest of the job goes to a fresh worker. A job whose worker dies without a word, or misses
 * the host deadline, is re-run one unit per job: the units that did nothing wrong get their own
 * vectors again, the unit that kills its worker alone gets the default. `maxCrashes` bounds how many workers one call may
 * cost; past it the call fails with TOO_MANY_CRASHES, which says only that many units crashed.
 */
import { SandboxError } from "./errors.ts";
import type { SandboxPool } from "./pool.ts";
import type { UnitsResponse } from "./protocol.ts";
import { UNIT_DEADLINE_SLACK_MS } from "./limits.ts";
import { checkInt, checkSource } from "./checks.ts";
import { isPowerOfTwo, quantize } from "./vector.ts";

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
  /** Worker crashes or stalls tolerated per call (default 8). */
  maxCrashes?: number;
}

export interface PerUnitResult {
  /** Sum over units of the clamped vectors (the default vector for each failed unit). */
  sum: number[];
  units: number;
  /** Units whose code threw, timed out, ran out of memory, or returned a wrong shape. */
  failures: number;
  metering: { rows: number; units: number; cpuMs: number; wallMs: number };
}

interface Partial {
  sum: number[];
  failures: number;
  cpuNs: number;
}

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
  const quantizedDefault = defaultVector.map((v, i) => quantize(v, granularity?.[i]));
  const perUnitTimeoutMs = checkInt(call.perUnitTimeoutMs ?? 100, "perUnitTimeoutMs", 1, 60_000);
  const memoryLimitMb = checkInt(call.memoryLimitMb ?? 64, "memoryLimitMb", 8, 4096);
  const maxUnitsPerJob = checkInt(call.maxUnitsPerJob ?? 256, "maxUnitsPerJob", 1, 100_000);
  const maxCrashes = checkInt(call.maxCrashes ?? 8, "maxCrashes", 0, 10_000);

  const started = performance.now();
  let crashes = 0;
  let failed: unknown = null;

  const runJob = async (units: string[]): Promise<Partial> => {
    try {
      const r = (await pool.run({
        deadlineMs: units.length * (perUnitTimeoutMs + UNIT_DEADLINE_SLACK_MS + 50) + 2000,
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
        }),
      })) as UnitsResponse;
      const part: Partial = { sum: r.sum, failures: r.failures, cpuNs: r.cpuNs };
      if (r.processed < units.length) {
        // a unit stalled its worker (counted in r.failures); the rest go to a fresh worker
        if (++crashes > maxCrashes) throw new SandboxError("TOO_MANY_CRASHES");
        add(part, await runJob(units.slice(r.processed)));
      }
      return part;
    } catch (err) {
      if (!(err instanceof SandboxError) || (err.code !== "SANDBOX_CRASHED" && err.code !== "TIMEOUT")) throw err;
      if (++crashes > maxCrashes) throw new SandboxError("TOO_MANY_CRASHES");
      if (units.length === 1) return { sum: [...quantizedDefault], failures: 1, cpuNs: 0 };
      const total: Partial = { sum: new Array<number>(d).fill(0), failures: 0, cpuNs: 0 };
      for (const unit of units) add(total, await runJob([unit]));
      return total;
    }
  };

  const results: Array<Promise<Partial>> = [];
  const inFlight = new Set<Promise<unknown>>();
  let units = 0;
  let rows = 0;
  let batchIndex = 0;
  for await (const batch of call.units) {
    if (failed !== null) break;
    if (!Array.isArray(batch)) throw new SandboxError("INVALID_REQUEST", `units batch ${batchIndex} is not an array`);
    for (let at = 0; at < batch.length; at += maxUnitsPerJob) {
      const jsons = batch.slice(at, at + maxUnitsPerJob).map((unit: PrivacyUnit, i: number) => {
        if (unit === null || typeof unit !== "object" || !Array.isArray(unit.rows)) {
          throw new SandboxError("INVALID_REQUEST", `units batch ${batchIndex}, unit ${at + i} has no rows array`);
        }
        rows += unit.rows.length;
        try {
          return JSON.stringify(unit.rows);
        } catch {
          throw new SandboxError("INVALID_REQUEST", `units batch ${batchIndex}, unit ${at + i} rows are not JSON`);
        }
      });
      units += jsons.length;
      // at most one job per worker in flight: this call never fills the shared queue by itself
      while (inFlight.size >= pool.size) await Promise.race(inFlight);
      if (failed !== null) break;
      const job = runJob(jsons);
      results.push(job);
      const tracked = job.then(
        () => undefined,
        (err: unknown) => {
          failed ??= err;
        },
      );
      inFlight.add(tracked);
      void tracked.then(() => inFlight.delete(tracked));
    }
    batchIndex++;
  }
  await Promise.all(inFlight);
  if (failed !== null) throw failed;
  const total: Partial = { sum: new Array<number>(d).fill(0), failures: 0, cpuNs: 0 };
  for (const r of results) add(total, await r);
  return {
    sum: total.sum,
    units,
    failures: total.failures,
    metering: { rows, units, cpuMs: total.cpuNs / 1e6, wallMs: performance.now() - started },
  };
}

function add(into: Partial, part: Partial): void {
  for (let i = 0; i < into.sum.length; i++) into.sum[i]! += part.sum[i]!;
  into.failures += part.failures;
  into.cpuNs += part.cpuNs;
}
