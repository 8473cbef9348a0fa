/**
 * What every module writes into the audit log. Events hold pseudonymous ids, hashes and
 * numbers: never raw rows, query results, secrets or personal data (no emails, no names).
 */
import type { JsonValue } from "../store/port.ts";

export interface AuditEventInput {
  /** The account that acted ("acc_…"), or "system" for the service itself. */
  actor: string;
  /** Dotted verb, e.g. "account.signed_up", "dataset.version_created", "ledger.transfer_posted". */
  action: string;
  /** Ids of what the event is about, e.g. { datasetId: "ds_…", listingId: "lst_…" }. */
  subject: Record<string, string>;
  /** Further facts: numbers, hashes, canonical IRs. No raw data. */
  data?: Record<string, JsonValue>;
}

export interface RecordedEvent {
  seq: number;
  leafHash: string;
}

export interface AuditRecorder {
  record(event: AuditEventInput): Promise<RecordedEvent>;
}
