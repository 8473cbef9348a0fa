/**
 * Analyses: buyers submit and revise code, owners approve, deny or revoke it. Each change is one
 * immutable revision document (unique per analysis and number) plus one conditional update of
 * the analysis, so a decision applies to exactly the revision the owner reviewed (by its hash),
 * and a revision submitted meanwhile is never approved by accident.
 */
import { Script } from "node:vm";
import { z } from "zod";
import { DuplicateKeyError, type Collection, type DocumentStore, type Filter, type Page, type Stored } from "../store/port.ts";
import { encodeCursor } from "../store/cursor.ts";
import { InvalidInput, NotFound, invalidInputFromZod } from "../errors.ts";
import { newId } from "../ids.ts";
import type { AuditTrail } from "../audit-trail.ts";
import { ACTIONS, auditEvent } from "../audit-actions.ts";
import type { CatalogService } from "../catalog/index.ts";
import type { AccessService } from "../access/index.ts";
import { PolicyViolation } from "../queries/index.ts";
import {
  ANALYSIS_COLLECTION,
  ANALYSIS_LIMITS,
  REVISION_COLLECTION,
  revisionId,
  type Analysis,
  type AnalysisDecisionRecord,
  type AnalysisRevision,
  type AnalysisStatus,
} from "./model.ts";
import { checkSpec, codeHashOf, type SpecInput } from "./spec.ts";
import { diffAgainst } from "./diff.ts";
import { AnalysisConflict } from "./errors.ts";

export const ANALYSIS_DECISIONS = ["APPROVE", "DENY"] as const;
export type AnalysisDecision = (typeof ANALYSIS_DECISIONS)[number];

const title = z.string().trim().min(1, "is required").max(ANALYSIS_LIMITS.maxTitle, `must be at most ${ANALYSIS_LIMITS.maxTitle} characters`);
const reason = z.string().trim().max(500, "must be at most 500 characters");
const LIST_SORT: Array<[string, 1 | -1]> = [["updatedAt", -1]];

export interface AnalysisServiceDeps {
  catalog: CatalogService;
  access: AccessService;
  audit: AuditTrail;
  now?: () => Date;
}

export class AnalysisService {
  private readonly analyses: Collection<Analysis>;
  private readonly revisions: Collection<AnalysisRevision>;
  private readonly deps: AnalysisServiceDeps;
  private readonly now: () => Date;

  private constructor(analyses: Collection<Analysis>, revisions: Collection<AnalysisRevision>, deps: AnalysisServiceDeps) {
    this.analyses = analyses;
    this.revisions = revisions;
    this.deps = deps;
    this.now = deps.now ?? (() => new Date());
    deps.audit.drift.registerFactCheck(ACTIONS.analysisCodeApproved, async (e) =>
      ((await this.analyses.get(e.subject.codeId ?? ""))?.auditEventIds ?? []).includes(e.eventId),
    );
  }

  static async open(store: DocumentStore, deps: AnalysisServiceDeps): Promise<AnalysisService> {
    const analyses = await store.collection<Analysis>(ANALYSIS_COLLECTION.name, ANALYSIS_COLLECTION.indexes);
    const revisions = await store.collection<AnalysisRevision>(REVISION_COLLECTION.name, REVISION_COLLECTION.indexes);
    return new AnalysisService(analyses, revisions, deps);
  }

  /** A buyer with access to the listing submits code for its owner's review. */
  async submit(buyerId: string, input: SpecInput & { listingId: string; title: string }): Promise<Stored<Analysis>> {
    const name = title.safeParse(input.title);
    if (!name.success) throw invalidInputFromZod(name.error, "input.title");
    const { listing, version, policy } = await this.deps.catalog.queryable(input.listingId);
    if (!(await this.deps.access.hasEntitlement(buyerId, { listingId: listing._id }))) {
      throw new PolicyViolation("NO_ENTITLEMENT", "input.listingId", "you have no access to this listing: request access first (requestAccess)");
    }
    const spec = checkSpec(
      input,
      policy,
      version.schema.columns.map((c) => c.name),
    );
    checkSyntax(spec.source);
    const id = newId("ana");
    const now = this.now().toISOString();
    const codeHash = codeHashOf(spec);
    await this.revisions.insert({ _id: revisionId(id, 1), analysisId: id, revision: 1, codeHash, submittedAt: now, ...spec });
    return this.analyses.insert({
      _id: id,
      listingId: listing._id,
      datasetId: listing.datasetId,
      ownerId: listing.ownerId,
      buyerId,
      title: name.data,
      status: "PENDING_REVIEW",
      latestRevision: 1,
      latestCodeHash: codeHash,
      approvedRevision: 0,
      approvedCodeHash: "",
      decisions: [],
      createdAt: now,
      updatedAt: now,
      auditEventIds: [],
    });
  }

  /**
   * The buyer changes the code (or its columns / outputs): a new revision that needs approval.
   * Going back to exactly the approved code needs none (same hash), so it shows as APPROVED.
   */
  async revise(buyerId: string, input: Partial<SpecInput> & { analysisId: string }): Promise<Stored<Analysis>> {
    const a = await this.get(input.analysisId, buyerId);
    if (a.buyerId !== buyerId) throw new NotFound("analysis");
    if (a.latestRevision >= ANALYSIS_LIMITS.maxRevisions) {
      throw new InvalidInput([
        { path: "input.analysisId", message: `this analysis has ${ANALYSIS_LIMITS.maxRevisions} revisions; submit a new analysis` },
      ]);
    }
    const latest = await this.revision(a._id, a.latestRevision);
    const { version, policy } = await this.deps.catalog.queryable(a.listingId);
    const spec = checkSpec(
      { source: input.source ?? latest.source, columns: input.columns ?? latest.columns, outputs: input.outputs ?? latest.outputs },
      policy,
      version.schema.columns.map((c) => c.name),
    );
    checkSyntax(spec.source);
    const codeHash = codeHashOf(spec);
    if (codeHash === a.latestCodeHash) throw new InvalidInput([{ path: "input", message: "nothing changed: this is the latest revision already" }]);
    const next = a.latestRevision + 1;
    const now = this.now().toISOString();
    const doc = { analysisId: a._id, revision: next, codeHash, submittedAt: now, ...spec };
    try {
      await this.revisions.insert({ _id: revisionId(a._id, next), ...doc });
    } catch (e) {
      if (!(e instanceof DuplicateKeyError)) throw e;
      // Left by a revise that died before moving the pointer, or a concurrent revise.
      const replaced = await this.revisions.updateOne({ _id: revisionId(a._id, next) }, { $set: doc as never });
      if (!replaced) throw e;
    }
    const updated = await this.analyses.updateOne(
      { _id: a._id, latestRevision: a.latestRevision },
      {
        $set: {
          latestRevision: next,
          latestCodeHash: codeHash,
          status: codeHash === a.approvedCodeHash ? "APPROVED" : "PENDING_REVIEW",
          updatedAt: now,
        },
      },
    );
    if (!updated) throw new AnalysisConflict(a.status, "the analysis changed meanwhile (another revision was submitted); reload it and try again");
    return updated;
  }

  /** The listing's owner approves or denies the latest revision, named by the hash they reviewed. */
  async decide(
    ownerId: string,
    input: { analysisId: string; codeHash: string; decision: AnalysisDecision; reason?: string | null },
  ): Promise<Stored<Analysis>> {
    const why = reason.safeParse(input.reason ?? "");
    if (!why.success) throw invalidInputFromZod(why.error, "input.reason");
    const approve = input.decision === "APPROVE";
    if (!approve && why.data.length === 0) throw new InvalidInput([{ path: "input.reason", message: "give the buyer a reason for the denial" }]);
    const a = await this.get(input.analysisId, ownerId);
    if (a.ownerId !== ownerId) throw new NotFound("analysis");
    if (input.codeHash !== a.latestCodeHash) {
      throw new AnalysisConflict(
        a.status,
        "this hash is not the latest revision's: the buyer changed the code since you loaded it; review the new revision",
      );
    }
    if (a.status !== "PENDING_REVIEW") throw new AnalysisConflict(a.status, `the latest revision was already decided (${a.status})`);
    const at = this.now().toISOString();
    const record: AnalysisDecisionRecord = {
      revision: a.latestRevision,
      codeHash: a.latestCodeHash,
      decision: approve ? "APPROVED" : "DENIED",
      by: ownerId,
      at,
      reason: why.data || "approved",
    };
    const filter: Filter = { _id: a._id, latestCodeHash: a.latestCodeHash, status: "PENDING_REVIEW" };
    const conflict = () => new AnalysisConflict(a.status, "the analysis changed meanwhile; reload it and review again");
    if (!approve) {
      const done = await this.analyses.updateOne(filter, { $set: { status: "DENIED", updatedAt: at }, $push: { decisions: record as never } });
      if (!done) throw conflict();
      return done;
    }
    const event = auditEvent(ACTIONS.analysisCodeApproved, {
      actor: ownerId,
      subject: { codeId: a._id, datasetId: a.datasetId, ownerId: a.ownerId, buyerId: a.buyerId, listingId: a.listingId },
      data: { codeHash: a.latestCodeHash },
      eventId: `${ACTIONS.analysisCodeApproved}:${a._id}:${a.latestRevision}`,
    });
    const done = await this.deps.audit.drift
      .withEvent(event, async () => {
        const updated = await this.analyses.updateOne(filter, {
          $set: { status: "APPROVED", approvedRevision: a.latestRevision, approvedCodeHash: a.latestCodeHash, updatedAt: at },
          $push: { decisions: record as never, auditEventIds: event.eventId },
        });
        if (!updated) throw new StateChanged();
        return updated;
      })
      .catch((e: unknown) => {
        if (e instanceof StateChanged) return null;
        throw e;
      });
    if (!done) throw conflict();
    return done;
  }

  /** The owner withdraws an approval: nothing runs until a revision is approved again. */
  async revoke(ownerId: string, input: { analysisId: string; reason: string }): Promise<Stored<Analysis>> {
    const why = reason.min(1, "give the buyer a reason").safeParse(input.reason);
    if (!why.success) throw invalidInputFromZod(why.error, "input.reason");
    const a = await this.get(input.analysisId, ownerId);
    if (a.ownerId !== ownerId) throw new NotFound("analysis");
    if (a.approvedRevision === 0) throw new AnalysisConflict(a.status, "no revision of this analysis is approved");
    const at = this.now().toISOString();
    const record: AnalysisDecisionRecord = {
      revision: a.approvedRevision,
      codeHash: a.approvedCodeHash,
      decision: "REVOKED",
      by: ownerId,
      at,
      reason: why.data,
    };
    const done = await this.analyses.updateOne(
      { _id: a._id, approvedRevision: a.approvedRevision },
      {
        $set: { approvedRevision: 0, approvedCodeHash: "", status: a.status === "APPROVED" ? "REVOKED" : a.status, updatedAt: at },
        $push: { decisions: record as never },
      },
    );
    if (!done) throw new AnalysisConflict(a.status, "the approval changed meanwhile; reload the analysis");
    return done;
  }

  /** An analysis as its buyer or the listing's owner may see it; NotFound for anyone else. */
  async get(analysisId: string, viewerId: string): Promise<Stored<Analysis>> {
    const a = await this.analyses.get(analysisId);
    if (!a || (a.buyerId !== viewerId && a.ownerId !== viewerId)) throw new NotFound("analysis");
    return a;
  }

  async revision(analysisId: string, revision: number): Promise<Stored<AnalysisRevision>> {
    const r = await this.revisions.get(revisionId(analysisId, revision));
    if (!r) throw new NotFound("analysis revision");
    return r;
  }

  /** The approved revision, checked against its pinned hash: what a run executes. */
  async approvedFor(buyerId: string, analysisId: string): Promise<{ analysis: Stored<Analysis>; revision: Stored<AnalysisRevision> }> {
    const analysis = await this.get(analysisId, buyerId);
    if (analysis.buyerId !== buyerId) throw new NotFound("analysis");
    if (analysis.approvedRevision === 0) {
      throw new AnalysisConflict(analysis.status, "no revision of this analysis is approved by the listing's owner yet");
    }
    const revision = await this.revision(analysis._id, analysis.approvedRevision);
    if (codeHashOf(revision) !== analysis.approvedCodeHash)
      throw new Error(`analysis ${analysis._id}: approved revision does not match its pinned hash`);
    return { analysis, revision };
  }

  /** The latest revision as a unified diff against the approved one (null if none, or the same). */
  async diffFromApproved(a: Analysis & { _id: string }): Promise<string | null> {
    if (a.approvedRevision === 0 || a.approvedCodeHash === a.latestCodeHash) return null;
    const [approved, latest] = await Promise.all([this.revision(a._id, a.approvedRevision), this.revision(a._id, a.latestRevision)]);
    return diffAgainst(approved, latest);
  }

  listForBuyer(buyerId: string, status: AnalysisStatus | null, first: number, after?: string | null): Promise<Page<Stored<Analysis>>> {
    const filter: Filter = status ? { buyerId, status } : { buyerId };
    return this.analyses.find(filter, { sort: LIST_SORT, limit: first, ...(after ? { after } : {}) });
  }

  listForOwner(ownerId: string, status: AnalysisStatus | null, first: number, after?: string | null): Promise<Page<Stored<Analysis>>> {
    const filter: Filter = status ? { ownerId, status } : { ownerId };
    return this.analyses.find(filter, { sort: LIST_SORT, limit: first, ...(after ? { after } : {}) });
  }

  cursorOf(a: Stored<Analysis>): string {
    return encodeCursor(LIST_SORT, a);
  }
}

/** The analysis changed under a conditional update. */
class StateChanged extends Error {}

/**
 * Parses (never runs) the code on the host so a syntax error is reported at submission, with its
 * line; the code itself only ever runs inside the sandbox.
 */
function checkSyntax(source: string): void {
  try {
    new Script(source, { filename: "analysis.js" });
  } catch (e) {
    const line = /analysis\.js:(\d+)/.exec(String((e as Error).stack ?? ""))?.[1];
    throw new InvalidInput([{ path: "input.source", message: `does not parse${line ? ` (line ${line})` : ""}: ${(e as Error).message}` }]);
  }
}
