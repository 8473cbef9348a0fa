/**
 * Owner-approved analysis code. A buyer with access to a listing submits JavaScript
 * `map(unitRows) → number[d]` with declared output ranges; the listing's owner reads it and
 * approves or denies; approval pins the revision's code hash. Every change is a new, immutable
 * revision that needs its own approval, and runs only ever execute the approved revision.
 */
import type { IndexSpec } from "../store/port.ts";

export const ANALYSIS_STATUSES = ["PENDING_REVIEW", "APPROVED", "DENIED", "REVOKED"] as const;
/** The state of the latest revision (APPROVED: the latest revision is the approved one). */
export type AnalysisStatus = (typeof ANALYSIS_STATUSES)[number];

/** One declared output of `map`: its name, the range it is clamped to, and a failed unit's value. */
export interface AnalysisOutput {
  name: string;
  lo: number;
  hi: number;
  default: number;
}

/** What the owner approves, all of it covered by `codeHash`. */
export interface AnalysisSpec {
  source: string;
  /** The columns each unit row carries (the policy's dimensions and measures only). */
  columns: string[];
  outputs: AnalysisOutput[];
}

/** `_id` is `${analysisId}#${revision}`; never changed once written. */
export interface AnalysisRevision extends AnalysisSpec {
  analysisId: string;
  revision: number;
  /** sha256 over the canonical JSON of the spec (source, columns, outputs). */
  codeHash: string;
  submittedAt: string;
}

export interface AnalysisDecisionRecord {
  revision: number;
  codeHash: string;
  decision: "APPROVED" | "DENIED" | "REVOKED";
  by: string;
  at: string;
  reason: string;
}

/** `_id` is "ana_…". */
export interface Analysis {
  listingId: string;
  datasetId: string;
  ownerId: string;
  buyerId: string;
  title: string;
  status: AnalysisStatus;
  latestRevision: number;
  latestCodeHash: string;
  /** The pinned revision runs execute; 0 / "" while none is approved. */
  approvedRevision: number;
  approvedCodeHash: string;
  decisions: AnalysisDecisionRecord[];
  createdAt: string;
  updatedAt: string;
  /** Ids of the audit events written with this document's changes (for audit repair). */
  auditEventIds: string[];
}

export const ANALYSIS_COLLECTION: { name: string; indexes: IndexSpec[] } = {
  name: "analyses",
  indexes: [{ fields: ["buyerId", "updatedAt"] }, { fields: ["ownerId", "updatedAt"] }],
};

export const REVISION_COLLECTION: { name: string; indexes: IndexSpec[] } = {
  name: "analysis_revisions",
  indexes: [{ fields: ["analysisId", "revision"], unique: true }],
};

export const ANALYSIS_LIMITS = {
  maxSourceChars: 64 * 1024,
  maxOutputs: 32,
  maxTitle: 200,
  maxRevisions: 100,
  maxOutputName: 64,
  maxBound: 1e12,
} as const;

export function revisionId(analysisId: string, revision: number): string {
  return `${analysisId}#${revision}`;
}
