/**
 * Access requests: a buyer asks for access to a listing with a stated purpose; the owner
 * approves or denies it with a reason (instant-access listings approve on their own). An
 * APPROVED request is the buyer's entitlement to query the listing until the owner revokes it.
 */
import type { IndexSpec } from "../store/port.ts";

export const ACCESS_STATUSES = ["PENDING", "APPROVED", "DENIED", "REVOKED"] as const;
export type AccessStatus = (typeof ACCESS_STATUSES)[number];

/** Who decided, when and why. `by` is an account id, or "system" for instant access. */
export interface AccessDecisionRecord {
  by: string;
  at: string;
  reason: string;
}

/** `_id` is "acr_…". */
export interface AccessRequest {
  listingId: string;
  datasetId: string;
  ownerId: string;
  buyerId: string;
  /** The buyer's stated purpose, as given (not personal data; the audit log holds its SHA-256). */
  purpose: string;
  purposeSha256: string;
  status: AccessStatus;
  /**
   * `${buyerId}:${listingId}` while PENDING or APPROVED, `closed:${_id}` after: a unique index on
   * it allows one open request per buyer and listing without a read-then-write race.
   */
  openKey: string;
  createdAt: string;
  decision: AccessDecisionRecord | null;
  revocation: AccessDecisionRecord | null;
  /** Ids of the audit events of this request's changes, written with each change (for audit repair). */
  auditEventIds: string[];
}

export const ACCESS_COLLECTION: { name: string; indexes: IndexSpec[] } = {
  name: "access_requests",
  indexes: [
    { fields: ["openKey"], unique: true },
    { fields: ["buyerId", "createdAt"] },
    { fields: ["ownerId", "createdAt"] },
    { fields: ["buyerId", "datasetId", "status"] },
  ],
};

export function openKeyOf(buyerId: string, listingId: string): string {
  return `${buyerId}:${listingId}`;
}
