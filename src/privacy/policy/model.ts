/**
 * A dataset's privacy policy, as its owner declares it. The privacy gate (src/privacy) and the
 * query planner read it; nothing in it is ever read off the data: key sets, bucket edges and
 * bounds are all the owner's declarations, so showing the policy to a buyer reveals nothing.
 *
 * Policies are versioned: every change inserts a new, immutable document with the next version
 * number (unique per dataset), so the current policy is the one with the highest version and
 * every earlier version stays readable for the audit trail.
 */
import type { IndexSpec, JsonValue } from "../../store/port.ts";
import type { PublicFacts } from "./public-facts.ts";

export const AGGREGATES = ["COUNT_UNITS", "COUNT_ROWS", "SUM", "AVG", "HISTOGRAM"] as const;
export type Aggregate = (typeof AGGREGATES)[number];

/** Aggregates over a measure column: they need at least one declared measure. */
export const MEASURE_AGGREGATES: readonly Aggregate[] = ["SUM", "AVG", "HISTOGRAM"];

export const POLICY_DEFAULTS = {
  minGroupSize: 10,
  epsilonPerQuery: 0.1,
  buyerEpsilonBudget: 2,
  datasetEpsilonBudget: 10,
  maxGroupsPerUnit: 1,
  maxRowsPerUnit: 100,
} as const;

export const POLICY_LIMITS = {
  maxEpsilonPerQuery: 1.0,
  maxBudget: 1000,
  minGroupSize: { min: 2, max: 1_000_000 },
  maxGroupsPerUnit: { min: 1, max: 1000 },
  maxRowsPerUnit: { min: 1, max: 10_000 },
  maxKeys: 1000,
  /**
   * The most distinct values a column with data-derived keys may have. Also the public width a
   * derived-keys dimension counts for when a query's number of groups is checked, so that check
   * never depends on how many distinct values the data really holds.
   */
  maxDerivedKeys: 1000,
  maxKeyLength: 200,
  maxEdges: 1001,
  maxBound: 1e15,
  maxColumns: 200,
  maxNoteLength: 500,
} as const;

/** A public key value: typed like its column (string, integer or boolean). */
export type KeyValue = string | number | boolean;

/**
 * A column buyers may group or filter on, with what they may see as group keys:
 *   keys         an explicit public key set (string, int and boolean columns);
 *   edges        bucket edges for numbers: e0 < e1 < … < en make buckets [e_i, e_{i+1});
 *   dateEdges    bucket edges for date / timestamp columns, ISO strings, strictly increasing;
 *   derivedKeys  true: group keys are the values found in the data (string columns only). Such
 *                groups are released only when they pass the privacy gate's threshold (at least
 *                k units exactly, then a noisy unit count above τ); the others are simply absent.
 * Exactly one of the four is set. Values outside the declared keys or buckets fall in no group.
 * `derivedKeys` is optional because policies written before it existed do not have it.
 */
export interface DimensionPolicy {
  column: string;
  keys: KeyValue[] | null;
  edges: number[] | null;
  dateEdges: string[] | null;
  derivedKeys?: boolean;
}

/** A numeric column buyers may sum / average / histogram; each value is clamped to [lo, hi]. */
export interface MeasurePolicy {
  column: string;
  lo: number;
  hi: number;
}

/** The rules themselves (what the owner declares), without bookkeeping. */
export interface PolicyRules {
  /** The column whose value identifies one person or entity: contributions are bounded per unit. */
  privacyUnit: string;
  dimensions: DimensionPolicy[];
  measures: MeasurePolicy[];
  aggregates: Aggregate[];
  /** Groups with fewer units than this are never released. */
  minGroupSize: number;
  /** The most ε one query may spend. */
  epsilonPerQuery: number;
  /** Total ε one buyer may spend on this dataset. */
  buyerEpsilonBudget: number;
  /** Total ε all buyers together may spend on this dataset. */
  datasetEpsilonBudget: number;
  /** How many groups one unit's rows may count towards in one query. */
  maxGroupsPerUnit: number;
  /**
   * How many rows of one unit count in one group (the rest are ignored): bounds COUNT_ROWS, SUM,
   * AVG and HISTOGRAM sensitivity. Optional: policies written before it existed use the default.
   */
  maxRowsPerUnit?: number;
  /**
   * The owner's public facts (declared schema, optional size): all a buyer sees of the data outside
   * DP answers. Optional: policies written before it existed declare none (public-facts.ts).
   */
  publicFacts?: PublicFacts;
}

/**
 * A DP contribution profile of one dataset version (src/queries/contribution-profile.ts), kept
 * with the policy so quotes state bias and each query gets bounds tuned inside the policy's caps.
 * A DP release (its ε was debited from the dataset's budget), so anyone may be shown what is
 * derived from it. It describes one version: queries on another version do not use it, and a
 * policy declared against another version (or another privacy unit) does not carry it forward.
 */
export interface PolicyProfile {
  profileId: string;
  datasetVersion: number;
  /** ε spent (decimal text). */
  epsilon: string;
  createdAt: string;
  /** Why it was made: the owner asked (SUGGESTED) or a listing was published with default bounds (PUBLISH). */
  reason: "SUGGESTED" | "PUBLISH";
  /** The privacy unit it was computed over. */
  privacyUnit: string;
  /** The histograms (queries' ContributionProfile; opaque to this module). */
  histograms: JsonValue;
}

/** One version of a dataset's policy. `_id` is "pol_…"; (datasetId, version) is unique. */
export interface PrivacyPolicy extends PolicyRules {
  datasetId: string;
  ownerId: string;
  /** 1, 2, 3… per dataset. */
  version: number;
  /** The dataset version whose schema this policy was checked against. */
  checkedAgainstVersion: number;
  /** The owner's note on why the policy changed (optional). */
  note: string;
  createdAt: string;
  createdBy: string;
  /** The DP contribution profile kept with this version (absent: none; see PolicyProfile). */
  contributionProfile?: PolicyProfile | null;
}

export const POLICY_COLLECTION: { name: string; indexes: IndexSpec[] } = {
  name: "privacy_policies",
  indexes: [{ fields: ["datasetId", "version"], unique: true }],
};
