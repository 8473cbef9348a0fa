/** Money in GraphQL: integer minor units that may exceed GraphQL's 32-bit Int (platform totals). */
import { GraphQLError } from "graphql";
import { builder } from "../../graphql/builder.ts";

export const MinorUnits = builder.scalarType("MinorUnits", {
  description: "An amount in a currency's minor unit (fen for CNY, cents for USD): a JSON integer up to 2^53 − 1.",
  serialize: (v) => {
    if (typeof v !== "number" || !Number.isSafeInteger(v)) throw new GraphQLError("MinorUnits must be a safe integer");
    return v;
  },
  parseValue: (v) => {
    if (typeof v !== "number" || !Number.isSafeInteger(v)) throw new GraphQLError("MinorUnits must be an integer number of minor units");
    return v;
  },
});

export const PaymentRailEnum = builder.enumType("PaymentRail", {
  description: "STRIPE: real payments through Stripe. OFFLINE: the demo rail (admin grants, instant top-ups); never in production.",
  values: { STRIPE: { value: "stripe" }, OFFLINE: { value: "offline" } } as const,
});
