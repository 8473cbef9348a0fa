/**
 * Per-query contribution bounds (issue #16): within the policy's caps (maxGroupsPerUnit,
 * maxRowsPerUnit, each measure's [lo, hi]), the bounds that minimise the query's expected
 * relative error — bias from bounding plus mean |noise| — read off the policy's DP
 * contribution profile. One pair cannot serve every query: a sum by carrier (each aircraft in one
 * carrier) wants 1 group and many rows per unit, a count by origin × month many groups and few
 * rows, an average few of both. Pure post-processing of a DP release and of the query (public),
 * so the bounds, and the error figures, may be shown to anyone; smaller bounds than the caps only
 * lower the sensitivity the noise is calibrated to.
 */
import { clampEffect, keptRows, valueQuantile } from "./bounds-model.ts";
import type { ContributionProfile, MeasureProfile, ShapeProfile } from "./contribution-profile.ts";
import { VALUE_EDGES } from "./contribution-profile.ts";

/** E|Laplace| per standard deviation: (b) / (√2·b). */
export const MEAN_ABS_PER_SD = 1 / Math.SQRT2;

export const GROUPS_GRID = [1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32, 40, 48, 64, 80, 96, 128, 160, 192, 256, 320, 384, 512, 640, 768, 1000];
export const ROWS_GRID = [...GROUPS_GRID, 1280, 1536, 2048, 2560, 3072, 4096, 5120, 6144, 8192, 10_000];

export type TunedKind = "COUNT_UNITS" | "COUNT_ROWS" | "SUM" | "AVG" | "HISTOGRAM";

export interface TuneInput {
  profile: ContributionProfile;
  groupBy: string[];
  /** The query's aggregates with the ε of each of their statistics (AVG: its sum's and its count's). */
  aggregates: Array<{ kind: TunedKind; column: string | null; epsilon: number }>;
  /** The policy's caps. */
  maxGroupsPerUnit: number;
  maxRowsPerUnit: number;
  measures: ReadonlyArray<{ column: string; lo: number; hi: number }>;
}

export interface TunedBounds {
  maxGroupsPerUnit: number;
  maxRowsPerUnit: number;
  /** The clamp of each measure a SUM or AVG reads (inside the policy's range). */
  measures: Array<{ column: string; lo: number; hi: number }>;
  /** The objective at the choice: mean over aggregates of expected relative bias + noise. */
  expectedRelError: number;
}

/**
 * The profiled shape standing for a grouping: the same dimensions, else the profiled subset with
 * the most groups (the finest the profile saw), else the ungrouped shape.
 */
export function shapeOfGrouping(profile: ContributionProfile, groupBy: string[]): ShapeProfile | null {
  const want = [...groupBy].sort().join("\u0000");
  const exact = profile.shapes.find((s) => [...s.dims].sort().join("\u0000") === want);
  if (exact) return exact;
  let best: ShapeProfile | null = null;
  for (const s of profile.shapes) if (s.dims.every((d) => groupBy.includes(d)) && (!best || s.groups > best.groups)) best = s;
  return best;
}

/** The lower clamp: the profile's 0.5% quantile when values go below zero, else 0; inside the declared range. */
export function clampLow(m: MeasureProfile | undefined, declared: { lo: number; hi: number }): number {
  const q = m ? valueQuantile(m, 0.005) : null;
  return Math.min(declared.hi, Math.max(declared.lo, q !== null && q < 0 ? q : Math.min(0, declared.hi)));
}

/** Candidate upper clamps: the profile's bin edges inside (lo, declared hi], and declared hi. */
function clampHighs(lo: number, declaredHi: number): number[] {
  const out = VALUE_EDGES.filter((e) => Number.isFinite(e) && e > lo && e < declaredHi && e > 0);
  out.push(declaredHi);
  return out;
}

interface MeasureFacts {
  column: string;
  lo: number;
  highs: number[];
  /** Per high: clamped mean / mean (the clamp's effect on a sum or a mean), and the clamped mean. */
  ratio: number[];
  clampedMean: number[];
  mean: number;
}

function measureFacts(profile: ContributionProfile, declared: { column: string; lo: number; hi: number }): MeasureFacts | null {
  const mp = profile.measures.find((x) => x.column === declared.column);
  if (!mp) return null;
  const base = clampEffect(mp, -Infinity, Infinity);
  if (!(base.meanAbs > 0)) return null;
  const lo = clampLow(mp, declared);
  const highs = clampHighs(lo, declared.hi);
  const effects = highs.map((hi) => clampEffect(mp, lo, hi));
  const mean = Math.abs(base.mean) > 1e-9 * base.meanAbs ? base.mean : base.meanAbs;
  return {
    column: declared.column,
    lo,
    highs,
    ratio: effects.map((e) => e.clampedMean / mean),
    clampedMean: effects.map((e) => e.clampedMean),
    mean,
  };
}

/** An aggregate's expected error, relative to its true value: bias from bounding, and mean |noise|. */
export interface RelError {
  bias: number;
  noise: number;
}

/**
 * Expected relative error of one aggregate given the share of rows kept, the noise scale MG·R,
 * and (for a measure) the clamp's effect; per group of mean size `rowsPerGroup`.
 */
export function aggregateError(
  kind: TunedKind,
  epsilon: number,
  keptShare: number,
  mgr: number,
  rowsPerGroup: number,
  clamp: { ratio: number; width: number; mean: number; clampedMean: number } | null,
): RelError {
  const rel = (sd: number, scale: number) => (scale > 0 ? (MEAN_ABS_PER_SD * sd) / scale : 1);
  switch (kind) {
    case "COUNT_UNITS":
      return { bias: 0, noise: 0 };
    case "HISTOGRAM":
    case "COUNT_ROWS":
      return { bias: 1 - keptShare, noise: rel((Math.SQRT2 * mgr) / epsilon, rowsPerGroup) };
    case "SUM": {
      if (!clamp) return { bias: 1 - keptShare, noise: rel((Math.SQRT2 * mgr) / epsilon, rowsPerGroup) };
      return {
        bias: Math.abs(1 - keptShare * clamp.ratio),
        noise: rel((Math.SQRT2 * mgr * clamp.width) / epsilon, rowsPerGroup * Math.abs(clamp.mean)),
      };
    }
    case "AVG": {
      if (!clamp) return { bias: 0, noise: 1 };
      // A ratio of two noisy totals over n kept rows: sd ≈ √(sd_sum² + mean²·sd_count²) / n.
      const n = rowsPerGroup * keptShare;
      const sdSum = (Math.SQRT2 * mgr * clamp.width) / epsilon;
      const sdCount = (Math.SQRT2 * mgr) / epsilon;
      const sd = Math.sqrt(sdSum ** 2 + clamp.clampedMean ** 2 * sdCount ** 2) / Math.max(1, n);
      return { bias: Math.abs(1 - clamp.ratio), noise: rel(sd, Math.abs(clamp.mean)) };
    }
  }
}

const total = (e: RelError) => e.bias + e.noise;

/** The bounds within the caps that minimise the query's expected relative error (see the header). */
export function tuneQueryBounds(input: TuneInput): TunedBounds | null {
  const shape = shapeOfGrouping(input.profile, input.groupBy);
  if (!shape || shape.rows <= 0) return null;
  const groups = Math.max(1, shape.groups);
  const rowsPerGroup = shape.rows / groups;
  const mgGrid = [...new Set([...GROUPS_GRID.filter((g) => g < Math.min(input.maxGroupsPerUnit, groups)), Math.min(input.maxGroupsPerUnit, groups)])];
  const rGrid = [...new Set([...ROWS_GRID.filter((r) => r < input.maxRowsPerUnit), input.maxRowsPerUnit])];
  const facts = new Map<string, MeasureFacts | null>();
  for (const a of input.aggregates) {
    if ((a.kind === "SUM" || a.kind === "AVG") && a.column && !facts.has(a.column)) {
      const declared = input.measures.find((m) => m.column === a.column);
      facts.set(a.column, declared ? measureFacts(input.profile, declared) : null);
    }
  }
  let best: TunedBounds | null = null;
  for (const mg of mgGrid) {
    for (const r of rGrid) {
      const keptShare = keptRows(shape, mg, r).kept / shape.rows;
      // Per measure, the best high clamp at this (MG, R): the aggregates on it share it.
      const chosen: Array<{ column: string; lo: number; hi: number }> = [];
      let sum = 0;
      const counted = new Set<string>();
      for (const a of input.aggregates) {
        if (a.column && facts.get(a.column)) {
          if (counted.has(a.column)) continue;
          counted.add(a.column);
          const f = facts.get(a.column)!;
          const on = input.aggregates.filter((x) => x.column === a.column && (x.kind === "SUM" || x.kind === "AVG"));
          let bestHi = f.highs.length - 1;
          let bestErr = Infinity;
          f.highs.forEach((hi, h) => {
            const clamp = { ratio: f.ratio[h]!, width: Math.max(Math.abs(f.lo), Math.abs(hi)), mean: f.mean, clampedMean: f.clampedMean[h]! };
            const e = on.reduce((s, x) => s + total(aggregateError(x.kind, x.epsilon, keptShare, mg * r, rowsPerGroup, clamp)), 0);
            if (e < bestErr) {
              bestErr = e;
              bestHi = h;
            }
          });
          sum += bestErr;
          chosen.push({ column: f.column, lo: f.lo, hi: f.highs[bestHi]! });
        } else sum += total(aggregateError(a.kind, a.epsilon, keptShare, mg * r, rowsPerGroup, null));
      }
      const err = sum / Math.max(1, input.aggregates.length);
      if (!best || err < best.expectedRelError - 1e-12) best = { maxGroupsPerUnit: mg, maxRowsPerUnit: r, measures: chosen, expectedRelError: err };
    }
  }
  return best;
}

/**
 * Each aggregate's expected relative bias and noise under given bounds (a plan's): what a quote
 * states and what the answer's intervals are built from. Null entries where the profile cannot say.
 */
export function expectedErrors(input: {
  profile: ContributionProfile;
  groupBy: string[];
  aggregates: Array<{ kind: TunedKind; column: string | null; epsilon: number }>;
  maxGroupsPerUnit: number;
  maxRowsPerUnit: number;
  measures: ReadonlyArray<{ column: string; lo: number; hi: number }>;
}): Array<RelError | null> {
  const shape = shapeOfGrouping(input.profile, input.groupBy);
  if (!shape || shape.rows <= 0) return input.aggregates.map(() => null);
  const keptShare = keptRows(shape, input.maxGroupsPerUnit, input.maxRowsPerUnit).kept / shape.rows;
  const rowsPerGroup = shape.rows / Math.max(1, shape.groups);
  const mgr = input.maxGroupsPerUnit * input.maxRowsPerUnit;
  return input.aggregates.map((a) => {
    if (a.kind !== "SUM" && a.kind !== "AVG") return aggregateError(a.kind, a.epsilon, keptShare, mgr, rowsPerGroup, null);
    const m = input.measures.find((x) => x.column === a.column);
    const mp = input.profile.measures.find((x) => x.column === a.column);
    if (!m || !mp) return null;
    const base = clampEffect(mp, -Infinity, Infinity);
    if (!(base.meanAbs > 0)) return null;
    const mean = Math.abs(base.mean) > 1e-9 * base.meanAbs ? base.mean : base.meanAbs;
    const { clampedMean } = clampEffect(mp, m.lo, m.hi);
    const clamp = { ratio: clampedMean / mean, width: Math.max(Math.abs(m.lo), Math.abs(m.hi)), mean, clampedMean };
    return aggregateError(a.kind, a.epsilon, keptShare, mgr, rowsPerGroup, clamp);
  });
}
