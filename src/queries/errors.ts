/** Why a query was refused: each rejection names the rule it broke. */
import { DomainError } from "../errors.ts";

export const POLICY_RULES = [
  "UNKNOWN_COLUMN",
  "COLUMN_NOT_ALLOWED",
  "AGGREGATE_NOT_ALLOWED",
  "VALUE_NOT_IN_KEY_SET",
  "BAD_FILTER",
  "TOO_MANY_AGGREGATES",
  "TOO_MANY_GROUPS",
  "EPSILON_ABOVE_LIMIT",
  "NO_ENTITLEMENT",
  "BUDGET_TOO_SMALL",
  "NO_POLICY",
  "VERSION_NOT_FOUND",
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
