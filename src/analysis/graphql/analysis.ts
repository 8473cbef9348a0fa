/** The Analysis type: visible to the buyer who wrote it and to the owner of its listing. */
import { builder } from "../../graphql/builder.ts";
import type { Stored } from "../../store/port.ts";
import { ANALYSIS_STATUSES, type Analysis, type AnalysisDecisionRecord, type AnalysisOutput, type AnalysisRevision } from "../model.ts";

export const AnalysisStatusEnum = builder.enumType("AnalysisStatus", {
  description: "Of the latest revision: PENDING_REVIEW until the owner decides; REVOKED once an approval is withdrawn.",
  values: ANALYSIS_STATUSES,
});

const AnalysisOutputRef = builder.objectRef<AnalysisOutput>("AnalysisOutput").implement({
  description: "One output of `map`: clamped to [lo, hi]; a unit whose code fails contributes `default`.",
  fields: (t) => ({
    name: t.exposeString("name"),
    lo: t.exposeFloat("lo"),
    hi: t.exposeFloat("hi"),
    default: t.exposeFloat("default"),
  }),
});

export const AnalysisRevisionRef = builder.objectRef<Stored<AnalysisRevision>>("AnalysisRevision").implement({
  description: "One immutable version of the code, its columns and outputs; `codeHash` covers all three.",
  fields: (t) => ({
    revision: t.exposeInt("revision"),
    codeHash: t.exposeString("codeHash"),
    source: t.exposeString("source"),
    columns: t.exposeStringList("columns"),
    outputs: t.field({ type: [AnalysisOutputRef], resolve: (r) => r.outputs }),
    submittedAt: t.expose("submittedAt", { type: "DateTime" }),
  }),
});

const AnalysisDecisionRef = builder.objectRef<AnalysisDecisionRecord>("AnalysisDecisionRecord").implement({
  description: "Who decided on which revision, when and why.",
  fields: (t) => ({
    revision: t.exposeInt("revision"),
    codeHash: t.exposeString("codeHash"),
    decision: t.exposeString("decision", { description: "APPROVED, DENIED or REVOKED." }),
    at: t.expose("at", { type: "DateTime" }),
    reason: t.exposeString("reason"),
  }),
});

export const AnalysisRef = builder.objectRef<Stored<Analysis>>("Analysis");

AnalysisRef.implement({
  description: "Buyer code `map(unitRows) → number[d]` for one listing, reviewed by the listing's owner.",
  authScopes: (a) => ({ $any: { self: a.buyerId, $all: { self: a.ownerId } } }),
  fields: (t) => ({
    id: t.globalID({ resolve: (a) => ({ type: "Analysis", id: a._id }) }),
    listingId: t.globalID({ resolve: (a) => ({ type: "Listing", id: a.listingId }) }),
    buyerId: t.globalID({ resolve: (a) => ({ type: "Account", id: a.buyerId }) }),
    title: t.exposeString("title"),
    status: t.field({ type: AnalysisStatusEnum, resolve: (a) => a.status }),
    latest: t.field({
      type: AnalysisRevisionRef,
      description: "The latest revision: what the owner reviews.",
      resolve: (a, _args, ctx) => ctx.services.analyses.revision(a._id, a.latestRevision),
    }),
    approved: t.field({
      type: AnalysisRevisionRef,
      nullable: true,
      description: "The approved revision (pinned by its hash): what runs execute. Null while none is approved.",
      resolve: (a, _args, ctx) => (a.approvedRevision === 0 ? null : ctx.services.analyses.revision(a._id, a.approvedRevision)),
    }),
    diffFromApproved: t.string({
      nullable: true,
      description: "The latest revision as a unified diff against the approved one; null when none is approved or they are the same.",
      resolve: (a, _args, ctx) => ctx.services.analyses.diffFromApproved(a),
    }),
    decisions: t.field({ type: [AnalysisDecisionRef], resolve: (a) => a.decisions }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    updatedAt: t.expose("updatedAt", { type: "DateTime" }),
  }),
});
