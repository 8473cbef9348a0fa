/**
 * The whole error of a released aggregate (issue #16): the noise the plan adds AND the bias of
 * bounding, from the DP contribution profile only (never exact private counts), with a 95%
 * interval a buyer can use, and the released value corrected for the expected bias.
 *
 *   noise     discrete Laplace: the 95% two-sided quantile is b·ln 20 (b = sd/√2), not 1.96 sd,
 *             which would cover only ~93.7% of a Laplace's draws.
 *   bounding  rows dropped by (maxGroupsPerUnit, maxRowsPerUnit): the profile gives the shape's
 *             expected kept share s̄; one group's share varies around it (the heaviest units'
 *             rows concentrate on their home groups), so the interval allows the kept share
 *             anywhere in [1 − BIAS_SPREAD·loss, 1]. Counts and sums are released divided by s̄
 *             (post-processing of the release and of the DP profile), so they are no longer
 *             mostly bias; the interval is for the true value, around the raw noisy total.
 *   clamping  the profile's value histogram gives the share of a measure's mass the clamp cuts
 *             above hi (the sum and the mean come out low) and adds below lo (they come out
 *             high): one-sided, so the intervals are asymmetric. AVG is released shifted by the
 *             profile's expected clamp shift.
 *   ratio     AVG = noisy SUM / noisy COUNT: the interval is the box of both statistics' own
 *             quantiles, divided (not the SUM's standard deviation), then widened for clamping
 *             and for the rows bounding drops (a unit-weighted mean of kept rows drifts from
 *             the row-weighted mean by at most the dropped share times the value spread).
 */
import type { QueryPlan, PlannedStatistic } from "./plan.ts";
import type { ContributionProfile } from "./contribution-profile.ts";
import { clampEffect, rowLoss, shapeFor, unitLoss, valueSpread } from "./bounds-model.ts";
import { expectedErrors } from "./tune-bounds.ts";

/** Two-sided 95% quantile of a Laplace variable per standard deviation: ln(20)/√2. */
export const LAPLACE_Q95 = Math.log(20) / Math.SQRT2;

/**
 * The profile gives a shape's average loss; one group's loss varies around it (the heaviest units'
 * rows concentrate on their home groups), so the interval allows up to BIAS_SPREAD times it.
 */
const BIAS_SPREAD = 2;
/** The most of a group's rows the interval allows bounding to have dropped (keeps the upper end finite). */
const MAX_LOSS = 0.95;

export interface AggregateError {
  aggregateIndex: number;
  /** Noise standard deviation of the released value (of the ratio for AVG: per group, at its count). */
  noiseStdDev: number;
  /** Expected share of the true value lost to bounding (0–1; null when no profile was released). */
  expectedRelBias: number | null;
  /** Expected share of the shape's rows (units for COUNT_UNITS) bounding drops; null without a profile. */
  loss: number | null;
  /** Share of the measure's |mass| the clamp cuts above hi / adds below lo (0 without a profile or a measure). */
  clampDown: number;
  clampUp: number;
  /** The profile's expected shift of a mean by clamping (true mean − clamped mean); 0 when unknown. */
  clampShift: number;
  /** The measure's value spread (profile): how far the dropped rows' mean may sit from the kept rows'. */
  spread: number;
  /** Whether the measure can be negative (then dropped rows move a sum either way). */
  signed: boolean;
}

export interface Interval {
  lo: number;
  hi: number;
}

/** Per aggregate of the plan: its noise and its expected relative bias. */
export function aggregateErrors(plan: QueryPlan, profile: ContributionProfile | null): AggregateError[] {
  const groupBy = plan.groupDims.map((d) => d.column);
  const shape = profile ? shapeFor(profile, groupBy, plan.maxGroupsPerUnit, plan.maxRowsPerUnit) : null;
  const known = profile !== null && shape !== null && shape.rows > 0;
  const rows = known ? rowLoss(shape!, plan.maxGroupsPerUnit, plan.maxRowsPerUnit) : profile && !shape ? 0 : null;
  return plan.ir.aggregates.map((a, i) => {
    const stats = plan.statistics.filter((s) => s.aggregateIndex === i);
    const sd = stats[0]!.expectedStdDev;
    const base: AggregateError = {
      aggregateIndex: i,
      noiseStdDev: sd,
      expectedRelBias: rows,
      loss: rows,
      clampDown: 0,
      clampUp: 0,
      clampShift: 0,
      spread: 0,
      signed: false,
    };
    if (a.kind === "COUNT_UNITS") {
      const u = known ? unitLoss(shape!, plan.maxGroupsPerUnit) : rows;
      return { ...base, expectedRelBias: u, loss: u };
    }
    if (!(a.kind === "SUM" || a.kind === "AVG") || rows === null) return base;
    const m = plan.measures.find((x) => x.column === a.column)!;
    const mp = profile!.measures.find((x) => x.column === a.column);
    const signed = m.lo < 0;
    if (!mp) return { ...base, signed };
    const e = clampEffect(mp, m.lo, m.hi);
    if (!(e.meanAbs > 0)) return { ...base, signed };
    const clampDown = e.cutAbove / e.meanAbs;
    const clampUp = e.addedBelow / e.meanAbs;
    const spread = valueSpread(mp, m.lo, m.hi);
    if (a.kind === "AVG") {
      // Dropped rows leave a ratio about where it was; clamping moves it, relative to the mean itself.
      const shift = e.mean - e.clampedMean;
      const bias = Math.abs(e.mean) > 0 ? Math.min(1, Math.abs(shift) / Math.abs(e.mean)) : 0;
      return { ...base, expectedRelBias: bias, clampDown, clampUp, clampShift: shift, spread, signed };
    }
    return { ...base, expectedRelBias: Math.min(1, rows + Math.abs(clampDown - clampUp)), clampDown, clampUp, spread, signed };
  });
}

/** The 95% noise half-width of one statistic (discrete Laplace, see the header). */
export const noiseHalfWidth = (s: Pick<PlannedStatistic, "expectedStdDev">): number => LAPLACE_Q95 * s.expectedStdDev;

/** The kept share the released total is divided by: 1 − the shape's expected loss (1 when unknown). */
function keptShare(error: AggregateError): number {
  return 1 - Math.min(MAX_LOSS, error.loss ?? 0);
}

/**
 * The value released for a group, from its noisy statistics: counts and sums divided by the
 * expected kept share and by the clamp's expected effect; AVG shifted by the expected clamp
 * shift. Without a profile, the noisy value as it is.
 */
export function correctedValue(kind: string, value: number, error: AggregateError): number {
  if (error.loss === null) return value;
  if (kind === "COUNT_ROWS" || kind === "COUNT_UNITS") return value / keptShare(error);
  if (kind === "SUM") return value / keptShare(error) / Math.max(0.05, 1 - error.clampDown + error.clampUp);
  if (kind === "AVG") return value + error.clampShift;
  return value;
}

/**
 * The 95% interval for the true value of one group, from its RAW noisy statistics (before the
 * correction): `value` is the noisy total (the ratio for AVG, with `sum` and `count` given).
 */
export function valueInterval(
  kind: string,
  value: number,
  error: AggregateError,
  stats: { sum?: PlannedStatistic; count?: PlannedStatistic; releasedSum?: number; releasedCount?: number },
): Interval | null {
  const loss = error.loss === null ? 0 : Math.min(MAX_LOSS, BIAS_SPREAD * error.loss);
  if (kind === "AVG") return avgInterval(value, error, stats, loss);
  const q = noiseHalfWidth({ expectedStdDev: error.noiseStdDev });
  // True total = kept total / kept share (share in [1 − loss, 1]), of values the clamp moved.
  const down = Math.min(MAX_LOSS, BIAS_SPREAD * error.clampDown);
  const up = BIAS_SPREAD * error.clampUp;
  if (error.signed && kind === "SUM") {
    // Dropped rows of a signed measure move the sum either way: widen both sides by what they may hold.
    const reach = ((Math.abs(value) + q) * loss) / (1 - loss) + (Math.abs(value) + q) * (down + up);
    return { lo: value - q - reach, hi: value + q + reach };
  }
  const lo = (value - q) / (1 + up);
  const hi = (value + q) / ((1 - loss) * (1 - down));
  return { lo: Math.min(lo, value - q), hi: Math.max(hi, value + q) };
}

function avgInterval(
  value: number,
  error: AggregateError,
  stats: { sum?: PlannedStatistic; count?: PlannedStatistic; releasedSum?: number; releasedCount?: number },
  loss: number,
): Interval | null {
  const c = stats.releasedCount ?? 1;
  const s = stats.releasedSum ?? value * c;
  const qs = stats.sum ? noiseHalfWidth(stats.sum) : 0;
  const qc = stats.count ? noiseHalfWidth(stats.count) : 0;
  // The box of both statistics' 95% ranges, divided: each holds with 97.5%+ when both do. When
  // the count's range reaches below one row the ratio is unbounded: no interval is claimed (an
  // infinite bound is no claim either, and JSON cannot carry it).
  if (c - qc < 1) return null;
  const ratios = [(s - qs) / (c - qc), (s - qs) / (c + qc), (s + qs) / (c - qc), (s + qs) / (c + qc)];
  let lo = Math.min(...ratios);
  let hi = Math.max(...ratios);
  // Clamping: values above hi were cut (the true mean is higher), below lo raised (lower).
  const scale = Math.max(Math.abs(value), error.clampShift === 0 ? 0 : Math.abs(error.clampShift));
  hi += BIAS_SPREAD * error.clampDown * Math.max(scale, error.spread);
  lo -= BIAS_SPREAD * error.clampUp * Math.max(scale, error.spread);
  // Dropped rows: the kept rows' mean drifts from all rows' by at most the dropped share × the spread.
  const drift = (loss / (1 - loss)) * error.spread;
  return { lo: lo - drift, hi: hi + drift };
}

/**
 * What a quote states about one aggregate's error before anything runs (issue #16): the noise,
 * the expected bias of bounding, both relative to the true value of a group of the profile's mean
 * size, and a 95% range for (released − true) / true. Built from the plan (public: the query and
 * the policy) and the policy's DP contribution profile only; null figures where it has none.
 */
export interface QuotedError {
  aggregateIndex: number;
  kind: string;
  column: string | null;
  /** Noise standard deviation of the released value; for AVG the ratio's, at the mean group size (null without a profile). */
  noiseStdDev: number | null;
  /** Expected share of the true value lost to bounding before the released value's correction (null without a profile). */
  expectedRelBias: number | null;
  /** Expected mean |noise| over the true value, at the mean group size (null without a profile). */
  expectedRelNoise: number | null;
  /** 95% range of (released − true) / true at the mean group size: bias (allowed twice, as the intervals do) and noise. */
  relErrorInterval: Interval | null;
}

/** An exact ε fraction as a number (for the error model only; no import of the mechanism for one division). */
const asNumber = (e: { num: bigint | number; den: bigint | number }) => Number(e.num) / Number(e.den);

export function quotedErrors(plan: QueryPlan): QuotedError[] {
  const profile = plan.profile ?? null;
  const base = aggregateErrors(plan, profile);
  const figures = profile
    ? expectedErrors({
        profile,
        groupBy: plan.groupDims.map((d) => d.column),
        aggregates: plan.ir.aggregates.map((a, i) => ({
          kind: a.kind,
          column: "column" in a ? a.column : null,
          epsilon: asNumber(plan.statistics.find((s) => s.aggregateIndex === i)!.epsilon),
        })),
        maxGroupsPerUnit: plan.maxGroupsPerUnit,
        maxRowsPerUnit: plan.maxRowsPerUnit,
        measures: plan.measures,
      })
    : plan.ir.aggregates.map(() => null);
  return plan.ir.aggregates.map((a, i) => {
    const f = figures[i] ?? null;
    const e = base[i]!;
    const bias = e.expectedRelBias;
    const column = "column" in a ? a.column : null;
    if (!f || bias === null || a.kind === "HISTOGRAM")
      return {
        aggregateIndex: i,
        kind: a.kind,
        column,
        noiseStdDev: a.kind === "AVG" ? null : e.noiseStdDev,
        expectedRelBias: bias,
        expectedRelNoise: null,
        relErrorInterval: null,
      };
    // f.noise is mean |noise| / true value; the relative standard deviation is √2 times it (Laplace).
    const relSd = f.noise * Math.SQRT2;
    const q = LAPLACE_Q95 * relSd;
    // The released value is corrected by the expected bias; one group's own bias lies within the
    // spread the intervals allow (BIAS_SPREAD times the expected, either side of it).
    const b = a.kind === "AVG" ? bias : Math.min(MAX_LOSS, bias);
    const relErrorInterval = { lo: -BIAS_SPREAD * b + b - q, hi: b + q };
    const noiseStdDev = a.kind === "AVG" ? relSd * Math.abs(avgMean(profile!, column)) : e.noiseStdDev;
    return { aggregateIndex: i, kind: a.kind, column, noiseStdDev, expectedRelBias: bias, expectedRelNoise: f.noise, relErrorInterval };
  });
}

/** The profile's mean of a measure (the scale an AVG's relative noise is stated against). */
function avgMean(profile: ContributionProfile, column: string | null): number {
  const mp = profile.measures.find((m) => m.column === column);
  return mp ? clampEffect(mp, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY).mean : 0;
}
