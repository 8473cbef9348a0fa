/** The price plan as GraphQL: output type (on listings) and the input owners write. */
import { builder } from "../../graphql/builder.ts";
import type { Allowance, PricePlan, Subscription } from "../../../pricing/index.ts";

const AllowanceRef = builder.objectRef<Allowance>("PriceAllowance").implement({
  description: "What a month includes per buyer: queries whose fees are waived and ε whose ε price is waived.",
  fields: (t) => ({ queries: t.exposeInt("queries"), epsilon: t.exposeFloat("epsilon") }),
});

const SubscriptionRef = builder.objectRef<Subscription>("PriceSubscription").implement({
  fields: (t) => ({
    monthlyFee: t.exposeInt("monthlyFee", { description: "Minor units per month." }),
    queries: t.exposeInt("queries"),
    epsilon: t.exposeFloat("epsilon"),
  }),
});

export const PricePlanRef = builder.objectRef<PricePlan>("PricePlan").implement({
  description: "How a listing is priced. Every amount is an integer in minor units of `currency` (fen for cny).",
  fields: (t) => ({
    currency: t.exposeString("currency", { description: 'ISO 4217 code in lower case, e.g. "cny".' }),
    perQueryFee: t.exposeInt("perQueryFee"),
    pricePerEpsilon: t.exposeInt("pricePerEpsilon", { description: "Per whole ε spent (a query at ε 0.1 pays a tenth)." }),
    pricePerMillionRows: t.exposeInt("pricePerMillionRows", { description: "Per million rows scanned, pro rata." }),
    platformFeeBasisPoints: t.exposeInt("platformFeeBasisPoints", { description: "The exchange's share of each charge (1 bp = 0.01 %)." }),
    freeTier: t.field({ type: AllowanceRef, nullable: true, resolve: (p) => p.freeTier }),
    subscription: t.field({ type: SubscriptionRef, nullable: true, resolve: (p) => p.subscription }),
    monthlySpendingCap: t.exposeInt("monthlySpendingCap", { nullable: true, description: "Most a buyer pays for queries per month." }),
  }),
});

const AllowanceInput = builder.inputType("PriceAllowanceInput", {
  fields: (t) => ({ queries: t.int(), epsilon: t.float() }),
});

const SubscriptionInput = builder.inputType("PriceSubscriptionInput", {
  fields: (t) => ({ monthlyFee: t.int({ required: true }), queries: t.int(), epsilon: t.float() }),
});

export const PricePlanInput = builder.inputType("PricePlanInput", {
  description: "Amounts in minor units (fen for cny); omitted amounts are 0, omitted allowances and cap are none.",
  fields: (t) => ({
    currency: t.string({ description: 'ISO 4217 code; "cny" when omitted.' }),
    perQueryFee: t.int(),
    pricePerEpsilon: t.int(),
    pricePerMillionRows: t.int(),
    freeTier: t.field({ type: AllowanceInput }),
    subscription: t.field({ type: SubscriptionInput }),
    monthlySpendingCap: t.int(),
  }),
});
