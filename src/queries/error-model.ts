/**
 * The whole error of a released aggregate (issue #16): the noise the plan adds AND the bias of
 * bounding, from the DP contribution profile only (never exact private counts), with a 95%
 * interval a buyer can use. Bounding only ever drops rows, so a count or a sum of non-negative
 * values is biased low: the interval reaches further up than down. AVG is a ratio of two noisy
 * totals; its noise is the ratio's (delta method), not the SUM's.
 */
import type { QueryPlan, PlannedStatistic } from "./plan.ts";
import type { ContributionProfile } from "./contribution-profile.ts";
import { clampEffect, rowLoss, shapeFor } from "./bounds-model.ts";
import { expectedErrors } from "./tune-bounds.ts";

const Z95 = 1.96;

/**
 * The profile gives a shape's average loss; one group's loss varies around it (the heaviest units'
 * rows concentrate on their home groups), so the interval allows up to BIAS_SPREAD times it.
 */
const BIAS_SPREAD = 2;

export interface AggregateError {
  aggregateIndex: number;
  /** Noise standard deviation of the released value (of the ratio for AVG: per group, at its count). */
  noiseStdDev: number;
  /** Expected share of the true value lost to bounding (0–1; null when no profile was released). */
  expectedRelBias: number | null;
}

export interface Interval {
  lo: number;
  hi: number;
}

/** Per aggregate of the plan: its noise and its expected relative bias. */
export function aggregateErrors(plan: QueryPlan, profile: ContributionProfile | null): AggregateError[] {
  const loss = profile ? shapeLoss(plan, profile) : null;
  return plan.ir.aggregates.map((a, i) => {
    const stats = plan.statistics.filter((s) => s.aggregateIndex === i);
    const sd = stats[0]!.expectedStdDev;
    let bias = loss;
    if (profile && loss !== null && (a.kind === "SUM" || a.kind === "AVG")) {
      const m = plan.measures.find((x) => x.column === a.column)!;
      const mp = profile.measures.find((x) => x.column === a.column);
      const clamp = mp ? clampEffect(mp, m.lo, m.hi) : null;
      const clampBias = clamp && clamp.meanAbs > 0 ? Math.abs(clamp.mean - clamp.clampedMean) / clamp.meanAbs : 0;
      // AVG: dropped rows leave the ratio about where it was; clamping moves it, by the share of
      // the mean the clamp cuts off (relative to the mean itself, which a ratio is compared with).
      const avgShift = clamp && Math.abs(clamp.mean) > 0 ? Math.abs(clamp.mean - clamp.clampedMean) / Math.abs(clamp.mean) : 0;
      bias = a.kind === "AVG" ? Math.min(1, avgShift) : Math.min(1, loss + clampBias);
    }
    if (a.kind === "COUNT_UNITS") bias = profile && loss !== null ? 0 : null; // every unit with a row counts once per group it keeps
    return { aggregateIndex: i, noiseStdDev: sd, expectedRelBias: bias };
  });
}

/** The shape's expected loss; null when the profile holds nothing for it (no rows seen nor declared): it cannot say. */
function shapeLoss(plan: QueryPlan, profile: ContributionProfile): number | null {
  const shape = shapeFor(
    profile,
    plan.groupDims.map((d) => d.column),
    plan.maxGroupsPerUnit,
    plan.maxRowsPerUnit,
  );
  if (shape && shape.rows <= 0) return null;
  return shape ? rowLoss(shape, plan.maxGroupsPerUnit, plan.maxRowsPerUnit) : 0;
}

/**
 * The 95% interval for one released value: ± 1.96 noise standard deviations, widened upwards
 * by the expected loss (true ≈ released / (1 − loss)) for counts and sums; for AVG, the ratio's
 * noise at this group's released count, widened both ways by the clamp bias.
 */
export function valueInterval(
  kind: string,
  value: number,
  error: AggregateError,
  stats: { sum?: PlannedStatistic; count?: PlannedStatistic; releasedCount?: number },
): Interval {
  const bias = Math.min(0.95, BIAS_SPREAD * (error.expectedRelBias ?? 0));
  if (kind === "AVG") {
    const n = Math.max(1, stats.releasedCount ?? 1);
    const sdSum = stats.sum?.expectedStdDev ?? 0;
    const sdCount = stats.count?.expectedStdDev ?? 0;
    const sd = Math.sqrt(sdSum ** 2 + value ** 2 * sdCount ** 2) / n;
    // Clamping pulls the mean towards the clamp's middle: a positive mean is biased low.
    if (value > 0) return { lo: value - Z95 * sd, hi: Math.max(value + Z95 * sd, (value + Z95 * sd) / (1 - bias)) };
    const spread = Z95 * sd + bias * Math.abs(value);
    return { lo: value - spread, hi: value + spread };
  }
  const sd = error.noiseStdDev;
  const lo = value - Z95 * sd;
  const hi = (value + Z95 * sd) / (1 - bias);
  return { lo, hi: Math.max(hi, value + Z95 * sd) };
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
  /** Expected share of the true value lost to bounding (null without a profile). */
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
    const bias = base[i]!.expectedRelBias;
    const column = "column" in a ? a.column : null;
    if (!f || bias === null || a.kind === "HISTOGRAM")
      return {
        aggregateIndex: i,
        kind: a.kind,
        column,
        noiseStdDev: a.kind === "AVG" ? null : base[i]!.noiseStdDev,
        expectedRelBias: bias,
        expectedRelNoise: null,
        relErrorInterval: null,
      };
    // f.noise is mean |noise| / true value; the relative standard deviation is √2 times it (Laplace).
    const relSd = f.noise * Math.SQRT2;
    const b = Math.min(0.95, BIAS_SPREAD * bias);
    // Bounding drops rows and clamps values: counts, sums of non-negative values and clamped positive means come out low.
    const relErrorInterval = { lo: -b - Z95 * relSd, hi: Z95 * relSd };
    const noiseStdDev = a.kind === "AVG" ? relSd * Math.abs(avgMean(profile!, column)) : base[i]!.noiseStdDev;
    return { aggregateIndex: i, kind: a.kind, column, noiseStdDev, expectedRelBias: bias, expectedRelNoise: f.noise, relErrorInterval };
  });
}

/** The profile's mean of a measure (the scale an AVG's relative noise is stated against). */
function avgMean(profile: ContributionProfile, column: string | null): number {
  const mp = profile.measures.find((m) => m.column === column);
  return mp ? clampEffect(mp, -Infinity, Infinity).mean : 0;
}
