/** Pure pricing: plans, quotes, rating and fee splits. No I/O; imports nothing from src/. */
export type { Allowance, PlanIssue, PricePlan, Subscription } from "./plan.ts";
export { MAX_EPSILON, MAX_MINOR_UNITS, freePlan, planHasMonthlyState, pricePlanSchema, validatePricePlan } from "./plan.ts";
export type { Entitlement, MonthToDate, QueryPrice, QueryUsage } from "./quote.ts";
export { EMPTY_MONTH, advanceMonth, priceQuery, quoteQuery, rateUsage } from "./quote.ts";
export type { FeeSplit } from "./split.ts";
export { splitPlatformFee } from "./split.ts";
export { MICRO_PER_EPSILON, toMicroEpsilon } from "./money.ts";
export { monthOf } from "./month.ts";
