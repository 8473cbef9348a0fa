/** Expected failures of access requests, returned to clients as typed results. */
import { DomainError } from "../errors.ts";

/** The request clashes with the current state: one already open, or already decided. */
export class AccessRequestConflict extends DomainError {
  readonly code = "ACCESS_REQUEST_CONFLICT";
  /** The status of the request that is in the way. */
  readonly status: string;
  constructor(status: string, message: string) {
    super(message);
    this.name = "AccessRequestConflict";
    this.status = status;
  }
}
