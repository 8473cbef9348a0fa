/**
 * The planner: checks a query against the dataset's policy and schema, and decides everything
 * the kernel and the privacy gate need — groups from public key sets, bucket edges or (where the
 * policy allows it) the values found in the data, the ε of each noisy statistic, its sensitivity
 * and granularity, the expected noise, and the release threshold of data-derived groups.
 * Pure: no I/O (the caller hands in the dictionaries of derived-keys columns).
 *
 * Every refusal depends only on the query, the policy and the schema — never on the data — so a
 * refusal tells a buyer nothing about the rows. The one exception is a derived-keys column whose
 * dictionary is unavailable for this version (DERIVED_KEYS_UNAVAILABLE), a fact about the version
 * that is the same for every query; it is checked last.
 */
import type { DatasetSchema, ColumnSchema } from "../datasets/index.ts";
import { POLICY_DEFAULTS, POLICY_LIMITS, type PolicyRules, type DimensionPolicy, type MeasurePolicy } from "../privacy/policy/index.ts";
import {
  divideEpsilon,
  scaleEpsilon,
  compareEpsilon,
  parseEpsilon,
  formatEpsilon,
  expectedNoiseStdDev,
  granularityFor,
  maxUnits,
  releaseThreshold,
  epsilonToNumber,
  type Epsilon,
} from "../privacy/mechanism/index.ts";
import { canonicalIR, irHash, type AggregateIR, type FilterIR, type Literal, type QueryIR } from "./ir.ts";
import { PolicyViolation } from "./errors.ts";
import { answerBytesBound, MAX_ANSWER_BYTES } from "./answer-size.ts";
import type { ContributionProfile } from "./contribution-profile.ts";
import { tuneQueryBounds } from "./tune-bounds.ts";

/**
 * maxCells: released numbers per answer (groups × values, a histogram counting its bins), the
 * public bound that keeps every answer the planner accepts small enough to store and send, so
 * no run fails on its size after ε is spent (see answer-size.test.ts).
 */
export const PLAN_LIMITS = { maxAggregates: 8, maxFilters: 32, maxGroups: 10_000, maxHistogramBins: 50, maxCells: 40_000 } as const;

/**
 * Share of a query's ε the suppression count gets when the query asks for no COUNT_UNITS (whose
 * noisy value is reused at no cost): 1 part in 9n + 1, each of the n statistics 9 parts. It only
 * has to tell groups near k apart, so a small share keeps the answers' own noise low.
 */
const SUPPRESSION_WEIGHT = { own: 1, eachStatistic: 9 } as const;

/**
 * δ of the (ε, δ) guarantee of a query that groups by data-derived keys: the probability, over
 * all groups one unit can reach, that a group is released in one dataset and impossible in its
 * neighbour. Public (quoted and shown with the answer).
 */
export const DERIVED_KEYS_DELTA = 1e-7;

export type GroupDim =
  /** `derived`: the keys are a derived-keys column's dictionary (sorted); its groups are thresholded. */
  | { column: string; kind: "keys"; keys: Literal[]; derived?: boolean }
  /** Buckets [e_i, e_{i+1}); date edges are converted to epoch milliseconds. */
  | { column: string; kind: "edges"; edges: number[]; labels: string[] };

export type PlannedFilter =
  | { column: string; kind: "in"; values: Literal[] }
  | { column: string; kind: "range"; lo: number | null; hi: number | null };

/**
 * "threshold": the noisy unit count that decides whether a data-derived group is released;
 * "suppress": the noisy unit count that decides whether a group over public keys shows its values (k).
 */
export type Statistic = "units" | "rows" | "sum" | "count" | "hist" | "threshold" | "suppress";

/** One noisy number per group (a histogram: one per bin), with its own ε share. */
export interface PlannedStatistic {
  /** The aggregate it answers; -1 for the release threshold's count (no aggregate). */
  aggregateIndex: number;
  stat: Statistic;
  column: string | null;
  bins: number;
  epsilon: Epsilon;
  /** L1 sensitivity in integer units of `granularity`, over all groups a unit may reach. */
  sensitivity: bigint;
  granularity: number;
  expectedStdDev: number;
}

export interface QueryPlan {
  ir: QueryIR;
  hash: string;
  unitColumn: ColumnSchema;
  groupDims: GroupDim[];
  groupCount: number;
  filters: PlannedFilter[];
  /** Measures read by the kernel, each clamped per row to its declared bounds. */
  measures: MeasurePolicy[];
  histograms: Array<{ column: string; bins: number; lo: number; hi: number }>;
  statistics: PlannedStatistic[];
  maxGroupsPerUnit: number;
  maxRowsPerUnit: number;
  epsilon: Epsilon;
  rowsToScan: number;
  /** How data-derived groups are released; null (or absent) when the query groups by public keys only. */
  keyThreshold?: KeyThreshold | null;
  /** The policy's DP contribution profile (bias figures and intervals); null when it has none. */
  profile?: ContributionProfile | null;
  /** How k applies to groups over public keys; null when the groups are data-derived (τ covers k). */
  suppression?: Suppression | null;
}

/**
 * k for groups over public keys: a group whose noisy unit count is below k keeps its key but
 * shows no values (`suppressed`). The count is the query's own COUNT_UNITS when it asks for one
 * (post-processing, no extra ε), else a statistic of its own. Judged on noise, never the exact count.
 */
export interface Suppression {
  minGroupSize: number;
  /** Index in `statistics` of the count that judges: a COUNT_UNITS statistic, or one with stat "suppress". */
  statisticIndex: number;
}

/**
 * τ-thresholding of data-derived groups. A group is dropped when its exact unit count is below k;
 * otherwise its unit count plus discrete Laplace noise of scale t = Δ/ε (Δ = maxGroupsPerUnit)
 * must reach τ = k + ⌈t·ln(1/δ_group)⌉, δ_group = δ / maxGroupsPerUnit. A group of k units is
 * then released with probability ≤ δ_group (never with certainty), one of k − 1 never, and one
 * unit can only decide the presence of at most maxGroupsPerUnit groups: δ in total.
 */
export interface KeyThreshold {
  minGroupSize: number;
  tau: bigint;
  delta: number;
  deltaPerGroup: number;
  /** The threshold count's own statistic (also in `statistics`, with stat "threshold"). */
  statistic: PlannedStatistic;
}

export interface PlanInput {
  ir: QueryIR;
  policy: PolicyRules & { maxRowsPerUnit?: number; contributionProfile?: ContributionProfile | null };
  schema: DatasetSchema;
  rowCount: number;
  /**
   * The dictionary (distinct values) of each derived-keys column the query groups by, read from
   * the dataset version. A missing one makes the query refused (DERIVED_KEYS_UNAVAILABLE).
   */
  derivedKeys?: Readonly<Record<string, readonly string[]>>;
}

/** The columns whose dictionaries `planQuery` needs: derived-keys dimensions the query groups by. */
export function derivedKeyColumns(ir: Pick<QueryIR, "groupBy">, policy: Pick<PolicyRules, "dimensions">): string[] {
  return [...new Set(ir.groupBy)].filter((c) => policy.dimensions.some((d) => d.column === c && d.derivedKeys === true));
}

/** τ for data-derived groups (see KeyThreshold), for a threshold count at ε `epsilon`. */
export function keyThresholdFor(minGroupSize: number, maxGroupsPerUnit: number, epsilon: Epsilon, delta = DERIVED_KEYS_DELTA): KeyThreshold {
  const sensitivity = BigInt(maxGroupsPerUnit);
  const deltaPerGroup = delta / maxGroupsPerUnit;
  return {
    minGroupSize,
    tau: releaseThreshold(minGroupSize, sensitivity, epsilon, deltaPerGroup),
    delta,
    deltaPerGroup,
    statistic: {
      aggregateIndex: -1,
      stat: "threshold",
      column: null,
      bins: 1,
      epsilon,
      sensitivity,
      granularity: 1,
      expectedStdDev: expectedNoiseStdDev(sensitivity, epsilon, 1),
    },
  };
}

const STATS_OF: Record<AggregateIR["kind"], Statistic[]> = {
  COUNT_UNITS: ["units"],
  COUNT_ROWS: ["rows"],
  SUM: ["sum"],
  AVG: ["sum", "count"],
  HISTOGRAM: ["hist"],
};

export function planQuery({ ir: raw, policy, schema, rowCount, derivedKeys = {} }: PlanInput): QueryPlan {
  const ir = canonicalIR(typedFilterValues(raw, policy));
  const column = (name: string, path: string): ColumnSchema => {
    const c = schema.columns.find((x) => x.name === name);
    if (!c) throw new PolicyViolation("UNKNOWN_COLUMN", path, `column ${JSON.stringify(name)} does not exist in this dataset`);
    return c;
  };
  const dimension = (name: string, path: string): DimensionPolicy => {
    column(name, path);
    const d = policy.dimensions.find((x) => x.column === name);
    if (!d)
      throw new PolicyViolation(
        "COLUMN_NOT_ALLOWED",
        path,
        `column ${JSON.stringify(name)} is not a dimension the policy allows to group or filter on`,
      );
    return d;
  };

  // Epsilon first: it bounds everything else.
  const epsilon = requestedEpsilon(ir.epsilon, policy.epsilonPerQuery);

  if (ir.aggregates.length === 0) throw new PolicyViolation("NO_AGGREGATE", "input.aggregates", "ask for at least one aggregate");
  if (ir.aggregates.length > PLAN_LIMITS.maxAggregates) {
    throw new PolicyViolation(
      "TOO_MANY_AGGREGATES",
      "input.aggregates",
      `at most ${PLAN_LIMITS.maxAggregates} aggregates per query (got ${ir.aggregates.length})`,
    );
  }

  const groupDims: GroupDim[] = [];
  let groupCount = 1;
  // The group-count rule uses public widths only: a derived-keys column counts as the most
  // distinct values it may have, whatever the data holds, so a refusal reveals nothing about it.
  let publicGroupBound = 1;
  const unavailable: Array<{ column: string; path: string }> = [];
  ir.groupBy.forEach((name, i) => {
    const path = `input.groupBy[${i}]`;
    if (ir.groupBy.indexOf(name) !== i) throw new PolicyViolation("DUPLICATE_GROUP_BY", path, `column ${JSON.stringify(name)} is grouped on twice`);
    const d = dimension(name, path);
    if (d.derivedKeys === true) {
      const dictionary = derivedKeys[name];
      if (!dictionary || dictionary.length > POLICY_LIMITS.maxDerivedKeys) unavailable.push({ column: name, path });
      // Sorted, so the order of released groups says nothing about the order of rows in the file.
      // Keys longer than the policy's key length are not released (their groups are absent, as
      // if they failed the threshold), so an answer's size has a public bound (answer-size.ts).
      const keys = [...new Set(dictionary ?? [])].filter((k) => k.length <= POLICY_LIMITS.maxKeyLength).sort();
      groupCount *= keys.length;
      publicGroupBound *= POLICY_LIMITS.maxDerivedKeys;
      groupDims.push({ column: name, kind: "keys", keys, derived: true });
      return;
    }
    const g = groupDimOf(d, column(name, path).type);
    const width = g.kind === "keys" ? g.keys.length : g.edges.length - 1;
    groupCount *= width;
    publicGroupBound *= width;
    groupDims.push(g);
  });
  if (publicGroupBound > PLAN_LIMITS.maxGroups) {
    const derivedNote = groupDims.some((g) => g.kind === "keys" && g.derived)
      ? ` (a column with data-derived keys counts as ${POLICY_LIMITS.maxDerivedKeys}, the most distinct values it may have)`
      : "";
    throw new PolicyViolation(
      "TOO_MANY_GROUPS",
      "input.groupBy",
      `this grouping makes up to ${publicGroupBound} groups${derivedNote}; at most ${PLAN_LIMITS.maxGroups}`,
    );
  }
  const anyDerived = groupDims.some((g) => g.kind === "keys" && g.derived === true);

  if (ir.filters.length > PLAN_LIMITS.maxFilters) {
    throw new PolicyViolation("BAD_FILTER", "input.filters", `at most ${PLAN_LIMITS.maxFilters} filters per query (got ${ir.filters.length})`);
  }
  const filters: PlannedFilter[] = ir.filters.map((f, i) => {
    const path = `input.filters[${i}]`;
    const d = dimension(f.column, `${path}.column`);
    if (f.op === "in") {
      if (d.derivedKeys === true) {
        // Keys found in the data are not public, so any string may be asked for; one absent
        // from the data simply matches no row.
        if (f.values.length === 0) throw new PolicyViolation("BAD_FILTER", `${path}.values`, "an `in` filter needs at least one value");
        if (f.values.length > POLICY_LIMITS.maxKeys)
          throw new PolicyViolation("BAD_FILTER", `${path}.values`, `an \`in\` filter has at most ${POLICY_LIMITS.maxKeys} values`);
        for (const v of f.values) {
          if (typeof v !== "string")
            throw new PolicyViolation("BAD_FILTER", `${path}.values`, `column ${JSON.stringify(f.column)} holds text: give its values as strings`);
          if (v.length > POLICY_LIMITS.maxKeyLength)
            throw new PolicyViolation("BAD_FILTER", `${path}.values`, `a value is at most ${POLICY_LIMITS.maxKeyLength} characters`);
        }
        return { column: f.column, kind: "in", values: f.values };
      }
      if (!d.keys)
        throw new PolicyViolation(
          "BAD_FILTER",
          `${path}.values`,
          `column ${JSON.stringify(f.column)} has bucket edges, not a key set: filter it with a range`,
        );
      if (f.values.length === 0) throw new PolicyViolation("BAD_FILTER", `${path}.values`, "an `in` filter needs at least one value");
      for (const v of f.values) {
        if (!d.keys.some((k) => k === v)) {
          throw new PolicyViolation(
            "VALUE_NOT_IN_KEY_SET",
            `${path}.values`,
            `${JSON.stringify(v)} is not in the public key set of ${JSON.stringify(f.column)}`,
          );
        }
      }
      return { column: f.column, kind: "in", values: f.values };
    }
    if (d.derivedKeys === true)
      throw new PolicyViolation("BAD_FILTER", path, `column ${JSON.stringify(f.column)} is not numeric: filter it with \`in\``);
    const isDate = d.dateEdges !== null;
    const colType = column(f.column, `${path}.column`).type;
    const toNumber = (v: number | string | null, side: string): number | null => {
      if (v === null) return null;
      if (isDate) {
        const ms = typeof v === "string" ? Date.parse(v) : NaN;
        if (Number.isNaN(ms)) throw new PolicyViolation("BAD_FILTER", `${path}.${side}`, "a date range bound must be an ISO date");
        return storedTime(ms, colType);
      }
      if (typeof v !== "number" || !Number.isFinite(v))
        throw new PolicyViolation("BAD_FILTER", `${path}.${side}`, "a range bound must be a finite number");
      return v;
    };
    if (d.keys && d.keys.some((k) => typeof k !== "number")) {
      throw new PolicyViolation("BAD_FILTER", path, `column ${JSON.stringify(f.column)} is not numeric: filter it with \`in\``);
    }
    const lo = toNumber(f.lo, "lo");
    const hi = toNumber(f.hi, "hi");
    if (lo === null && hi === null) throw new PolicyViolation("BAD_FILTER", path, "a range needs lo, hi or both");
    if (lo !== null && hi !== null && !(lo < hi)) throw new PolicyViolation("BAD_FILTER", path, "a range needs lo < hi");
    return { column: f.column, kind: "range", lo, hi };
  });

  const unitColumn = column(policy.privacyUnit, "policy.privacyUnit");
  // Derived keys add one statistic: the noisy unit count their release threshold is applied to.
  // Public keys add one too (k's suppression count), unless COUNT_UNITS is asked for anyway.
  const nAggregateStats = ir.aggregates.reduce((n, a) => n + STATS_OF[a.kind].length, 0);
  const ownSuppressionCount = !anyDerived && !ir.aggregates.some((a) => a.kind === "COUNT_UNITS");
  const suppressionParts = nAggregateStats * SUPPRESSION_WEIGHT.eachStatistic + SUPPRESSION_WEIGHT.own;
  const share = anyDerived
    ? divideEpsilon(epsilon, nAggregateStats + 1)
    : ownSuppressionCount
      ? scaleEpsilon(epsilon, SUPPRESSION_WEIGHT.eachStatistic, suppressionParts)
      : divideEpsilon(epsilon, nAggregateStats);
  // With a DP contribution profile, this query's own bounds inside the policy's caps (tune-bounds.ts).
  const tuned = policy.contributionProfile
    ? tuneQueryBounds({
        profile: policy.contributionProfile,
        groupBy: ir.groupBy,
        aggregates: ir.aggregates.map((a) => ({ kind: a.kind, column: "column" in a ? a.column : null, epsilon: epsilonToNumber(share) })),
        maxGroupsPerUnit: policy.maxGroupsPerUnit,
        maxRowsPerUnit: maxRowsPerUnitOf(policy),
        measures: policy.measures,
      })
    : null;
  const maxGroupsPerUnit = tuned?.maxGroupsPerUnit ?? policy.maxGroupsPerUnit;
  const m = BigInt(maxGroupsPerUnit);
  const maxRowsPerUnit = tuned?.maxRowsPerUnit ?? maxRowsPerUnitOf(policy);
  const r = BigInt(maxRowsPerUnit);
  const clampOf = (declared: MeasurePolicy): MeasurePolicy => tuned?.measures.find((x) => x.column === declared.column) ?? declared;

  const measures: MeasurePolicy[] = [];
  const histograms: QueryPlan["histograms"] = [];
  const statistics: PlannedStatistic[] = [];
  ir.aggregates.forEach((a, i) => {
    const path = `input.aggregates[${i}]`;
    if (!policy.aggregates.includes(a.kind)) {
      throw new PolicyViolation("AGGREGATE_NOT_ALLOWED", `${path}.kind`, `${a.kind} is not an aggregate this dataset's policy allows`);
    }
    let measure: MeasurePolicy | null = null;
    if ("column" in a) {
      column(a.column, `${path}.column`);
      measure = policy.measures.find((x) => x.column === a.column) ?? null;
      if (!measure)
        throw new PolicyViolation(
          "COLUMN_NOT_ALLOWED",
          `${path}.column`,
          `column ${JSON.stringify(a.column)} is not a measure the policy allows to aggregate`,
        );
      // Sums and means clamp to the tuned range; histograms keep the declared one (their bins are the buyer's).
      if (!measures.some((x) => x.column === measure!.column)) measures.push(clampOf(measure));
    }
    let bins = 1;
    if (a.kind === "HISTOGRAM") {
      bins = a.bins;
      if (!Number.isInteger(bins) || bins < 2 || bins > PLAN_LIMITS.maxHistogramBins) {
        throw new PolicyViolation("BAD_HISTOGRAM_BINS", `${path}.bins`, `a histogram has 2 to ${PLAN_LIMITS.maxHistogramBins} bins`);
      }
      histograms.push({ column: measure!.column, bins, lo: measure!.lo, hi: measure!.hi });
    }
    // The range the kernel clamps this measure's values to (the sum's sensitivity).
    const clamp = measure ? measures.find((x) => x.column === measure!.column)! : null;
    for (const stat of STATS_OF[a.kind]) {
      const g = stat === "sum" ? granularityFor(clamp!.lo, clamp!.hi) : 1;
      // Per unit: ≤ m groups; per group ≤ r rows; each row's value clamped to [lo, hi].
      const perGroup = stat === "units" ? 1n : stat === "sum" ? r * maxUnits(clamp!.lo, clamp!.hi, g) : r;
      const sensitivity = m * perGroup;
      statistics.push({
        aggregateIndex: i,
        stat,
        column: measure?.column ?? null,
        bins,
        epsilon: share,
        sensitivity,
        granularity: g,
        expectedStdDev: expectedNoiseStdDev(sensitivity, share, g),
      });
    }
  });

  const cells = publicGroupBound * ir.aggregates.reduce((n, a) => n + (a.kind === "HISTOGRAM" ? a.bins : 1), 0);
  if (cells > PLAN_LIMITS.maxCells) {
    throw new PolicyViolation(
      "TOO_MANY_GROUPS",
      "input.aggregates",
      `this query would release up to ${cells} numbers (groups × values, a histogram counting its bins); at most ${PLAN_LIMITS.maxCells}: group on fewer columns or ask for fewer aggregates`,
    );
  }

  const bytes = answerBytesBound(groupDims, publicGroupBound, ir.aggregates, POLICY_LIMITS.maxKeyLength);
  if (bytes > MAX_ANSWER_BYTES) {
    throw new PolicyViolation(
      "TOO_MANY_GROUPS",
      "input.groupBy",
      `this query's answer could reach ${bytes} bytes; at most ${MAX_ANSWER_BYTES}: group on fewer columns or ask for fewer aggregates`,
    );
  }

  const keyThreshold = anyDerived ? keyThresholdFor(policy.minGroupSize, maxGroupsPerUnit, share) : null;
  if (keyThreshold) statistics.push(keyThreshold.statistic);
  let suppression: Suppression | null = null;
  if (!anyDerived) {
    if (ownSuppressionCount) {
      const own = scaleEpsilon(epsilon, SUPPRESSION_WEIGHT.own, suppressionParts);
      statistics.push({
        aggregateIndex: -1,
        stat: "suppress",
        column: null,
        bins: 1,
        epsilon: own,
        sensitivity: m,
        granularity: 1,
        expectedStdDev: expectedNoiseStdDev(m, own, 1),
      });
      suppression = { minGroupSize: policy.minGroupSize, statisticIndex: statistics.length - 1 };
    } else {
      suppression = { minGroupSize: policy.minGroupSize, statisticIndex: statistics.findIndex((st) => st.stat === "units") };
    }
  }

  // Last, after every rule that depends on the query alone (see the header).
  const missing = unavailable[0];
  if (missing) {
    throw new PolicyViolation(
      "DERIVED_KEYS_UNAVAILABLE",
      missing.path,
      `column ${JSON.stringify(missing.column)} cannot be grouped on in this dataset version: the owner's policy allows data-derived keys on it, but this version does not fit them; ask the owner`,
    );
  }

  return {
    ir,
    hash: irHash(ir),
    unitColumn,
    groupDims,
    groupCount,
    filters,
    measures,
    histograms,
    statistics,
    maxGroupsPerUnit,
    maxRowsPerUnit,
    epsilon,
    rowsToScan: rowCount,
    keyThreshold,
    profile: policy.contributionProfile ?? null,
    suppression,
  };
}

/**
 * Keys keep their type (issue #16): an `in` value written as text ("3", "true") on a key set of
 * ints or booleans is the typed key it spells, and a number on a key set of strings the string,
 * so the same filter written either way is one query (one canonical IR, one hash, one cached
 * answer) and answers show the keys typed like their column. Values that spell no key are left
 * as they are (the planner refuses them, naming the value).
 */
export function typedFilterValues(ir: QueryIR, policy: Pick<PolicyRules, "dimensions">): QueryIR {
  const filters = ir.filters.map((f): FilterIR => {
    if (f.op !== "in") return f;
    const keys = policy.dimensions.find((d) => d.column === f.column)?.keys;
    if (!keys) return f;
    const values = f.values.map((v) => keys.find((k) => k === v) ?? keys.find((k) => String(k) === String(v)) ?? v);
    return { ...f, values };
  });
  return { ...ir, filters };
}

/** The ε a request asks for, checked against the policy's per-query limit (queries and analyses). */
export function requestedEpsilon(requested: string | number, perQueryLimit: number): Epsilon {
  let epsilon: Epsilon;
  try {
    epsilon = parseEpsilon(requested);
  } catch (e) {
    throw new PolicyViolation("BAD_EPSILON", "input.epsilon", (e as Error).message);
  }
  if (compareEpsilon(epsilon, parseEpsilon(perQueryLimit)) > 0) {
    throw new PolicyViolation(
      "EPSILON_ABOVE_LIMIT",
      "input.epsilon",
      `ε ${formatEpsilon(epsilon)} is above this dataset's limit of ${perQueryLimit} per query`,
    );
  }
  return epsilon;
}

/** R: rows of one unit that count (per group in a query, handed to `map` in an analysis). */
export function maxRowsPerUnitOf(policy: { maxRowsPerUnit?: number }): number {
  return policy.maxRowsPerUnit ?? POLICY_DEFAULTS.maxRowsPerUnit;
}

/** Dates are stored as epoch days, timestamps as epoch milliseconds (src/datasets/FORMAT.md). */
function storedTime(ms: number, type: ColumnSchema["type"]): number {
  return type === "date" ? Math.floor(ms / 86_400_000) : ms;
}

function groupDimOf(d: DimensionPolicy, type: ColumnSchema["type"]): GroupDim {
  if (d.keys) return { column: d.column, kind: "keys", keys: d.keys };
  if (d.edges) {
    return { column: d.column, kind: "edges", edges: d.edges, labels: d.edges.slice(0, -1).map((e, i) => `[${e}, ${d.edges![i + 1]})`) };
  }
  const iso = d.dateEdges ?? [];
  return {
    column: d.column,
    kind: "edges",
    edges: iso.map((s) => storedTime(Date.parse(s), type)),
    labels: iso.slice(0, -1).map((e, i) => `[${e}, ${iso[i + 1]})`),
  };
}
