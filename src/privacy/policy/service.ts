/**
 * Declaring and reading privacy policies. Only a dataset's owner declares its policy; another
 * owner gets the same NotFound as for a dataset that does not exist. Every change is a new
 * immutable version (inserted under a unique (datasetId, version) index, so two concurrent
 * changes can never both become "version n"), checked against a dataset version's schema,
 * and recorded in the audit log as "dataset.policy_changed".
 */
import { createHash } from "node:crypto";
import canonicalize from "canonicalize";
import { DuplicateKeyError, type Collection, type DocumentStore, type Page, type Stored } from "../../store/port.ts";
import { InvalidInput, NotFound } from "../../errors.ts";
import { newId } from "../../ids.ts";
import type { AuditTrail } from "../../audit-trail.ts";
import { ACTIONS, auditEvent } from "../../audit-actions.ts";
import type { DatasetSchema, DatasetVersion } from "../../datasets/index.ts";
import type { DatasetCatalogSource } from "./dataset-source.ts";
import { POLICY_COLLECTION, type PolicyProfile, type PolicyRules, type PrivacyPolicy } from "./model.ts";
import { publicFactIssues, publicFactsOf } from "./public-facts.ts";
import { checkAgainstSchema, derivedKeyIssues, validatePolicy, type PolicyInput } from "./validate.ts";
import { BudgetBelowSpent, DatasetNotReady } from "./errors.ts";
import type { InputIssue } from "../../errors.ts";

/** ε already spent on a dataset (the privacy budget's figure). A budget may never be lowered below it. */
export interface EpsilonSpentLookup {
  /** `ownerId`: left out of the per-buyer figure (the owner's own spend is on the dataset's budget only). */
  spent(datasetId: string, ownerId?: string): Promise<{ dataset: number; maxPerBuyer: number }>;
}

export type DeclarePolicyInput = PolicyInput & {
  datasetId: string;
  /** The dataset version whose schema to check against; the latest when omitted. */
  checkAgainstVersion?: number | null;
};

export interface PrivacyPolicyServiceDeps {
  datasets: DatasetCatalogSource;
  audit: AuditTrail;
  /** What the privacy budget says was spent: a policy may not set a budget below it. */
  spent: EpsilonSpentLookup;
  /**
   * The dataset versions that published listings sell (the catalog's answer): a new policy must
   * fit those too, or buyers of a listing would be left with a policy its data cannot satisfy.
   */
  versionsInUse: (datasetId: string) => Promise<number[]>;
  now?: () => Date;
}

export class PrivacyPolicyService {
  private readonly policies: Collection<PrivacyPolicy>;
  private readonly datasets: DatasetCatalogSource;
  private readonly audit: AuditTrail;
  private readonly spentLookup: EpsilonSpentLookup;
  private readonly versionsInUse: (datasetId: string) => Promise<number[]>;
  private readonly now: () => Date;

  private constructor(policies: Collection<PrivacyPolicy>, deps: PrivacyPolicyServiceDeps) {
    this.policies = policies;
    this.datasets = deps.datasets;
    this.audit = deps.audit;
    this.spentLookup = deps.spent;
    this.versionsInUse = deps.versionsInUse;
    this.now = deps.now ?? (() => new Date());
    // A policy version is written once, so its event is owed exactly when the version exists.
    this.audit.drift.registerFactCheck(ACTIONS.policyChanged, async (e) => (await this.policies.get(e.subject.policyId ?? "")) !== null);
    this.audit.drift.registerFactCheck(
      ACTIONS.policyProfiled,
      async (e) => (await this.policies.get(e.subject.policyId ?? ""))?.contributionProfile?.profileId === e.subject.profileId,
    );
  }

  static async open(store: DocumentStore, deps: PrivacyPolicyServiceDeps): Promise<PrivacyPolicyService> {
    const policies = await store.collection<PrivacyPolicy>(POLICY_COLLECTION.name, POLICY_COLLECTION.indexes);
    return new PrivacyPolicyService(policies, deps);
  }

  /**
   * Declares (or changes) a dataset's policy: validates it against the schema, refuses to lower a
   * budget below what was spent, and stores it as the next version. Bad input changes nothing.
   */
  async declare(actorId: string, input: DeclarePolicyInput): Promise<Stored<PrivacyPolicy>> {
    const dataset = await this.datasets.getDataset(input.datasetId);
    if (!dataset || dataset.ownerId !== actorId) throw new NotFound("dataset");
    const versionNo = input.checkAgainstVersion ?? dataset.latestVersion;
    if (versionNo < 1 && input.checkAgainstVersion == null) throw new DatasetNotReady();
    const version = await this.datasets.getVersion(dataset._id, versionNo);
    if (!version) {
      throw new InvalidInput([{ path: "input.checkAgainstVersion", message: `dataset has no version ${versionNo}` }]);
    }
    const { datasetId: _d, checkAgainstVersion: _c, ...ruleInput } = input;
    const { rules, note } = validatePolicy(ruleInput, version.schema, version.version);
    const derivedIssues = [...derivedKeyIssues(rules, version), ...publicFactIssues(publicFactsOf(rules), version)];
    if (derivedIssues.length > 0) throw new InvalidInput(derivedIssues);
    for (const n of await this.versionsInUse(dataset._id)) {
      if (n === version.version) continue;
      const listed = await this.datasets.getVersion(dataset._id, n);
      const issues = listed
        ? [
            ...checkAgainstSchema(rules, listed.schema, n).issues,
            ...derivedKeyIssues(rules, listed),
            ...publicFactIssues(publicFactsOf(rules), listed),
          ]
        : [];
      if (issues.length > 0) {
        throw new InvalidInput(issues.map((i) => ({ ...i, message: `${i.message} (a published listing sells version ${n})` })));
      }
    }

    const spent = await this.spentLookup.spent(dataset._id, dataset.ownerId);
    if (rules.buyerEpsilonBudget < spent.maxPerBuyer) {
      throw new BudgetBelowSpent("buyerEpsilonBudget", rules.buyerEpsilonBudget, spent.maxPerBuyer);
    }
    if (rules.datasetEpsilonBudget < spent.dataset) {
      throw new BudgetBelowSpent("datasetEpsilonBudget", rules.datasetEpsilonBudget, spent.dataset);
    }

    // The next version number; a concurrent change that took it first makes us retry with the next.
    for (let attempt = 0; attempt < 10; attempt++) {
      const latest = await this.current(dataset._id);
      const kept = keptProfile(latest, version.version, rules.privacyUnit);
      const doc: PrivacyPolicy = {
        ...rules,
        ...(kept ? { contributionProfile: kept } : {}),
        datasetId: dataset._id,
        ownerId: dataset.ownerId,
        version: (latest?.version ?? 0) + 1,
        checkedAgainstVersion: version.version,
        note,
        createdAt: this.now().toISOString(),
        createdBy: actorId,
      };
      const policyId = newId("pol");
      const event = auditEvent(ACTIONS.policyChanged, {
        actor: actorId,
        subject: { datasetId: dataset._id, ownerId: dataset.ownerId, policyId },
        data: { policyHash: policyFingerprint(rules), epsilonTotal: rules.datasetEpsilonBudget, minGroupSize: rules.minGroupSize },
        eventId: `${ACTIONS.policyChanged}:${policyId}`,
      });
      try {
        return await this.audit.drift.withEvent({ ...event, eventId: event.eventId! }, () => this.policies.insert({ _id: policyId, ...doc }));
      } catch (e) {
        if (e instanceof DuplicateKeyError && e.fields.includes("version")) continue;
        throw e;
      }
    }
    throw new Error(`policy change on ${dataset._id} kept conflicting`);
  }

  /**
   * Keeps a DP contribution profile with the dataset's policy: a new version with the current
   * rules and the profile (so answers cached under the old version are not served as if tuned by
   * it), recorded as dataset.policy_changed and policy.profiled. The profile must have been computed
   * under the current policy's privacy unit (a concurrent change of it makes this refuse).
   */
  async attachProfile(actorId: string, datasetId: string, profile: PolicyProfile, reason: string): Promise<Stored<PrivacyPolicy>> {
    const dataset = await this.datasets.getDataset(datasetId);
    if (!dataset) throw new NotFound("dataset");
    for (let attempt = 0; attempt < 10; attempt++) {
      const latest = await this.current(datasetId);
      if (!latest) throw new NotFound("privacy policy");
      if (latest.privacyUnit !== profile.privacyUnit) {
        throw new InvalidInput([{ path: "datasetId", message: "the policy's privacy unit changed while the profile was computed; ask again" }]);
      }
      const { _id: _i, contributionProfile: _p, ...rest } = latest;
      const doc: PrivacyPolicy = {
        ...rest,
        version: latest.version + 1,
        note: `DP contribution profile of dataset version ${profile.datasetVersion} (ε ${profile.epsilon})`,
        createdAt: this.now().toISOString(),
        createdBy: actorId,
        contributionProfile: profile,
      };
      const policyId = newId("pol");
      const subject = { datasetId, ownerId: dataset.ownerId, policyId };
      const changed = auditEvent(ACTIONS.policyChanged, {
        actor: actorId,
        subject,
        data: { policyHash: policyFingerprint(doc), epsilonTotal: doc.datasetEpsilonBudget, minGroupSize: doc.minGroupSize },
        eventId: `${ACTIONS.policyChanged}:${policyId}`,
      });
      const profiled = auditEvent(ACTIONS.policyProfiled, {
        actor: actorId,
        subject: { ...subject, profileId: profile.profileId },
        data: {
          epsilon: Number(profile.epsilon),
          datasetVersion: profile.datasetVersion,
          profileHash: createHash("sha256")
            .update(canonicalize(profile.histograms) ?? "", "utf8")
            .digest("hex"),
          reason,
        },
        eventId: `${ACTIONS.policyProfiled}:${profile.profileId}`,
      });
      try {
        return await this.audit.drift.withEvent({ ...changed, eventId: changed.eventId! }, () =>
          this.audit.drift.withEvent({ ...profiled, eventId: profiled.eventId! }, () => this.policies.insert({ _id: policyId, ...doc })),
        );
      } catch (e) {
        if (e instanceof DuplicateKeyError && e.fields.includes("version")) continue;
        throw e;
      }
    }
    throw new Error(`policy change on ${datasetId} kept conflicting`);
  }

  /** The dataset's current (highest-version) policy, or null when none was declared. */
  current(datasetId: string): Promise<Stored<PrivacyPolicy> | null> {
    return this.policies.findOne({ datasetId }, { sort: [["version", -1]] });
  }

  version(datasetId: string, version: number): Promise<Stored<PrivacyPolicy> | null> {
    return this.policies.findOne({ datasetId, version });
  }

  /** Policy versions of a dataset, newest first. */
  history(datasetId: string, first: number, after?: string | null): Promise<Page<Stored<PrivacyPolicy>>> {
    return this.policies.find({ datasetId }, { sort: [["version", -1]], limit: first, ...(after ? { after } : {}) });
  }

  /** NotFound unless `actorId` owns the dataset: for owner-only reads. */
  async assertOwner(actorId: string, datasetId: string): Promise<void> {
    const dataset = await this.datasets.getDataset(datasetId);
    if (!dataset || dataset.ownerId !== actorId) throw new NotFound("dataset");
  }

  /** Rules the current policy breaks against another schema (e.g. when a listing moves version). */
  issuesAgainst(rules: PolicyRules, schema: DatasetSchema, version: number, prefix = "policy"): InputIssue[] {
    return checkAgainstSchema(rules, schema, version, prefix).issues;
  }

  /**
   * The same, plus what only the owner may be told because it reads the version's statistics:
   * a derived-keys column with too many distinct values (when a listing moves to that version).
   */
  ownerIssuesAgainst(rules: PolicyRules, version: Pick<DatasetVersion, "schema" | "columns" | "version">, prefix = "policy"): InputIssue[] {
    return [...checkAgainstSchema(rules, version.schema, version.version, prefix).issues, ...derivedKeyIssues(rules, version, prefix)];
  }
}

/**
 * The profile a new policy version keeps from the one before: only one of the same dataset
 * version and privacy unit (a profile describes one version's units).
 */
function keptProfile(latest: PrivacyPolicy | null, datasetVersion: number, privacyUnit: string): PolicyProfile | null {
  const p = latest?.contributionProfile;
  return p && p.datasetVersion === datasetVersion && p.privacyUnit === privacyUnit ? p : null;
}

/** SHA-256 of the canonical JSON of the rules: lets the audit log pin exactly what was declared. */
export function policyFingerprint(rules: PolicyRules): string {
  const pick: PolicyRules = {
    privacyUnit: rules.privacyUnit,
    dimensions: rules.dimensions,
    measures: rules.measures,
    aggregates: rules.aggregates,
    minGroupSize: rules.minGroupSize,
    epsilonPerQuery: rules.epsilonPerQuery,
    buyerEpsilonBudget: rules.buyerEpsilonBudget,
    datasetEpsilonBudget: rules.datasetEpsilonBudget,
    maxGroupsPerUnit: rules.maxGroupsPerUnit,
    // Absent on policies written before it existed: their fingerprint stays what it was.
    ...(rules.maxRowsPerUnit !== undefined ? { maxRowsPerUnit: rules.maxRowsPerUnit } : {}),
  };
  return createHash("sha256")
    .update(canonicalize(pick) ?? "", "utf8")
    .digest("hex");
}
