/** `Literal`: a string, number or boolean — a public key value (typed like its column) or a range bound. */
import { GraphQLError, Kind } from "graphql";
import { builder } from "./builder.ts";

export const LiteralScalar = builder.scalarType("Literal", {
  description: "A string, number or boolean: a public key value or a range bound.",
  serialize: (v) => v as string | number | boolean,
  parseValue: (v) => {
    if (typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v))) return v;
    throw new GraphQLError("Literal must be a string, a finite number or a boolean");
  },
  parseLiteral: (node) => {
    if (node.kind === Kind.STRING || node.kind === Kind.BOOLEAN) return node.value;
    if (node.kind === Kind.INT || node.kind === Kind.FLOAT) return Number(node.value);
    throw new GraphQLError("Literal must be a string, a number or a boolean");
  },
});
