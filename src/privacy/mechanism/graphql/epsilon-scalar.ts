/**
 * `Epsilon`: every ε the API takes or gives, one type instead of String here and Float there.
 *
 * Input: a JSON number (0.1) or a decimal string ("0.1"), greater than 0, at most 6 decimal
 * places (ε is kept as integer micro-ε, so a finer value could not be spent exactly) and at most
 * EPSILON_MAX (the largest budget a policy may declare; a per-query ε is then checked against
 * the policy's own limit, as before). A string with spaces around it is refused rather than
 * trimmed: the wire form has one spelling, like a GraphQL number. The value handed to resolvers
 * is a JS number whose shortest decimal form is the exact ε asked for.
 *
 * Output: a JSON number. Amounts spent or left may be 0, so output allows 0; it is never
 * negative or non-finite.
 */
import { GraphQLError, Kind } from "graphql";
import { epsilonToNumber, parseEpsilon } from "../index.ts";
import { POLICY_LIMITS } from "../../policy/index.ts";
import { builder } from "../../../graphql/builder.ts";

export const EPSILON_MAX = POLICY_LIMITS.maxBudget;

/** The ε a caller sent, or a GraphQLError saying in our words why it is not one. */
export function parseEpsilonInput(value: unknown): number {
  if (typeof value === "string" && value !== value.trim()) throw new GraphQLError('ε must be written without spaces around it, e.g. "0.1"');
  if (typeof value !== "string" && typeof value !== "number") throw new GraphQLError('ε must be a number or a decimal string, e.g. 0.1 or "0.1"');
  let epsilon: number;
  try {
    epsilon = epsilonToNumber(parseEpsilon(value));
  } catch (e) {
    throw new GraphQLError((e as Error).message);
  }
  if (epsilon > EPSILON_MAX) throw new GraphQLError(`ε must be at most ${EPSILON_MAX}`);
  return epsilon;
}

export const EpsilonScalar = builder.scalarType("Epsilon", {
  description: `ε of differential privacy. Input: a number or a decimal string ("0.1"), greater than 0, at most 6 decimal places, at most ${EPSILON_MAX}, no surrounding spaces. Output: a number; an amount spent or left may be 0.`,
  serialize: (value) => {
    const n = typeof value === "string" && /^\d+(\.\d+)?$/.test(value) ? Number(value) : value;
    if (typeof n !== "number" || !Number.isFinite(n) || n < 0) throw new GraphQLError(`not an ε amount: ${String(value)}`);
    return n;
  },
  parseValue: parseEpsilonInput,
  parseLiteral: (node) => {
    if (node.kind === Kind.INT || node.kind === Kind.FLOAT || node.kind === Kind.STRING)
      return parseEpsilonInput(
        node.kind === Kind.STRING ? node.value : node.value.includes("e") || node.value.includes("E") ? Number(node.value) : node.value,
      );
    throw new GraphQLError('ε must be a number or a decimal string, e.g. 0.1 or "0.1"');
  },
});
