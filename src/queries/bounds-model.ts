/**
 * What bounding costs, read off a DP contribution profile (contribution-profile.ts): the share
 * of rows a (maxGroupsPerUnit, maxRowsPerUnit) pair drops for a query shape, and the share of a
 * measure's mass a clamping range cuts. Post-processing of DP releases only: quotes and
 * suggestions may show these to anyone.
 *
 * A unit in k-bin kb with a cell in n-bin nb keeps min(k, MG)/k of its cells (the kernel keeps MG
 * groups at random) and min(n, R) rows of each. With weight 1/k per cell in the profile, the rows
 * a shape holds are Σ k̄·w·n̄ and the rows kept Σ min(k̄, MG)·w·min(n̄, R).
 */
import { COUNT_EDGES, VALUE_EDGES, countOf, type ContributionProfile, type MeasureProfile, type ShapeProfile } from "./contribution-profile.ts";

export { countOf };

/** A representative value for bin b of VALUE_EDGES (the geometric middle; ±∞ ends take their finite edge). */
export function valueOf(b: number): number {
  const lo = VALUE_EDGES[b]!;
  const hi = VALUE_EDGES[b + 1]!;
  if (!Number.isFinite(lo)) return hi;
  if (!Number.isFinite(hi)) return lo;
  if (lo === 0 || hi === 0) return (lo + hi) / 2;
  return Math.sign(lo) * Math.sqrt(lo * hi);
}

/**
 * Rows the shape holds (its public row figure, contribution-profile.ts) and rows kept under (MG, R), estimated from the
 * profile. The rows the profile cannot see (the row count minus what its visible bins hold) are
 * the heavy tail — a few units, each under the noise floor on its own. They are modelled as
 * units in every group with cells TAIL_FACTOR × the largest visible cell size: a guess in the
 * direction of more loss, so intervals err wide.
 */
const TAIL_FACTOR = 4;

export function keptRows(shape: ShapeProfile, mg: number, r: number): { rows: number; kept: number; units: number } {
  const rows = shape.rows;
  let kept = 0;
  let seen = 0;
  let units = 0;
  let largest = 1;
  shape.weights.forEach((row, kb) => {
    const k = countOf(kb);
    row.forEach((w, nb) => {
      if (w <= 0) return;
      const n = countOf(nb);
      seen += k * w * n;
      kept += Math.min(k, mg) * w * Math.min(n, r);
      units += w;
      largest = Math.max(largest, COUNT_EDGES[nb + 1]!);
    });
  });
  const hidden = Math.max(0, rows - seen);
  // With the profile's noise floor known: the hidden rows held by about half a bin's worth of units
  // (floor / 2), each in every group — few heavy units, as heavy tails are (flights: Zipf aircraft).
  const tailUnits = shape.floor ? Math.max(1, shape.floor / 2) : Number.POSITIVE_INFINITY;
  const tailCell = Math.max(TAIL_FACTOR * largest, hidden / (tailUnits * Math.max(1, shape.groups)));
  kept += hidden * (Math.min(shape.groups, mg) / shape.groups) * Math.min(1, r / tailCell);
  // The bins' middles and the noise can make the visible rows outnumber the public count: then
  // the kept share is read against what the profile holds, not against the count.
  const held = Math.max(rows, seen);
  return { rows, kept: Math.min(rows, (kept * rows) / held), units };
}

/** Share of the shape's rows that (MG, R) drops: the relative bias of a count (0 when unknown). */
export function rowLoss(shape: ShapeProfile, mg: number, r: number): number {
  const { rows, kept } = keptRows(shape, mg, r);
  return rows > 0 ? Math.max(0, 1 - kept / rows) : 0;
}

/**
 * The profiled shape that stands for a query's grouping: the same set of dimensions, else the
 * profiled subset with the largest loss (a finer grouping loses at least as much), else none.
 */
export function shapeFor(profile: ContributionProfile, groupBy: string[], mg: number, r: number): ShapeProfile | null {
  const want = [...groupBy].sort().join("\u0000");
  const exact = profile.shapes.find((s) => [...s.dims].sort().join("\u0000") === want);
  if (exact) return exact;
  const subsets = profile.shapes.filter((s) => s.dims.every((d) => groupBy.includes(d)));
  let best: ShapeProfile | null = null;
  for (const s of subsets) if (!best || rowLoss(s, mg, r) > rowLoss(best, mg, r)) best = s;
  return best;
}

/**
 * Mean of the values and of the values clamped to [lo, hi], the mean |value|, and the mean mass
 * the clamp cuts above hi and adds below lo, per the profile (unit-weighted).
 */
export function clampEffect(
  m: MeasureProfile,
  lo: number,
  hi: number,
): { mean: number; clampedMean: number; meanAbs: number; cutAbove: number; addedBelow: number } {
  let w = 0;
  let sum = 0;
  let clamped = 0;
  let abs = 0;
  let cut = 0;
  let added = 0;
  m.weights.forEach((x, b) => {
    if (x <= 0) return;
    const v = valueOf(b);
    w += x;
    sum += x * v;
    abs += x * Math.abs(v);
    clamped += x * Math.min(Math.max(v, lo), hi);
    cut += x * Math.max(0, v - hi);
    added += x * Math.max(0, lo - v);
  });
  return w > 0
    ? { mean: sum / w, clampedMean: clamped / w, meanAbs: abs / w, cutAbove: cut / w, addedBelow: added / w }
    : { mean: 0, clampedMean: 0, meanAbs: 0, cutAbove: 0, addedBelow: 0 };
}

/**
 * How far the mean of the rows bounding drops may sit from the mean of the rows it keeps: twice
 * the standard deviation of the units' own means when the profile has them (the dropped rows are
 * a few heavy units'), else of the clamped values themselves (wider: no unit averages out).
 */
export function valueSpread(m: MeasureProfile, lo: number, hi: number): number {
  const sd = (weights: number[], clamp: boolean) => {
    let w = 0;
    let s1 = 0;
    let s2 = 0;
    weights.forEach((x, b) => {
      if (x <= 0) return;
      const v = clamp ? Math.min(Math.max(valueOf(b), lo), hi) : valueOf(b);
      w += x;
      s1 += x * v;
      s2 += x * v * v;
    });
    return w > 0 ? Math.sqrt(Math.max(0, s2 / w - (s1 / w) ** 2)) : 0;
  };
  return 2 * (m.unitMeans ? sd(m.unitMeans, false) : sd(m.weights, true));
}

/**
 * Share of a shape's (unit, group) pairs that maxGroupsPerUnit drops: the relative bias of
 * COUNT_UNITS (a unit in k groups keeps min(k, MG) of them). Cells weigh 1/k each in the profile.
 */
export function unitLoss(shape: ShapeProfile, mg: number): number {
  let pairs = 0;
  let kept = 0;
  shape.weights.forEach((row, kb) => {
    const k = countOf(kb);
    for (const w of row) {
      if (w <= 0) continue;
      pairs += k * w;
      kept += Math.min(k, mg) * w;
    }
  });
  return pairs > 0 ? Math.max(0, 1 - kept / pairs) : 0;
}

/** The profile's value quantile q (0–1), unit-weighted; null when the profile holds nothing. */
export function valueQuantile(m: MeasureProfile, q: number): number | null {
  const total = m.weights.reduce((a, b) => a + b, 0);
  if (total <= 0) return null;
  let acc = 0;
  for (let b = 0; b < m.weights.length; b++) {
    acc += m.weights[b]!;
    if (acc >= q * total) return valueOf(b);
  }
  return valueOf(m.weights.length - 1);
}
