/**
 * The one SchemaBuilder. Plugins: relay (global ids, connections), scope-auth (who may see and
 * do what: every root field declares its scopes), errors (domain failures as typed results).
 * Relay comes first so auth sees decoded global ids; scope-auth before errors so an
 * unauthorised call never reaches a resolver.
 */
import SchemaBuilder from "@pothos/core";
import RelayPlugin from "@pothos/plugin-relay";
import ScopeAuthPlugin from "@pothos/plugin-scope-auth";
import ErrorsPlugin from "@pothos/plugin-errors";
import { GraphQLError } from "graphql";
import { hasRole, type GraphQLContext } from "./context.ts";

export const NOT_AUTHORIZED = "NOT_AUTHORIZED" satisfies import("../error-codes.ts").ErrorCode;

export interface AuthScopes {
  /** Anyone, signed in or not. */
  public: boolean;
  signedIn: boolean;
  owner: boolean;
  buyer: boolean;
  regulator: boolean;
  admin: boolean;
  /** The caller is the account with this id (or has just signed in as it in this request). */
  self: string;
}

export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  AuthScopes: AuthScopes;
  DefaultFieldNullability: false;
  Scalars: {
    DateTime: { Input: string; Output: string };
    /** A multipart upload (GraphQL multipart request spec; registered by src/datasets/graphql/file-scalar.ts). */
    File: { Input: File; Output: never };
    /** Integer minor units of a currency, up to 2^53 − 1 (registered by src/billing/graphql/scalars.ts). */
    MinorUnits: { Input: number; Output: number };
    /** A public key value or range bound (registered by src/queries/graphql/inputs.ts). */
    Literal: { Input: string | number | boolean; Output: string | number | boolean };
    /** ε: > 0 on input, a number ≥ 0 on output (registered by src/graphql/epsilon-scalar.ts). */
    Epsilon: { Input: number; Output: number | string };
  };
}>({
  plugins: [RelayPlugin, ScopeAuthPlugin, ErrorsPlugin],
  defaultFieldNullability: false,
  relay: {
    // No generic node(id) lookup: every type is reached through a field that checks access.
    nodeQueryOptions: false,
    nodesQueryOptions: false,
    clientMutationId: "omit",
    cursorType: "String",
  },
  scopeAuth: {
    authScopes: (ctx) => ({
      public: true,
      signedIn: ctx.principal !== null,
      owner: hasRole(ctx, "OWNER"),
      buyer: hasRole(ctx, "BUYER"),
      regulator: hasRole(ctx, "REGULATOR"),
      admin: hasRole(ctx, "ADMIN"),
      self: (accountId: string) => ctx.principal?.account._id === accountId || ctx.signedInNow.has(accountId),
    }),
    // One error for every refusal, whatever the rule: a caller learns nothing from it.
    unauthorizedError: () => new GraphQLError("not authorized", { extensions: { code: NOT_AUTHORIZED } }),
  },
  errors: {
    defaultTypes: [],
  },
});

builder.scalarType("DateTime", {
  description: "An instant as an ISO-8601 string in UTC, e.g. 2026-11-28T12:00:00.000Z",
  serialize: (v) => v,
  parseValue: (v) => {
    if (typeof v !== "string" || Number.isNaN(Date.parse(v))) throw new GraphQLError("DateTime must be an ISO-8601 string");
    return new Date(v).toISOString();
  },
});

builder.queryType({});
builder.mutationType({});
