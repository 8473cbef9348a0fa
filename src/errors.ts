/**
 * Domain failures are data. A service throws a DomainError subclass; GraphQL fields list the
 * classes they may return (Pothos errors plugin), and clients get a typed result with a stable
 * `code`. Anything else is an unexpected fault and is masked by yoga.
 */
import type { ErrorCode } from "./error-codes.ts";
// Our wording for zod's own messages, installed before any input is checked (see the module).
import "./input-wording.ts";

export abstract class DomainError extends Error {
  /** One of the closed set in error-codes.ts: a subclass with any other code does not compile. */
  abstract readonly code: ErrorCode;
}

export class NotFound extends DomainError {
  readonly code = "NOT_FOUND";
  readonly what: string;
  constructor(what: string) {
    super(`${what} not found`);
    this.name = "NotFound";
    this.what = what;
  }
}

export interface InputIssue {
  /** The input field, dotted ("input.email", "rows[3].fare"). */
  path: string;
  message: string;
}

/** Input that failed validation; names every field and rule that failed. Changes nothing. */
export class InvalidInput extends DomainError {
  readonly code = "INVALID_INPUT";
  readonly issues: InputIssue[];
  constructor(issues: InputIssue[]) {
    super(issues.map((i) => `${i.path}: ${i.message}`).join("; "));
    this.name = "InvalidInput";
    this.issues = issues;
  }
}

/** Converts a zod error into InvalidInput, prefixing paths with the argument name. */
export function invalidInputFromZod(error: { issues: Array<{ path: PropertyKey[]; message: string }> }, prefix = "input"): InvalidInput {
  return new InvalidInput(
    error.issues.map((i) => ({
      path: [prefix, ...i.path.map(String)].filter(Boolean).join("."),
      message: i.message,
    })),
  );
}
