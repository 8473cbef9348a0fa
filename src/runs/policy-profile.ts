/**
 * Contribution bounds suggested from the data, under DP (issue #16): the owner spends a small ε
 * of the dataset's budget on a DP contribution profile of one version (queries/contribution-
 * profile.ts), which is kept with the policy (a new policy version) so that every later quote
 * states the bias of bounding and every query gets its own bounds inside the policy's caps
 * (queries/tune-bounds.ts). The suggestion — groups and rows per unit, clamping ranges — and the
 * trade-off against the current bounds are post-processing of that release.
 *
 *   check     owner, policy, version the policy fits, ε within (0, PROFILE_EPSILON_MAX]
 *   debit     the ε from the dataset's global budget, as the owner's own spend (the
 *             privacy.budget_debited event; refused, nothing spent, when the budget cannot cover it)
 *   compute   the columns the policy names, read as the run path reads them (ColumnLoader)
 *   keep      a new policy version with the profile (dataset.policy_changed + policy.profiled)
 *   suggest   suggestBounds at the policy's per-query ε, and the same queries under the current caps
 *
 * The profile uses the policy's declarations and the DP histograms only: never the version's
 * exact row count (the declared public size stands for the rows, see contribution-profile.ts).
 */
import { InvalidInput, NotFound } from "../errors.ts";
import { newId } from "../ids.ts";
import type { DatasetsService, DatasetVersion } from "../datasets/index.ts";
import {
  type PolicyProfile,
  POLICY_DEFAULTS,
  type PolicyRules,
  type PrivacyPolicy,
  type PrivacyPolicyService,
  publicFactsOf,
  publicMaxRows,
  publicMinRows,
} from "../privacy/policy/index.ts";
import { BudgetExhausted, type PrivacyBudgetService, microToEpsilon, policyCaps, toMicro } from "../privacy/budget/index.ts";
import { epsilonToNumber, formatEpsilon, parseEpsilon, type Epsilon } from "../privacy/mechanism/index.ts";
import {
  computeProfile,
  maxRowsPerUnitOf,
  profileDims,
  suggestBounds,
  typicalQueryErrors,
  type BoundsTradeoff,
  type ContributionProfile,
  type TypicalQueryChoice,
} from "../queries/index.ts";
import type { Stored } from "../store/port.ts";
import type { ColumnLoader } from "./columns.ts";
import type { BoundsAtPublish } from "../catalog/index.ts";

/** The most ε one profile may spend: a profile is a small, one-off release. */
export const PROFILE_EPSILON_MAX = 1;
/** The ε a profile spends when none is given (PROFILE_EPSILON overrides it). */
export const PROFILE_EPSILON_DEFAULT = 0.1;

export interface BoundsChoice {
  maxGroupsPerUnit: number;
  maxRowsPerUnit: number;
  measures: Array<{ column: string; lo: number; hi: number }>;
  /** Mean over the typical queries of expected relative bias + noise. */
  expectedRelError: number;
}

/** One typical query's expected error under one set of bounds (the query's own, tuned inside the caps). */
export interface QueryErrorAt {
  maxGroupsPerUnit: number;
  maxRowsPerUnit: number;
  clamp: { column: string; lo: number; hi: number } | null;
  expectedRelBias: number;
  expectedRelNoise: number;
}

export interface TypicalQueryTradeoff {
  groupBy: string[];
  kind: string;
  column: string | null;
  suggested: QueryErrorAt;
  /** Under the current policy's caps, now that the profile is kept with it; null when it cannot say. */
  current: QueryErrorAt | null;
}

export interface BoundsSuggestion {
  datasetId: string;
  datasetVersion: number;
  profileId: string;
  /** ε the profile spent (debited from the dataset's budget). */
  epsilonSpent: number;
  /** Left in the dataset's global budget after it. */
  datasetEpsilonRemaining: number;
  /** The per-query ε the figures are computed at (the policy's). */
  epsilonPerQuery: number;
  suggested: BoundsChoice;
  current: BoundsChoice;
  typicalQueries: TypicalQueryTradeoff[];
  /** What lower rows-per-unit caps would cost (mean expected relative error). */
  tradeoffs: BoundsTradeoff[];
  /** Caveats: the profile held too little to suggest from (then `suggested` repeats the current caps), or no exact size is declared. */
  note: string | null;
  /** The policy version that now keeps the profile (the owner accepts by declaring the suggested bounds). */
  policy: Stored<PrivacyPolicy>;
}

export interface PolicyProfilerDeps {
  datasets: DatasetsService;
  policies: PrivacyPolicyService;
  budgets: PrivacyBudgetService;
  columns: ColumnLoader;
  /** ε spent when the owner names none, and at publish (config PROFILE_EPSILON). */
  defaultEpsilon: number;
}

/** The policy's profile as the planner reads it: only when it describes `datasetVersion` (and the policy's unit). */
export function profileOfPolicy(
  policy: Pick<PrivacyPolicy, "contributionProfile" | "privacyUnit">,
  datasetVersion: number,
): ContributionProfile | null {
  const p = policy.contributionProfile;
  if (!p || p.datasetVersion !== datasetVersion || p.privacyUnit !== policy.privacyUnit) return null;
  return p.histograms as unknown as ContributionProfile;
}

export class PolicyProfiler {
  private readonly deps: PolicyProfilerDeps;

  constructor(deps: PolicyProfilerDeps) {
    if (!(deps.defaultEpsilon > 0 && deps.defaultEpsilon <= PROFILE_EPSILON_MAX)) {
      throw new RangeError(`the default profile ε must be in (0, ${PROFILE_EPSILON_MAX}]`);
    }
    this.deps = deps;
  }

  /**
   * The owner's request: spend ε on a profile of `datasetVersion` (the latest when omitted), keep
   * it with the policy, and suggest bounds. Every refusal happens before anything is spent.
   */
  async suggest(ownerId: string, input: { datasetId: string; epsilon?: number | null; datasetVersion?: number | null }): Promise<BoundsSuggestion> {
    const epsilon = this.checkEpsilon(input.epsilon ?? this.deps.defaultEpsilon);
    const { policy, version } = await this.target(ownerId, input.datasetId, input.datasetVersion ?? null);
    const kept = await this.profile(ownerId, policy, version, epsilon, "SUGGESTED");
    const profile = kept.contributionProfile!.histograms as unknown as ContributionProfile;
    const remaining = await this.deps.budgets.globalRemaining(policy.datasetId, policyCaps(kept));
    const figures = suggestionFigures(profile, kept);
    // Without an exact public size the heaviest units (each under the noise floor) are invisible:
    // measured on heavy-tailed flights, quoted intervals then cover the truth far less often.
    const exact = publicFactsOf(kept).size?.exactRows != null;
    const note = exact ? figures.note : [figures.note, NO_EXACT_SIZE].filter(Boolean).join("; ");
    return {
      datasetId: policy.datasetId,
      datasetVersion: version.version,
      profileId: kept.contributionProfile!.profileId,
      epsilonSpent: epsilonToNumber(epsilon),
      datasetEpsilonRemaining: microToEpsilon(remaining.remainingMicro ?? 0),
      ...figures,
      note,
      policy: kept,
    };
  }

  /**
   * At a listing's first publication (issue #16: defaults chosen the same way as a suggestion):
   * when the policy has no profile of the listed version and its bound fields are at their
   * defaults, profile the version at the configured ε and declare the suggested caps as the next
   * policy version (the profile stays with it). When the dataset's budget cannot cover the
   * profile, the fixed defaults stay and the outcome says so. Null when nothing applies.
   */
  async boundsAtPublish(ownerId: string, datasetId: string, datasetVersion: number): Promise<BoundsAtPublish | null> {
    const policy = await this.deps.policies.current(datasetId);
    if (!policy || profileOfPolicy(policy, datasetVersion)) return null;
    const atDefaults = policy.maxGroupsPerUnit === POLICY_DEFAULTS.maxGroupsPerUnit && maxRowsPerUnitOf(policy) === POLICY_DEFAULTS.maxRowsPerUnit;
    if (!atDefaults) return null;
    const epsilon = this.checkEpsilon(this.deps.defaultEpsilon);
    const { version } = await this.target(ownerId, datasetId, datasetVersion);
    let kept: Stored<PrivacyPolicy>;
    try {
      kept = await this.profile(ownerId, policy, version, epsilon, "PUBLISH");
    } catch (e) {
      if (!(e instanceof BudgetExhausted)) throw e;
      return {
        outcome: "DEFAULTS",
        maxGroupsPerUnit: policy.maxGroupsPerUnit,
        maxRowsPerUnit: maxRowsPerUnitOf(policy),
        epsilonSpent: null,
        policyVersion: policy.version,
        note: `kept the fixed default bounds: no contribution profile could be made (${e.message})`,
      };
    }
    const s = suggestBounds(kept.contributionProfile!.histograms as unknown as ContributionProfile, {
      epsilonPerQuery: kept.epsilonPerQuery,
      measures: kept.measures,
    });
    const spent = epsilonToNumber(epsilon);
    if (s.typicalQueries.length === 0) {
      return {
        outcome: "DEFAULTS",
        maxGroupsPerUnit: kept.maxGroupsPerUnit,
        maxRowsPerUnit: maxRowsPerUnitOf(kept),
        epsilonSpent: spent,
        policyVersion: kept.version,
        note: `kept the fixed default bounds: ${TOO_LITTLE}`,
      };
    }
    let final = kept;
    if (s.maxGroupsPerUnit !== kept.maxGroupsPerUnit || s.maxRowsPerUnit !== maxRowsPerUnitOf(kept)) {
      final = await this.deps.policies.declare(ownerId, {
        ...declarationOf(kept),
        datasetId,
        checkAgainstVersion: datasetVersion,
        maxGroupsPerUnit: s.maxGroupsPerUnit,
        maxRowsPerUnit: s.maxRowsPerUnit,
        note: `bounds suggested at publish from a DP contribution profile (ε ${formatEpsilon(epsilon)})`,
      });
    }
    return {
      outcome: "PROFILED",
      maxGroupsPerUnit: final.maxGroupsPerUnit,
      maxRowsPerUnit: maxRowsPerUnitOf(final),
      epsilonSpent: spent,
      policyVersion: final.version,
      note:
        `bounds chosen from a DP contribution profile of version ${datasetVersion} (ε ${formatEpsilon(epsilon)} from the dataset's budget): ` +
        `${final.maxGroupsPerUnit} group(s) and ${maxRowsPerUnitOf(final)} row(s) per unit; expected mean relative error ${s.expectedRelError.toFixed(3)}`,
    };
  }

  private checkEpsilon(value: number): Epsilon {
    let epsilon: Epsilon;
    try {
      epsilon = parseEpsilon(value);
    } catch (e) {
      throw new InvalidInput([{ path: "epsilon", message: (e as Error).message }]);
    }
    if (epsilonToNumber(epsilon) > PROFILE_EPSILON_MAX) {
      throw new InvalidInput([
        {
          path: "epsilon",
          message: `a contribution profile may spend at most ε ${PROFILE_EPSILON_MAX} (asked ${formatEpsilon(epsilon)}); ${PROFILE_EPSILON_DEFAULT}–0.5 is usually enough`,
        },
      ]);
    }
    return epsilon;
  }

  private async target(
    ownerId: string,
    datasetId: string,
    versionNo: number | null,
  ): Promise<{ policy: Stored<PrivacyPolicy>; version: Stored<DatasetVersion> }> {
    const dataset = await this.deps.datasets.getDataset(datasetId);
    if (!dataset || dataset.ownerId !== ownerId) throw new NotFound("dataset");
    const policy = await this.deps.policies.current(datasetId);
    if (!policy) {
      throw new InvalidInput([
        {
          path: "datasetId",
          message: "declare a privacy policy first (declarePrivacyPolicy): the profile is computed over its unit, dimensions and measures",
        },
      ]);
    }
    const n = versionNo ?? dataset.latestVersion;
    const version = n >= 1 ? await this.deps.datasets.getVersion(datasetId, n) : null;
    if (!version) throw new InvalidInput([{ path: "datasetVersion", message: `dataset has no version ${n}` }]);
    const issues = this.deps.policies.ownerIssuesAgainst(policy, version);
    if (issues.length > 0) throw new InvalidInput(issues);
    return { policy, version };
  }

  /** Debit, compute, keep: the ε is spent before any noise is drawn, and stays spent whatever follows. */
  private async profile(
    ownerId: string,
    policy: Stored<PrivacyPolicy>,
    version: Stored<DatasetVersion>,
    epsilon: Epsilon,
    reason: PolicyProfile["reason"],
  ): Promise<Stored<PrivacyPolicy>> {
    const caps = policyCaps(policy);
    const epsilonMicro = toMicro(epsilon);
    const profileId = newId("prof");
    const before = await this.deps.budgets.globalRemaining(policy.datasetId, caps);
    if ((before.remainingMicro ?? 0) < epsilonMicro) throw new BudgetExhausted("DATASET", epsilonMicro, before.remainingMicro ?? 0, "the profile");
    // The owner's own spend on the dataset's global budget (the per-buyer cap does not apply to the owner).
    await this.deps.budgets.debit({
      queryId: profileId,
      buyerId: ownerId,
      datasetId: policy.datasetId,
      epsilonMicro,
      buyerCapMicro: caps.globalCapMicro,
      globalCapMicro: caps.globalCapMicro,
    });
    const profile = await this.compute(policy, version, epsilon);
    return this.deps.policies.attachProfile(
      ownerId,
      policy.datasetId,
      {
        profileId,
        datasetVersion: version.version,
        epsilon: formatEpsilon(epsilon),
        createdAt: new Date().toISOString(),
        reason,
        privacyUnit: policy.privacyUnit,
        histograms: profile as never,
      },
      reason,
    );
  }

  private async compute(policy: PolicyRules, version: Stored<DatasetVersion>, epsilon: Epsilon): Promise<ContributionProfile> {
    const dims = policy.dimensions.filter((d) => d.keys || d.edges || d.derivedKeys === true);
    const names = [...new Set([policy.privacyUnit, ...dims.map((d) => d.column), ...policy.measures.map((m) => m.column)])];
    const views = await this.deps.columns.load(version, names);
    const facts = publicFactsOf(policy);
    const max = publicMaxRows(facts);
    return computeProfile({
      views,
      unitColumn: policy.privacyUnit,
      dims: profileDims(dims, views),
      measures: policy.measures.map((m) => m.column),
      epsilon,
      publicSize: max === null ? null : { minRows: publicMinRows(facts) ?? 0, maxRows: max },
      datasetVersion: version.version,
    });
  }
}

const NO_EXACT_SIZE =
  "no exact size is declared public: the rows of the heaviest units (each hidden under the profile's noise) cannot be counted, " +
  "so bias figures err low; declaring publicFacts.size.exactRows lets the profile account for them";

const TOO_LITTLE =
  "the profile holds too little to suggest bounds from (every histogram bin was under its noise floor and no public size is declared): " +
  "declare the dataset's size public, or spend a larger ε";

/** The suggestion and the trade-off against the policy's current caps: post-processing of the profile. */
export function suggestionFigures(
  profile: ContributionProfile,
  policy: PolicyRules,
): Pick<BoundsSuggestion, "epsilonPerQuery" | "suggested" | "current" | "typicalQueries" | "tradeoffs" | "note"> {
  const epsilonPerQuery = policy.epsilonPerQuery;
  const s = suggestBounds(profile, { epsilonPerQuery, measures: policy.measures });
  const caps = { maxGroupsPerUnit: policy.maxGroupsPerUnit, maxRowsPerUnit: maxRowsPerUnitOf(policy), measures: policy.measures };
  const now = typicalQueryErrors(profile, caps, epsilonPerQuery);
  const at = (c: TypicalQueryChoice): QueryErrorAt => ({
    maxGroupsPerUnit: c.maxGroupsPerUnit,
    maxRowsPerUnit: c.maxRowsPerUnit,
    clamp: c.clamp && c.column ? { column: c.column, ...c.clamp } : null,
    expectedRelBias: c.expectedRelBias,
    expectedRelNoise: c.expectedRelNoise,
  });
  const same = (a: TypicalQueryChoice, b: TypicalQueryChoice) =>
    a.kind === b.kind && a.column === b.column && a.groupBy.join("\u0000") === b.groupBy.join("\u0000");
  const current = { ...caps, measures: [...policy.measures], expectedRelError: now.expectedRelError };
  if (s.typicalQueries.length === 0) {
    return {
      epsilonPerQuery,
      suggested: current,
      current,
      typicalQueries: [],
      tradeoffs: [],
      note: TOO_LITTLE,
    };
  }
  return {
    epsilonPerQuery,
    note: null,
    suggested: { maxGroupsPerUnit: s.maxGroupsPerUnit, maxRowsPerUnit: s.maxRowsPerUnit, measures: s.measures, expectedRelError: s.expectedRelError },
    current,
    typicalQueries: s.typicalQueries.map((c) => {
      const cur = now.typicalQueries.find((x) => same(x, c));
      return { groupBy: c.groupBy, kind: c.kind, column: c.column, suggested: at(c), current: cur ? at(cur) : null };
    }),
    tradeoffs: s.tradeoffs,
  };
}

/** A stored policy's rules as a declaration (to declare the next version with a few fields changed). */
function declarationOf(p: PrivacyPolicy) {
  return {
    privacyUnit: p.privacyUnit,
    dimensions: p.dimensions,
    measures: p.measures,
    aggregates: p.aggregates,
    minGroupSize: p.minGroupSize,
    epsilonPerQuery: p.epsilonPerQuery,
    buyerEpsilonBudget: p.buyerEpsilonBudget,
    datasetEpsilonBudget: p.datasetEpsilonBudget,
    ...(p.publicFacts ? { publicFacts: p.publicFacts } : {}),
  };
}
