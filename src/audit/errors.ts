import { DomainError } from "../errors.ts";

/** The stored log contradicts itself (a gap, an entry that no longer hashes to its leaf, a fork). */
export class AuditIntegrityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AuditIntegrityError";
  }
}

/** The same event id was recorded again with different content. A programming error. */
export class AuditEventConflict extends Error {
  constructor(eventId: string) {
    super(`audit event ${eventId} was already recorded with different content`);
    this.name = "AuditEventConflict";
  }
}

/** A tree size, index or range the log cannot prove (beyond its current size, inverted…). */
export class ProofUnavailable extends DomainError {
  readonly code = "PROOF_UNAVAILABLE";
  constructor(message: string) {
    super(message);
    this.name = "ProofUnavailable";
  }
}
