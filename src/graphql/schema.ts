/** Assembles the schema: each module registers its types on the shared builder. */
import type { GraphQLSchema } from "graphql";
import { builder } from "./builder.ts";
import "./error-types.ts";
import "../accounts/graphql/index.ts";

let schema: GraphQLSchema | null = null;

export function buildSchema(): GraphQLSchema {
  schema ??= builder.toSchema({ sortSchema: true });
  return schema;
}
