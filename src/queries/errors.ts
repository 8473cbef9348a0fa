/** Why a query was refused: each rejection names the rule it broke. */
import { DomainError } from "../errors.ts";

/**
 * Every rule a query or analysis can break (the GraphQL enum PolicyRule). Each one is produced
 * somewhere (tests/unit/queries/policy-rules.test.ts has a case per rule), so a client can rely
 * on the rule to say what to change.
 */
export const POLICY_RULES = [
  /** The column does not exist in the dataset version. */
  "UNKNOWN_COLUMN",
  /** The column exists but the policy does not allow it here (not a dimension, not a measure). */
  "COLUMN_NOT_ALLOWED",
  "AGGREGATE_NOT_ALLOWED",
  "VALUE_NOT_IN_KEY_SET",
  /** A filter that cannot be applied as written (wrong kind for the column, empty, lo ≥ hi…). */
  "BAD_FILTER",
  /** The query asks for no aggregate at all. */
  "NO_AGGREGATE",
  "TOO_MANY_AGGREGATES",
  /** The same column appears twice in groupBy. */
  "DUPLICATE_GROUP_BY",
  "TOO_MANY_GROUPS",
  /** A histogram's bin count is outside 2…maxHistogramBins. */
  "BAD_HISTOGRAM_BINS",
  /** ε is not a positive decimal with at most 6 places (the API's Epsilon scalar already refuses it). */
  "BAD_EPSILON",
  "EPSILON_ABOVE_LIMIT",
  "NO_ENTITLEMENT",
  "BUDGET_TOO_SMALL",
  "DERIVED_KEYS_UNAVAILABLE",
] as const;
export type PolicyRule = (typeof POLICY_RULES)[number];

export class PolicyViolation extends DomainError {
  readonly code = "POLICY_VIOLATION";
  readonly rule: PolicyRule;
  /** The input field at fault, e.g. "input.aggregates[1].column". */
  readonly path: string;
  constructor(rule: PolicyRule, path: string, message: string) {
    super(message);
    this.name = "PolicyViolation";
    this.rule = rule;
    this.path = path;
  }
}
