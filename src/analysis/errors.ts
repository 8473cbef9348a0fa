/** Expected failures of analyses, returned to clients as typed results. */
import { DomainError } from "../errors.ts";

/** The analysis is not in the state the action needs (e.g. already decided, nothing approved). */
export class AnalysisConflict extends DomainError {
  readonly code = "ANALYSIS_CONFLICT";
  /** The analysis's status at the time. */
  readonly status: string;
  constructor(status: string, message: string) {
    super(message);
    this.name = "AnalysisConflict";
    this.status = status;
  }
}
