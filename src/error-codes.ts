/**
 * The closed vocabulary of error codes: every DomainError's `code`, every GraphQL error's
 * `extensions.code` and every error body of the HTTP routes is one of these. Clients switch on
 * them, so the set only grows, and README's "Errors and limits" table lists exactly these
 * (tests/unit/error-codes.test.ts fails when the two differ). Imports nothing: any module may use it.
 */

/** Codes of typed results (a DomainError subclass, returned as data). */
export const DOMAIN_ERROR_CODES = [
  "INVALID_INPUT",
  "NOT_FOUND",
  "EMAIL_TAKEN",
  "WEAK_PASSWORD",
  "INVALID_CREDENTIALS",
  "DATASET_NAME_TAKEN",
  "DATASET_NOT_READY",
  "UPLOAD_REJECTED",
  "POLICY_REQUIRED",
  "BUDGET_BELOW_SPENT",
  "LISTING_STATUS_CONFLICT",
  "ACCESS_REQUEST_CONFLICT",
  "ANALYSIS_CONFLICT",
  "POLICY_VIOLATION",
  "BUDGET_EXHAUSTED",
  "BUDGET_DEBIT_CONFLICT",
  "QUERY_IN_PROGRESS",
  "INSUFFICIENT_CREDIT",
  "PRICE_CHANGED",
  "IDEMPOTENCY_CONFLICT",
  "HOLD_ALREADY_RESOLVED",
  "PAYMENTS_UNAVAILABLE",
  "PAYMENT_RAIL_ERROR",
  "PAYOUT_ACCOUNT_NOT_READY",
  "BELOW_PAYOUT_THRESHOLD",
  "NO_SUBSCRIPTION_OFFERED",
  "PROOF_UNAVAILABLE",
  "ENGINE_UNAVAILABLE",
] as const;

/**
 * Codes of GraphQL errors (`errors[].extensions.code`) and of the HTTP routes' error bodies.
 * UNAUTHENTICATED is also a DomainError (accounts/errors.ts) that the transport turns into an
 * HTTP 401. BAD_REQUEST, REQUEST_ENTITY_TOO_LARGE, GRAPHQL_PARSE_FAILED,
 * GRAPHQL_VALIDATION_FAILED and OPERATION_RESOLUTION_FAILURE are graphql-yoga's own codes (a body
 * that is not a GraphQL request, too big, a document that does not parse or does not fit the
 * schema, an operationName that names nothing); they are listed because callers see them too.
 */
export const GRAPHQL_ERROR_CODES = [
  "UNAUTHENTICATED",
  "NOT_AUTHORIZED",
  "BAD_USER_INPUT",
  "COST_LIMIT_EXCEEDED",
  "RATE_LIMITED",
  "BAD_REQUEST",
  "REQUEST_ENTITY_TOO_LARGE",
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "OPERATION_RESOLUTION_FAILURE",
  "INTERNAL_SERVER_ERROR",
] as const;

/** Codes only the plain HTTP routes answer (src/http/errors.ts), in `{ error: { code, message, requestId } }`. */
export const HTTP_ERROR_CODES = ["METHOD_NOT_ALLOWED", "UNSUPPORTED_MEDIA_TYPE", "PAYLOAD_TOO_LARGE", "SHUTTING_DOWN", "NOT_READY"] as const;

export const ERROR_CODES = [...DOMAIN_ERROR_CODES, ...GRAPHQL_ERROR_CODES, ...HTTP_ERROR_CODES] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && (ERROR_CODES as readonly string[]).includes(value);
}
