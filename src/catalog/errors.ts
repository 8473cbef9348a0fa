/** Expected failures of the catalog, returned to clients as typed results. */
import { DomainError } from "../errors.ts";

/** The status change is not allowed from the listing's current status (or not for this actor). */
export class ListingStatusConflict extends DomainError {
  readonly code = "LISTING_STATUS_CONFLICT";
  readonly status: string;
  constructor(status: string, message: string) {
    super(message);
    this.name = "ListingStatusConflict";
    this.status = status;
  }
}

/** A listing cannot be published (or queried) before its dataset has a privacy policy. */
export class PolicyRequired extends DomainError {
  readonly code = "POLICY_REQUIRED";
  constructor() {
    super("declare a privacy policy for this dataset before publishing a listing of it");
    this.name = "PolicyRequired";
  }
}
