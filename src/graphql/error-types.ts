/** GraphQL shapes of the shared domain errors. Every error type implements `DomainError`. */
import { DomainError, InvalidInput, NotFound, type InputIssue } from "../errors.ts";
import { ERROR_CODES } from "../error-codes.ts";
import { builder } from "./builder.ts";

/** The closed set of error codes (src/error-codes.ts), shared by results and GraphQL errors. */
export const ErrorCodeEnum = builder.enumType("ErrorCode", {
  description: "Every code a result's `code` or a GraphQL error's `extensions.code` can hold; README \"Errors and limits\" says what each means.",
  values: ERROR_CODES,
});

export const DomainErrorInterface = builder.interfaceRef<DomainError>("DomainError").implement({
  description: "An expected failure, returned as data. `code` is stable; `message` is for people.",
  fields: (t) => ({
    code: t.expose("code", { type: ErrorCodeEnum }),
    message: t.exposeString("message"),
  }),
});

const InputIssueRef = builder.objectRef<InputIssue>("InputIssue").implement({
  description: "One rule that one input field broke.",
  fields: (t) => ({
    path: t.exposeString("path", { description: 'The field, e.g. "input.email".' }),
    message: t.exposeString("message"),
  }),
});

builder.objectType(NotFound, {
  name: "NotFound",
  interfaces: [DomainErrorInterface],
  isTypeOf: (v) => v instanceof NotFound,
  fields: (t) => ({ what: t.exposeString("what") }),
});

builder.objectType(InvalidInput, {
  name: "InvalidInput",
  interfaces: [DomainErrorInterface],
  isTypeOf: (v) => v instanceof InvalidInput,
  fields: (t) => ({ issues: t.field({ type: [InputIssueRef], resolve: (e) => e.issues }) }),
});

/** Registers a module's error class as a GraphQL type implementing DomainError. */
export function errorType<T extends DomainError>(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Pothos wants a concrete class
  cls: new (...args: any[]) => T,
  name: string,
  description: string,
): void {
  builder.objectType(cls as unknown as new () => DomainError, {
    name,
    description,
    interfaces: [DomainErrorInterface],
    isTypeOf: (v) => v instanceof cls,
    fields: () => ({}),
  });
}
