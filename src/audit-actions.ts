/**
 * The events every module writes, with the subject ids and data fields the regulator's reports
 * read. Subjects name every party a regulator searches by: put `ownerId` and `buyerId` (account
 * ids) next to `datasetId`/`listingId` so reports need no joins. Amounts are integer minor units
 * with an ISO currency; ε is a number. Never raw rows, query results, emails, names or secrets:
 * hashes (hex SHA-256) stand in for content.
 *
 * Emit them with the typed helper `auditEvent(ACTIONS.x, { actor, subject, data })`.
 */
import type { JsonValue } from "./store/port.ts";
import type { AuditEventInput } from "./audit-trail.ts";

export const ACTIONS = {
  // accounts (emitted by src/accounts)
  accountSignedUp: "account.signed_up",
  accountCreated: "account.created",
  roleGranted: "account.role_granted",
  roleRevoked: "account.role_revoked",
  apiKeyCreated: "api_key.created",
  apiKeyRevoked: "api_key.revoked",
  // datasets and catalog
  datasetCreated: "dataset.created",
  datasetVersionCreated: "dataset.version_created",
  policyChanged: "dataset.policy_changed",
  /** The owner spent ε on a DP contribution profile of a version (suggestPolicyBounds), kept with a new policy version. */
  policyProfiled: "policy.profiled",
  listingStateChanged: "listing.state_changed",
  // access
  accessRequested: "access.requested",
  accessDecided: "access.decided",
  analysisCodeApproved: "analysis.code_approved",
  // queries and privacy
  queryExecuted: "query.executed",
  /** Written by src/privacy/budget (its BUDGET_ACTIONS): the ε report sums these. */
  privacyBudgetDebited: "privacy.budget_debited",
  privacyBudgetRefused: "privacy.budget_refused",
  // money
  tradeSettled: "trade.settled",
  ledgerTransferPosted: "ledger.transfer_posted",
  stripeEventReceived: "stripe.event_received",
  payoutSent: "payout.sent",
} as const;

export type AuditAction = (typeof ACTIONS)[keyof typeof ACTIONS];

type Ids<K extends string> = { [P in K]: string };

/** What a trade.settled event records: a sale, or money going back (refund) or out to an owner (payout). */
export const TRADE_KINDS = ["access", "query", "subscription", "analysis", "refund", "payout", "payout_reversal"] as const;
export type TradeKind = (typeof TRADE_KINDS)[number];
/** Kinds that are sales: what revenue counts. */
export const SALE_KINDS: readonly TradeKind[] = ["access", "query", "subscription", "analysis"];
type Opt<K extends string> = { [P in K]?: string };

/** Subject ids and data per action. Optional subject ids may be left out when they do not exist. */
export interface AuditEventShapes {
  "account.signed_up": { subject: Ids<"accountId">; data: { roles: string[] } };
  "account.created": { subject: Ids<"accountId">; data: { roles: string[] } };
  "account.role_granted": { subject: Ids<"accountId">; data: { role: string } };
  "account.role_revoked": { subject: Ids<"accountId">; data: { role: string } };
  "api_key.created": { subject: Ids<"accountId" | "apiKeyId">; data: Record<string, never> };
  "api_key.revoked": { subject: Ids<"accountId" | "apiKeyId">; data: Record<string, never> };

  "dataset.created": { subject: Ids<"datasetId" | "ownerId">; data: { schemaHash?: string } };
  /** A new immutable version: its content hash, row count and schema hash (never its rows). */
  "dataset.version_created": {
    subject: Ids<"datasetId" | "ownerId" | "versionId">;
    data: { version: number; contentHash: string; rows: number; schemaHash: string };
  };
  /** The privacy policy's canonical JSON hash and its headline numbers. */
  "dataset.policy_changed": {
    subject: Ids<"datasetId" | "ownerId"> & Opt<"policyId">;
    data: { policyHash: string; epsilonTotal?: number; minGroupSize?: number };
  };
  /** A DP contribution profile: the ε it spent (also debited from the dataset's budget), the version it describes, its hash. */
  "policy.profiled": {
    subject: Ids<"datasetId" | "ownerId" | "policyId" | "profileId">;
    data: { epsilon: number; datasetVersion: number; profileHash: string; reason: string };
  };
  "listing.state_changed": {
    subject: Ids<"listingId" | "datasetId" | "ownerId">;
    data: { from: string | null; to: string; priceMinor?: number; currency?: string };
  };

  /** `purpose` is the buyer's stated purpose as given (a short text chosen by the buyer). */
  "access.requested": {
    subject: Ids<"requestId" | "datasetId" | "ownerId" | "buyerId"> & Opt<"listingId">;
    data: { purpose: string };
  };
  "access.decided": {
    subject: Ids<"requestId" | "datasetId" | "ownerId" | "buyerId"> & Opt<"listingId">;
    data: { decision: "approved" | "rejected" | "revoked"; purpose: string; reason?: string };
  };
  "analysis.code_approved": {
    subject: Ids<"datasetId" | "ownerId" | "buyerId"> & Opt<"codeId" | "listingId">;
    data: { codeHash: string };
  };

  /**
   * One answered query. `ir` is the canonical query IR (columns, filters, aggregates; no
   * values from the data), `resultDigest` a hex SHA-256 of the released answer, never the answer.
   */
  "query.executed": {
    subject: Ids<"queryId" | "datasetId" | "ownerId" | "buyerId"> & Opt<"listingId" | "versionId">;
    data: {
      ir: JsonValue;
      epsilon: number;
      priceMinor: number;
      currency: string;
      rowsScanned: number;
      resultDigest: string;
    };
  };

  /** ε charged to a buyer's and a dataset's budget before an answer is released (micro-ε, an integer). */
  "privacy.budget_debited": { subject: Ids<"datasetId" | "buyerId">; data: { epsilonMicro: number; queryId: string } };
  "privacy.budget_refused": { subject: Ids<"datasetId" | "buyerId">; data: { epsilonMicro: number; queryId: string; cap?: string } };

  /**
   * Money changing hands for data: a sale (query, analysis, subscription, access), a refund of one,
   * or an owner's payout (and its reversal when the rail fails it). The revenue reports sum them by kind.
   */
  "trade.settled": {
    subject: Ids<"tradeId" | "ownerId"> & Opt<"datasetId" | "buyerId" | "listingId" | "queryId" | "transferId">;
    /** `platformFeeMinor` is the exchange's share of `amountMinor`; `runId` the query or analysis run it paid for. */
    data: {
      kind: TradeKind;
      amountMinor: number;
      currency: string;
      platformFeeMinor?: number;
      runId?: string;
    };
  };
  "ledger.transfer_posted": {
    subject: Ids<"transferId"> & Opt<"debitAccountId" | "creditAccountId" | "holdId">;
    data: { kind: string; amountMinor: number; currency: string; idempotencyKeyHash: string };
  };
  "stripe.event_received": { subject: Ids<"stripeEventId"> & Opt<"accountId">; data: { type: string; amountMinor?: number; currency?: string } };
  "payout.sent": { subject: Ids<"payoutId" | "ownerId"> & Opt<"transferId">; data: { amountMinor: number; currency: string; rail: string } };
}

type EventOf<A extends keyof AuditEventShapes> = {
  actor: string;
  subject: AuditEventShapes[A]["subject"];
  data: AuditEventShapes[A]["data"];
  eventId?: string;
};

/** Builds a well-typed AuditEventInput for a catalogued action (with a deterministic eventId if given). */
export function auditEvent<A extends keyof AuditEventShapes>(
  action: A,
  event: EventOf<A> & { eventId: string },
): AuditEventInput & { eventId: string };
export function auditEvent<A extends keyof AuditEventShapes>(action: A, event: EventOf<A>): AuditEventInput;
export function auditEvent<A extends keyof AuditEventShapes>(action: A, event: EventOf<A>): AuditEventInput {
  return {
    actor: event.actor,
    action,
    subject: event.subject as Record<string, string>,
    data: event.data as unknown as Record<string, JsonValue>,
    ...(event.eventId !== undefined ? { eventId: event.eventId } : {}),
  };
}

/** The actor for things the service does on its own (repairs, the seed, webhooks). */
export const SYSTEM_ACTOR = "system";
