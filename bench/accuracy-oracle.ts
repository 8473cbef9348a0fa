/**
 * The oracle of issue #16: the best contribution bounds for each query shape, found by an offline
 * sweep over (maxGroupsPerUnit, maxRowsPerUnit) and, for measures, the clamp's upper end, scored
 * on the exact non-private answer. It looks at raw data, so it lives in the bench and the tests
 * only: the yardstick the DP-chosen bounds are compared with, never a product path.
 */
import type { PolicyRules } from "../src/privacy/policy/model.ts";
// Type-only: accuracy.ts calls this (a value import back would cycle through its top-level await).
import type { AccuracyQuery, measureAccuracy as MeasureAccuracy } from "./accuracy.ts";
import type { MemoryTable } from "./accuracy-data.ts";

export interface OracleBest {
  name: string;
  maxGroupsPerUnit: number;
  maxRowsPerUnit: number;
  clampHi: number | null;
  medianRelError: number;
}

const MG = [1, 2, 4, 8, 12, 20];
const R = [4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 10_000];
const CLAMP_HI: Record<string, number[]> = {
  distance_km: [1000, 2000, 3000, 4500],
  dep_delay_min: [15, 30, 60, 120, 240],
};

/** For each query: the bounds with the lowest median relative error over `runs` runs at ε `epsilon`. */
export function oracleSweep(
  t: MemoryTable,
  options: {
    runs: number;
    epsilon: string;
    queries: AccuracyQuery[];
    base: (over: Partial<PolicyRules>) => PolicyRules;
    measure: typeof MeasureAccuracy;
  },
): OracleBest[] {
  const { base, measure: measureAccuracy } = options;
  return options.queries.map((q) => {
    const column = "column" in q.aggregate ? q.aggregate.column : null;
    const his = column ? (CLAMP_HI[column] ?? [null]) : [null];
    let best: OracleBest | null = null;
    for (const mg of q.groupBy.length === 0 ? [1] : MG)
      for (const r of R)
        for (const hi of his) {
          const draft = base({ maxGroupsPerUnit: mg, maxRowsPerUnit: r });
          const policy = hi === null ? draft : { ...draft, measures: draft.measures.map((m) => (m.column === column ? { ...m, hi } : m)) };
          const [res] = measureAccuracy(t, policy, { runs: options.runs, epsilon: options.epsilon, queries: [q] });
          if (!best || res!.medianRelError < best.medianRelError)
            best = { name: q.name, maxGroupsPerUnit: mg, maxRowsPerUnit: r, clampHi: hi, medianRelError: res!.medianRelError };
        }
    return best!;
  });
}
