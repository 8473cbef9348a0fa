/**
 * Every GraphQL error leaves with a code from the closed set (src/error-codes.ts). yoga codes
 * parse and validation errors and masks unexpected faults as INTERNAL_SERVER_ERROR, but two kinds
 * of error reach the response without one: a variable that does not coerce ("$e got invalid
 * value…", our scalars' own words included) and a GraphQLError raised while reading arguments
 * (Pothos relay's "Invalid global ID"). Both are the caller's input, so both get BAD_USER_INPUT.
 * Wired in src/server/yoga.ts after the other plugins.
 */
import { GraphQLError } from "graphql";
import type { Plugin } from "graphql-yoga";
import { isErrorCode, type ErrorCode } from "../../error-codes.ts";

const INPUT: ErrorCode = "BAD_USER_INPUT";

/** The error with a code: its own when it has one from the set, else BAD_USER_INPUT. */
export function withErrorCode(error: GraphQLError): GraphQLError {
  if (isErrorCode(error.extensions?.["code"])) return error;
  return new GraphQLError(error.message, {
    nodes: error.nodes ?? null,
    source: error.source ?? null,
    positions: error.positions ?? null,
    path: error.path ?? null,
    originalError: error.originalError ?? null,
    extensions: { ...error.extensions, code: INPUT },
  });
}

export function useErrorCodes(): Plugin {
  return {
    onExecute() {
      return {
        onExecuteDone({ result, setResult }) {
          if (Symbol.asyncIterator in result || !result.errors?.length) return;
          setResult({ ...result, errors: result.errors.map((e) => withErrorCode(e as GraphQLError)) });
        },
      };
    },
  };
}
