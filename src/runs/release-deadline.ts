/**
 * Fixed-deadline release. An analysis's answer leaves at a time fixed before it runs, from
 * public figures only (the rows to scan), so how long any one unit's code took — a loop, a
 * timeout, a crashed worker — does not show in the latency. The budget covers a normal run
 * (about 2 ms of isolate time per unit, at least one unit per row in the worst case averaged
 * over typical data) plus slack for one misbehaving unit. A run that overruns is released when
 * it ends and counted in the metrics, so operators can raise the budget.
 */
export interface DeadlineModel {
  /** Fixed part: pool start, column load, slack for one unit's timeout and a worker restart. */
  baseMs: number;
  /** Per 1 000 rows to scan. */
  perThousandRowsMs: number;
  /** Never wait longer than this. */
  maxMs: number;
}

export const DEFAULT_DEADLINE: DeadlineModel = { baseMs: 2_000, perThousandRowsMs: 50, maxMs: 600_000 };

export function releaseAfterMs(rows: number, model: DeadlineModel): number {
  return Math.min(model.maxMs, model.baseMs + Math.ceil(rows / 1000) * model.perThousandRowsMs);
}

/** Resolves at `startedAt + ms` (performance.now() time); true if that moment had already passed. */
export async function holdUntil(startedAt: number, ms: number): Promise<boolean> {
  const target = startedAt + ms;
  if (performance.now() >= target) return true;
  // Timers may fire a little early against performance.now(): wait again until the moment is past.
  while (performance.now() < target) await new Promise((resolve) => setTimeout(resolve, Math.ceil(target - performance.now())));
  return false;
}
