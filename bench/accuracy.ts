/**
 * Accuracy of released answers on heavy-tailed data (issue #16): the flights table (Zipf
 * aircraft), four query shapes, repeated runs through the real planner, compiled kernel and
 * release, compared with the exact non-private answer. Prints, per shape and policy,
 *   median_rel_error  median over groups and runs of |released − true| / |true|
 *   coverage          share of (group, run) whose released 95% interval holds the true value
 * `./nodew node bench/accuracy.ts` alone, or as part of `npm run bench` (bench/run.ts).
 */
import { flights } from "../seed/generators/flights.ts";
import { planQuery, type QueryPlan } from "../src/queries/plan.ts";
import { compileClusteredKernel, kernelColumns, kernelShape } from "../src/queries/compile.ts";
import { bindParams } from "../src/queries/bind.ts";
import { releaseAnswer, type ReleasedAnswer } from "../src/queries/release.ts";
import type { AggregateIR, QueryIR } from "../src/queries/ir.ts";
import type { PolicyRules } from "../src/privacy/policy/model.ts";
import { POLICY_DEFAULTS } from "../src/privacy/policy/model.ts";
import { clusterColumns } from "../src/runs/columns.ts";
import { runClusteredInProcess } from "../src/runs/kernel-job.ts";
import { FLIGHT_AIRPORTS, FLIGHT_CARRIERS } from "../seed/generators/flights.ts";
import { exactGroups, memoryTable, type MemoryTable } from "./accuracy-data.ts";
import { SIZE_BUCKETS } from "../src/privacy/policy/index.ts";
import { computeProfile, profileDims, type ContributionProfile } from "../src/queries/contribution-profile.ts";
import { suggestBounds, type SuggestedBounds } from "../src/queries/suggest-bounds.ts";
import { parseEpsilon } from "../src/privacy/mechanism/epsilon.ts";
import type { ByteSource } from "../src/privacy/mechanism/csprng.ts";
import { aggregateErrors, valueInterval } from "../src/queries/error-model.ts";

export const FLIGHT_TYPES = { month: "int", distance_km: "float", dep_delay_min: "int" } as const;

export interface AccuracyQuery {
  name: string;
  groupBy: string[];
  aggregate: AggregateIR;
}

export const FLIGHT_QUERIES: AccuracyQuery[] = [
  { name: "count_by_origin", groupBy: ["origin"], aggregate: { kind: "COUNT_ROWS" } },
  { name: "count_by_origin_month", groupBy: ["origin", "month"], aggregate: { kind: "COUNT_ROWS" } },
  { name: "sum_distance_by_carrier", groupBy: ["carrier"], aggregate: { kind: "SUM", column: "distance_km" } },
  { name: "avg_delay_by_origin", groupBy: ["origin"], aggregate: { kind: "AVG", column: "dep_delay_min" } },
];

/**
 * The policy a new owner writes by hand: public key sets, measure bounds at the plausible
 * range of the column, and the platform's default contribution bounds.
 */
export function flightsPolicy(over: Partial<PolicyRules> = {}): PolicyRules {
  return {
    privacyUnit: "aircraft_id",
    dimensions: [
      { column: "origin", keys: FLIGHT_AIRPORTS.map(([a]) => a), edges: null, dateEdges: null },
      { column: "carrier", keys: FLIGHT_CARRIERS.map(([c]) => c), edges: null, dateEdges: null },
      { column: "month", keys: Array.from({ length: 12 }, (_, m) => m + 1), edges: null, dateEdges: null },
    ],
    measures: [
      { column: "distance_km", lo: 0, hi: 5000 },
      { column: "dep_delay_min", lo: -60, hi: 1440 },
    ],
    aggregates: ["COUNT_UNITS", "COUNT_ROWS", "SUM", "AVG", "HISTOGRAM"],
    minGroupSize: 10,
    epsilonPerQuery: 1,
    buyerEpsilonBudget: 1000,
    datasetEpsilonBudget: 1000,
    maxGroupsPerUnit: POLICY_DEFAULTS.maxGroupsPerUnit,
    maxRowsPerUnit: POLICY_DEFAULTS.maxRowsPerUnit,
    ...over,
  };
}

/** The interval a buyer is told for one released group value: [lo, hi], or null (no claim). */
export type IntervalOf = (plan: QueryPlan, answer: ReleasedAnswer, group: number) => { lo: number; hi: number } | null;

/** What the quote promised before issue #16: the released value ± 1.96 noise standard deviations of its first statistic. */
export const noiseOnlyInterval: IntervalOf = (plan, answer, g) => {
  const v = answer.groups[g]!.values[0]!.value;
  if (v === null) return null;
  const sd = plan.statistics[0]!.expectedStdDev;
  return { lo: v - 1.96 * sd, hi: v + 1.96 * sd };
};

/** The interval the answer states per group (issue #16): noise and bounding bias, from the plan's DP profile. */
export const releasedInterval: IntervalOf = (_plan, answer, g) => answer.groups[g]!.values[0]!.interval ?? null;

export interface ShapeAccuracy {
  name: string;
  medianRelError: number;
  coverage: number;
  /** Median over groups of (mean released − true) / true: the part of the error that is bias. */
  medianRelBias: number;
  /** Median over claims of (interval hi − lo) / |true|: how much an honest interval says. */
  medianRelIntervalWidth: number;
  /** Share of (group, run) pairs whose values were suppressed (k): no value, no claim. */
  suppressed: number;
}

export function flightsTable(rows: number, seed = 42): MemoryTable {
  return memoryTable(flights({ rows, seed }), FLIGHT_TYPES);
}

/** Runs each query `runs` times at ε `epsilon` under `policy`; error and coverage against the exact answer. */
export function measureAccuracy(
  t: MemoryTable,
  policy: PolicyRules,
  options: { runs: number; epsilon: string; queries?: AccuracyQuery[]; interval?: IntervalOf },
): ShapeAccuracy[] {
  const interval = options.interval ?? noiseOnlyInterval;
  return (options.queries ?? FLIGHT_QUERIES).map((q) => {
    const ir: QueryIR = {
      datasetId: "ds_flights",
      datasetVersion: 1,
      filters: [],
      groupBy: q.groupBy,
      aggregates: [q.aggregate],
      epsilon: options.epsilon,
    };
    const plan = planQuery({ ir, policy, schema: t.schema, rowCount: t.rows });
    const names = kernelColumns(plan);
    const clustered = clusterColumns(t.views, plan.unitColumn.name, names, 1);
    const program = compileClusteredKernel(plan, kernelShape(names, clustered.views));
    const measure = "column" in q.aggregate ? q.aggregate.column : null;
    const exact = exactGroups(t, q.groupBy, measure);
    const truth = (key: Array<{ value: unknown }>) => {
      const cell = exact.get(JSON.stringify(key.map((k) => k.value)));
      if (!cell) return 0;
      return q.aggregate.kind === "COUNT_ROWS" ? cell.rows : q.aggregate.kind === "SUM" ? cell.sum : cell.sum / cell.rows;
    };
    const errors: number[] = [];
    const widths: number[] = [];
    let covered = 0;
    let claims = 0;
    let pairs = 0;
    let suppressed = 0;
    const sums = new Map<number, { truth: number; total: number; n: number }>();
    for (let r = 0; r < options.runs; r++) {
      const totals = runClusteredInProcess(program, clustered, bindParams(plan, program, clustered.views)).totals;
      const answer = releaseAnswer(plan, totals);
      answer.groups.forEach((group, g) => {
        const want = truth(group.key);
        if (want === 0) return; // a group with no rows has no relative error
        const got = group.values[0]!.value;
        errors.push(got === null ? 1 : Math.abs(got - want) / Math.abs(want));
        pairs++;
        // A suppressed group (k) states no value and no interval: no claim to honour (its error counts as 1 above).
        if (got === null) {
          suppressed++;
          return;
        }
        const iv = interval(plan, answer, g);
        claims++;
        if (iv && iv.lo <= want && want <= iv.hi) covered++;
        widths.push(iv ? (iv.hi - iv.lo) / Math.abs(want) : Number.POSITIVE_INFINITY);
        const s = sums.get(g) ?? { truth: want, total: 0, n: 0 };
        s.total += got ?? 0;
        s.n++;
        sums.set(g, s);
      });
    }
    const biases = [...sums.values()].map((s) => (s.total / s.n - s.truth) / Math.abs(s.truth));
    return {
      name: q.name,
      medianRelError: median(errors),
      coverage: claims === 0 ? 0 : covered / claims,
      medianRelBias: median(biases),
      medianRelIntervalWidth: median(widths),
      suppressed: pairs === 0 ? 0 : suppressed / pairs,
    };
  });
}

export function median(xs: number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const fmt = (x: number) => x.toFixed(3);

export function printAccuracy(label: string, results: ShapeAccuracy[]): void {
  for (const r of results) {
    console.log(`${label}.${r.name}.median_rel_error=${fmt(r.medianRelError)}`);
    console.log(`${label}.${r.name}.median_rel_bias=${fmt(r.medianRelBias)}`);
    console.log(`${label}.${r.name}.coverage=${fmt(r.coverage)}`);
    console.log(`${label}.${r.name}.median_rel_interval_width=${fmt(r.medianRelIntervalWidth)}`);
    console.log(`${label}.${r.name}.suppressed=${fmt(r.suppressed)}`);
  }
  console.log(`${label}.median_rel_error=${fmt(median(results.map((r) => r.medianRelError)))}`);
  console.log(`${label}.coverage=${fmt(results.reduce((n, r) => n + r.coverage, 0) / results.length)}`);
}

/** The owner's flow: a DP profile at ε `profileEpsilon`, then the suggested bounds applied to the policy. */
export function suggestedPolicy(
  t: MemoryTable,
  profileEpsilon = "1",
  publicSize: { minRows: number; maxRows: number } | null = { minRows: t.rows, maxRows: t.rows },
  /** The profile's noise bytes (node:crypto unless a test needs one reproducible draw). */
  bytes?: ByteSource,
): { policy: PolicyRules & { contributionProfile: ContributionProfile }; profile: ContributionProfile; suggestion: SuggestedBounds } {
  const draft = flightsPolicy();
  const profile = computeProfile({
    views: t.views,
    unitColumn: draft.privacyUnit,
    dims: profileDims(draft.dimensions, t.views),
    measures: draft.measures.map((m) => m.column),
    epsilon: parseEpsilon(profileEpsilon),
    // What the owner declared public (publicFacts.size): the exact size by default.
    publicSize,
    ...(bytes ? { bytes } : {}),
  });
  const suggestion = suggestBounds(profile, { epsilonPerQuery: draft.epsilonPerQuery, measures: draft.measures });
  const policy = {
    ...flightsPolicy({ maxGroupsPerUnit: suggestion.maxGroupsPerUnit, maxRowsPerUnit: suggestion.maxRowsPerUnit, measures: suggestion.measures }),
    contributionProfile: profile,
  };
  return { policy, profile, suggestion };
}

/** The declared size bucket (publicFacts.size.bucket) holding `rows`, as the profile reads it. */
function bucketOf(rows: number): { minRows: number; maxRows: number } {
  const bounds = Object.values(SIZE_BUCKETS);
  const i = bounds.findIndex((b) => rows <= b);
  return { minRows: i <= 0 ? 0 : bounds[i - 1]! + 1, maxRows: bounds[Math.max(0, i)]! };
}

export async function runAccuracyBench(): Promise<void> {
  const rows = Number(process.env.ACCURACY_ROWS ?? 300_000);
  const runs = Number(process.env.ACCURACY_RUNS ?? 10);
  const t = flightsTable(rows);
  console.log(`accuracy_rows=${rows}`);
  printAccuracy("defaults", measureAccuracy(t, flightsPolicy(), { runs, epsilon: "1" }));
  // ACCURACY_PUBLIC_SIZE: the size the owner declares (exact, the size bucket holding it, or none).
  const declared = process.env.ACCURACY_PUBLIC_SIZE ?? "exact";
  const publicSize = declared === "none" ? null : declared === "bucket" ? bucketOf(t.rows) : { minRows: t.rows, maxRows: t.rows };
  console.log(`accuracy_public_size=${declared}`);
  const { policy, suggestion } = suggestedPolicy(t, "1", publicSize);
  console.log(`suggested.max_groups_per_unit=${suggestion.maxGroupsPerUnit}`);
  console.log(`suggested.max_rows_per_unit=${suggestion.maxRowsPerUnit}`);
  for (const m of suggestion.measures) console.log(`suggested.${m.column}=[${m.lo}, ${m.hi}]`);
  const after = measureAccuracy(t, policy, { runs, epsilon: "1", interval: releasedInterval });
  printAccuracy("suggested", after);
  console.log(`median_rel_error=${median(after.map((r) => r.medianRelError)).toFixed(3)}`);
  console.log(`coverage=${(after.reduce((n, r) => n + r.coverage, 0) / after.length).toFixed(3)}`);
  // The worst shape's coverage: the goal (≥ 0.93) holds for every query shape, not on average.
  console.log(`min_coverage=${Math.min(...after.map((r) => r.coverage)).toFixed(3)}`);
  console.log(`median_rel_interval_width=${median(after.map((r) => r.medianRelIntervalWidth)).toFixed(3)}`);
  if (process.env.ACCURACY_ORACLE === "1") {
    // The yardstick: the best bounds per query, found on the exact answers (never a product path).
    const { oracleSweep } = await import("./accuracy-oracle.ts");
    for (const o of oracleSweep(t, {
      runs: Math.max(2, runs >> 1),
      epsilon: "1",
      queries: FLIGHT_QUERIES,
      base: flightsPolicy,
      measure: measureAccuracy,
    })) {
      console.log(`oracle.${o.name}.median_rel_error=${fmt(o.medianRelError)}`);
      console.log(`oracle.${o.name}.bounds=${o.maxGroupsPerUnit}x${o.maxRowsPerUnit}${o.clampHi === null ? "" : ` hi=${o.clampHi}`}`);
    }
  }
}

if (import.meta.main) await runAccuracyBench();
