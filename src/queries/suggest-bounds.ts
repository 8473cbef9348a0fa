/**
 * Contribution bounds suggested from a DP contribution profile (issue #16), for the owner's
 * policy. Each query gets its own bounds inside the policy's caps (tune-bounds.ts), so the
 * suggestion is the caps: the largest groups-per-unit, rows-per-unit and clamp each typical query
 * wants — a count by every profiled shape, a sum and a mean of every measure by each single
 * dimension — at the listing's per-query ε. Pure post-processing of the profile. The trade-off
 * table shows the owner what a lower rows-per-unit cap would cost in expected error.
 */
import type { ContributionProfile } from "./contribution-profile.ts";
import { GROUPS_GRID, ROWS_GRID, type TunedKind, tuneQueryBounds, expectedErrors } from "./tune-bounds.ts";

export interface TypicalQueryChoice {
  groupBy: string[];
  kind: TunedKind;
  column: string | null;
  maxGroupsPerUnit: number;
  maxRowsPerUnit: number;
  /** The clamp of the measure (null for a count). */
  clamp: { lo: number; hi: number } | null;
  /** Expected share of the true value lost to bounding. */
  expectedRelBias: number;
  /** Expected mean |noise| over the true value of a group of mean size. */
  expectedRelNoise: number;
}

export interface BoundsTradeoff {
  maxRowsPerUnit: number;
  /** Mean over the typical queries of expected relative bias + noise under this cap. */
  expectedRelError: number;
}

export interface SuggestedBounds {
  maxGroupsPerUnit: number;
  maxRowsPerUnit: number;
  measures: Array<{ column: string; lo: number; hi: number }>;
  /** Mean over the typical queries of expected relative bias + noise. */
  expectedRelError: number;
  typicalQueries: TypicalQueryChoice[];
  tradeoffs: BoundsTradeoff[];
}

interface Typical {
  groupBy: string[];
  kind: TunedKind;
  column: string | null;
}

function typicalQueries(profile: ContributionProfile, measures: ReadonlyArray<{ column: string }>): Typical[] {
  const out: Typical[] = [];
  const shapes = profile.shapes.filter((s) => s.dims.length > 0);
  for (const s of shapes) out.push({ groupBy: s.dims, kind: "COUNT_ROWS", column: null });
  for (const m of measures) {
    if (!profile.measures.some((x) => x.column === m.column)) continue;
    for (const s of shapes.filter((x) => x.dims.length === 1)) {
      out.push({ groupBy: s.dims, kind: "SUM", column: m.column });
      out.push({ groupBy: s.dims, kind: "AVG", column: m.column });
    }
  }
  return out;
}

function chooseAll(
  profile: ContributionProfile,
  typical: Typical[],
  caps: { maxGroupsPerUnit: number; maxRowsPerUnit: number; measures: ReadonlyArray<{ column: string; lo: number; hi: number }> },
  epsilonPerQuery: number,
): TypicalQueryChoice[] {
  const out: TypicalQueryChoice[] = [];
  for (const q of typical) {
    // A single aggregate spends the query's ε; AVG splits it between its sum and its count.
    const epsilon = q.kind === "AVG" ? epsilonPerQuery / 2 : epsilonPerQuery;
    const aggregates = [{ kind: q.kind, column: q.column, epsilon }];
    const tuned = tuneQueryBounds({ profile, groupBy: q.groupBy, aggregates, ...caps });
    if (!tuned) continue;
    const [err] = expectedErrors({ profile, groupBy: q.groupBy, aggregates, ...tuned });
    const clamp = q.column ? (tuned.measures.find((m) => m.column === q.column) ?? null) : null;
    out.push({
      groupBy: q.groupBy,
      kind: q.kind,
      column: q.column,
      maxGroupsPerUnit: tuned.maxGroupsPerUnit,
      maxRowsPerUnit: tuned.maxRowsPerUnit,
      clamp: clamp ? { lo: clamp.lo, hi: clamp.hi } : null,
      expectedRelBias: err?.bias ?? 0,
      expectedRelNoise: err?.noise ?? 0,
    });
  }
  return out;
}

const meanError = (cs: TypicalQueryChoice[]) => cs.reduce((a, c) => a + c.expectedRelBias + c.expectedRelNoise, 0) / Math.max(1, cs.length);

export function suggestBounds(
  profile: ContributionProfile,
  options: { epsilonPerQuery: number; measures: Array<{ column: string; lo: number; hi: number }> },
): SuggestedBounds {
  const typical = typicalQueries(profile, options.measures);
  const widest = {
    // The grids' ends (the policy's own upper limits: 1000 groups, 10 000 rows per unit).
    maxGroupsPerUnit: GROUPS_GRID[GROUPS_GRID.length - 1]!,
    maxRowsPerUnit: ROWS_GRID[ROWS_GRID.length - 1]!,
    measures: options.measures,
  };
  const choices = chooseAll(profile, typical, widest, options.epsilonPerQuery);
  const maxGroupsPerUnit = Math.max(1, ...choices.map((c) => c.maxGroupsPerUnit));
  const maxRowsPerUnit = Math.max(1, ...choices.map((c) => c.maxRowsPerUnit));
  const measures = options.measures.map((m) => {
    const clamps = choices.filter((c) => c.column === m.column && c.clamp).map((c) => c.clamp!);
    if (clamps.length === 0) return m;
    return { column: m.column, lo: Math.min(...clamps.map((c) => c.lo)), hi: Math.max(...clamps.map((c) => c.hi)) };
  });
  const tradeoffs = ROWS_GRID.filter((r) => r < maxRowsPerUnit && r >= maxRowsPerUnit / 64)
    .filter((_, i, a) => a.length <= 6 || i % Math.ceil(a.length / 6) === 0)
    .map((r) => ({
      maxRowsPerUnit: r,
      expectedRelError: meanError(chooseAll(profile, typical, { maxGroupsPerUnit, maxRowsPerUnit: r, measures }, options.epsilonPerQuery)),
    }));
  const expectedRelError = meanError(choices);
  tradeoffs.push({ maxRowsPerUnit, expectedRelError });
  return { maxGroupsPerUnit, maxRowsPerUnit, measures, expectedRelError, typicalQueries: choices, tradeoffs };
}

/**
 * The typical queries' expected errors under given caps (each query tuned inside them, as the
 * planner does once the profile is kept with the policy): the "current bounds" side of the
 * trade-off a suggestion shows.
 */
export function typicalQueryErrors(
  profile: ContributionProfile,
  caps: { maxGroupsPerUnit: number; maxRowsPerUnit: number; measures: Array<{ column: string; lo: number; hi: number }> },
  epsilonPerQuery: number,
): { typicalQueries: TypicalQueryChoice[]; expectedRelError: number } {
  const choices = chooseAll(profile, typicalQueries(profile, caps.measures), caps, epsilonPerQuery);
  return { typicalQueries: choices, expectedRelError: meanError(choices) };
}
