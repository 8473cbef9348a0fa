/** A GraphQL error whose `extensions.code` is from the closed set: another code does not compile. */
import { GraphQLError } from "graphql";
import type { ErrorCode } from "../error-codes.ts";

export function codedError(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extensions } });
}
