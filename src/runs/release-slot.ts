/**
 * Release at a data-independent moment. Before a run starts, its release moment is fixed from
 * public facts only — the size the owner declared (or, where none is declared, an assumed size
 * set by the operator) — and the answer leaves at that moment, not earlier and not later, so the
 * latency a buyer sees says nothing about the rows (how many match, how slow one unit's code was).
 *
 *   analyses  base + per 1 000 rows; the sandbox stops at the moment (unfinished units count as
 *             their defaults), so an analysis always leaves on time.
 *   queries   a slot of base + per million rows; a kernel that has not finished by then is
 *             released at a fixed larger slot (4 × the slot), and only past that, when it ends
 *             (counted in the metrics, so operators can raise the model).
 */
export interface ReleaseModel {
  /** Fixed part: pool start, column load, slack. */
  baseMs: number;
  /** Per 1 000 rows of the public size. */
  perThousandRowsMs: number;
  /** The size assumed where the owner declares none (never the real one). */
  assumedRows: number;
  /** Never wait longer than this. */
  maxMs: number;
}

export const DEFAULT_ANALYSIS_RELEASE: ReleaseModel = { baseMs: 2_000, perThousandRowsMs: 50, assumedRows: 100_000, maxMs: 600_000 };
// Query slot = 10 ms + 0.006 ms per 1 000 declared rows (10k: 11 ms; 1M: 16 ms; 10M: 70 ms),
// from measured job times (quiet machine, 2 cores; sandbox/README.md "Measured"): with warm
// kernels a 10k-row kernel job costs ~1 ms (p99 2.5 ms) and a run reaches the end of its compute
// 5–8 ms after it starts (the rest is the run path's store work before the kernel); 297 of 305
// sequential 10k runs met the 11 ms slot (7 took the fallback). The 10M-row group-by's sandbox job
// takes 32–40 ms (two parts on two cores, columns cached, copies verified between jobs) and every
// warm 10M run met its 70 ms slot (e2e 81–83 ms against DuckDB's 86–88). The fallback (4 × slot)
// takes what a loaded machine misses; only a cold run (columns not yet in a worker) leaves late.
export const DEFAULT_QUERY_RELEASE: ReleaseModel = { baseMs: 10, perThousandRowsMs: 0.006, assumedRows: 1_000_000, maxMs: 600_000 };

/** The release moment (ms after the run starts) for a public size (null: none declared). */
export function releaseAfterMs(publicRows: number | null, model: ReleaseModel): number {
  const rows = publicRows ?? model.assumedRows;
  return Math.min(model.maxMs, Math.ceil(model.baseMs + (rows / 1000) * model.perThousandRowsMs));
}

/** A query's larger slot, for a kernel that missed its first one. */
export function fallbackAfterMs(slotMs: number, model: ReleaseModel): number {
  return Math.min(model.maxMs, slotMs * 4);
}

export type ReleaseTiming = "on_time" | "fallback" | "late";

/**
 * Waits for the release moment: the slot if the work finished within it, else the fallback (when
 * given), else returns at once ("late"). `startedAt` is performance.now() time.
 */
export async function holdForRelease(startedAt: number, slotMs: number, fallbackMs: number | null = null): Promise<ReleaseTiming> {
  if (!(await holdUntil(startedAt, slotMs))) return "on_time";
  if (fallbackMs !== null && !(await holdUntil(startedAt, fallbackMs))) return "fallback";
  return "late";
}

/** Resolves at `startedAt + ms` (performance.now() time); true if that moment had already passed. */
export async function holdUntil(startedAt: number, ms: number): Promise<boolean> {
  const target = startedAt + ms;
  if (performance.now() >= target) return true;
  // Timers may fire a little early against performance.now(): wait again until the moment is past.
  while (performance.now() < target) await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.ceil(target - performance.now()))));
  return false;
}
