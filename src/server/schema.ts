/**
 * Assembles the schema: each module registers its types on the shared builder from its
 * `graphql/index.ts`; the run path (src/runs) adds quote and run for queries and analyses.
 */
import type { GraphQLSchema } from "graphql";
import { builder } from "../graphql/builder.ts";
import "../graphql/error-types.ts";
import "../privacy/mechanism/graphql/index.ts";
import "../accounts/graphql/index.ts";
import "../datasets/graphql/index.ts";
import "../audit/graphql/index.ts";
import "../privacy/policy/graphql/index.ts";
import "../catalog/graphql/index.ts";
import "../access/graphql/index.ts";
import "../privacy/budget/graphql/index.ts";
import "../billing/graphql/index.ts";
import "../queries/graphql/index.ts";
import "../analysis/graphql/index.ts";
import "../runs/graphql/index.ts";

let schema: GraphQLSchema | null = null;

export function buildSchema(): GraphQLSchema {
  schema ??= builder.toSchema({ sortSchema: true });
  return schema;
}
