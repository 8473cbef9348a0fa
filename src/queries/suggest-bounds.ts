/**
 * Contribution bounds suggested from a DP contribution profile (issue #16): the
 * (maxGroupsPerUnit, maxRowsPerUnit) pair and the measures' clamping ranges that minimise the
 * expected relative error — bias from bounding plus noise — of the typical queries (a count by
 * each profiled shape) at the listing's per-query ε. Pure post-processing of the profile; the
 * trade-off table lets the owner see what a tighter or looser bound would cost.
 */
import { clampEffect, keptRows, rowLoss, valueQuantile } from "./bounds-model.ts";
import type { ContributionProfile, ShapeProfile } from "./contribution-profile.ts";
import { VALUE_EDGES } from "./contribution-profile.ts";
import { valueOf } from "./bounds-model.ts";

/** E|Laplace(b)| / sd = (b) / (√2·b): the mean absolute noise per standard deviation. */
const MEAN_ABS_PER_SD = 1 / Math.SQRT2;

const GRID = [1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32, 40, 48, 64, 80, 96, 128, 160, 192, 256, 320, 384, 512, 640, 768, 1000];
const R_GRID = [...GRID, 1280, 1536, 2048, 2560, 3072, 4096, 5120, 6144, 8192, 10_000];

export interface ShapeError {
  dims: string[];
  /** Expected share of the shape's rows dropped by bounding (the count's relative bias). */
  relBias: number;
  /** Expected relative noise of a count per group (mean |noise| over the mean group size). */
  relNoise: number;
}

export interface BoundsOption {
  maxGroupsPerUnit: number;
  maxRowsPerUnit: number;
  /** The objective: mean over shapes of relBias + relNoise. */
  expectedRelError: number;
  shapes: ShapeError[];
}

export interface SuggestedBounds extends BoundsOption {
  measures: Array<{ column: string; lo: number; hi: number }>;
  /** Other pairs, for the owner's trade-off view: the best per maxRowsPerUnit of the grid. */
  tradeoffs: BoundsOption[];
}

/** Relative error of a count by `shape` under (MG, R) at per-query ε. */
export function shapeError(shape: ShapeProfile, mg: number, r: number, epsilon: number): ShapeError {
  const { rows } = keptRows(shape, mg, r);
  const sd = (Math.SQRT2 * mg * r) / epsilon;
  const perGroup = rows / Math.max(1, shape.groups);
  return {
    dims: shape.dims,
    relBias: rowLoss(shape, mg, r),
    relNoise: perGroup > 0 ? (MEAN_ABS_PER_SD * sd) / perGroup : 1,
  };
}

function evaluate(shapes: ShapeProfile[], mg: number, r: number, epsilon: number): BoundsOption {
  const errors = shapes.map((s) => shapeError(s, mg, r, epsilon));
  const total = errors.reduce((a, e) => a + e.relBias + e.relNoise, 0) / Math.max(1, errors.length);
  return { maxGroupsPerUnit: mg, maxRowsPerUnit: r, expectedRelError: total, shapes: errors };
}

export function suggestBounds(
  profile: ContributionProfile,
  options: { epsilonPerQuery: number; measures: Array<{ column: string; lo: number; hi: number }> },
): SuggestedBounds {
  const shapes = profile.shapes.filter((s) => s.dims.length > 0);
  const maxGroups = Math.max(1, ...shapes.map((s) => s.groups));
  const mgGrid = GRID.filter((g) => g <= Math.min(1000, maxGroups));
  let best: BoundsOption | null = null;
  const tradeoffs: BoundsOption[] = [];
  for (const r of R_GRID) {
    let bestAtR: BoundsOption | null = null;
    for (const mg of mgGrid) {
      const o = evaluate(shapes, mg, r, options.epsilonPerQuery);
      if (!bestAtR || o.expectedRelError < bestAtR.expectedRelError) bestAtR = o;
    }
    tradeoffs.push(bestAtR!);
    if (!best || bestAtR!.expectedRelError < best.expectedRelError) best = bestAtR;
  }
  const chosen = best!;
  const typical = shapes.filter((s) => s.dims.length === 1);
  const measures = options.measures.map((m) => {
    const mp = profile.measures.find((x) => x.column === m.column);
    if (!mp) return m;
    return { column: m.column, ...suggestClamp(mp, typical, chosen.maxGroupsPerUnit, chosen.maxRowsPerUnit, options.epsilonPerQuery, m) };
  });
  // The trade-off view: around the choice, a handful of rows-per-unit values.
  const at = tradeoffs.indexOf(chosen);
  return { ...chosen, measures, tradeoffs: tradeoffs.slice(Math.max(0, at - 3), at + 4) };
}

/**
 * A clamping range for a measure: lo at the 0.5% quantile when values go below zero (else 0),
 * hi the profile edge that minimises clamp bias plus the noise of a sum per group (ε/2: an AVG
 * spends half on the sum), both relative to the mean |value|; kept inside the owner's range.
 */
function suggestClamp(
  m: ContributionProfile["measures"][number],
  shapes: ShapeProfile[],
  mg: number,
  r: number,
  epsilon: number,
  declared: { lo: number; hi: number },
): { lo: number; hi: number } {
  const q = valueQuantile(m, 0.005);
  const lo = Math.max(declared.lo, q !== null && q < 0 ? q : Math.min(0, declared.hi));
  const base = clampEffect(m, -Infinity, Infinity);
  if (base.meanAbs <= 0) return declared;
  const rowsPerGroup = shapes.length ? shapes.reduce((a, s) => a + keptRows(s, mg, r).kept / Math.max(1, s.groups), 0) / shapes.length : 1;
  let bestHi = declared.hi;
  let bestErr = Infinity;
  for (let b = 0; b < VALUE_EDGES.length - 1; b++) {
    const hi = Math.min(declared.hi, VALUE_EDGES[b + 1]!);
    if (!(hi > lo) || !Number.isFinite(hi) || hi < valueOf(b)) continue;
    const { clampedMean } = clampEffect(m, lo, hi);
    const bias = Math.abs(base.mean - clampedMean) / base.meanAbs;
    const noise = (MEAN_ABS_PER_SD * Math.SQRT2 * mg * r * Math.max(Math.abs(lo), Math.abs(hi))) / (epsilon / 2) / (rowsPerGroup * base.meanAbs);
    if (bias + noise < bestErr) {
      bestErr = bias + noise;
      bestHi = hi;
    }
  }
  return { lo, hi: bestHi };
}
