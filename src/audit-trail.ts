/**
 * What every module writes into the audit log. Events hold pseudonymous ids, hashes and
 * numbers: never raw rows, query results, secrets or personal data (no emails, no names).
 */
import type { JsonValue } from "./store/port.ts";

export interface AuditEventInput {
  /** The account that acted ("acc_…"), or "system" for the service itself. */
  actor: string;
  /** Dotted verb, e.g. "account.signed_up", "dataset.version_created", "ledger.transfer_posted". */
  action: string;
  /** Ids of what the event is about, e.g. { datasetId: "ds_…", listingId: "lst_…" }. */
  subject: Record<string, string>;
  /** Further facts: numbers, hashes, canonical IRs. No raw data. */
  data?: Record<string, JsonValue>;
  /**
   * Optional, unique per event. Give a deterministic one (e.g. "account.signed_up:acc_…") to make
   * recording idempotent: recording the same id again returns the first entry instead of a second.
   * The same id with different content is refused.
   */
  eventId?: string;
}

export interface RecordedEvent {
  /** The entry's position in the log (its Merkle leaf index), from 0. */
  seq: number;
  /** Hex SHA-256(0x00 ‖ canonical entry JSON). */
  leafHash: string;
  eventId?: string;
}

export interface AuditRecorder {
  record(event: AuditEventInput): Promise<RecordedEvent>;
}

/** An event promised before its fact was written, as the drift repair sees it. */
export interface PendingEvent {
  eventId: string;
  actor: string;
  action: string;
  subject: Record<string, string>;
  data: Record<string, JsonValue>;
  createdAt: string;
}

/** Answers whether the fact behind a pending event was written (read your own collections only). */
export type FactCheck = (event: PendingEvent) => Promise<boolean>;

/**
 * Writes whose fact and audit event must never drift apart (see src/audit/drift.ts):
 *
 *   audit.drift.registerFactCheck(ACTIONS.x, async (e) => (await myColl.get(e.subject.xId)) !== null);
 *   await audit.drift.withEvent({ eventId: `x:${id}`, actor, action: ACTIONS.x, subject, data },
 *                               () => myColl.insert({ _id: id, ... }));
 *
 * The event id must be deterministic for the fact (derived from its id), and the whole event must
 * be known before the write. A crash between the write and the event is repaired at start.
 */
export interface AuditedWrites {
  registerFactCheck(action: string, check: FactCheck): void;
  withEvent<T>(event: AuditEventInput & { eventId: string }, write: () => Promise<T>): Promise<T>;
}

/** What a module takes as its audit dependency: plain recording plus drift-safe writes. */
export interface AuditTrail extends AuditRecorder {
  drift: AuditedWrites;
}
