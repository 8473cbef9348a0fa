/**
 * Quoting a query before it runs and rating its metered usage after: one pure function of
 * (plan, usage, the buyer's month so far on this listing, whether the buyer subscribes).
 * Deterministic, integer-exact, and free of arbitrage: more ε never costs less, and splitting
 * a query's ε over several queries never costs less than buying it at once.
 */
import type { PricePlan } from "./plan.ts";
import { MICRO_PER_EPSILON, assertNonNegativeInteger, mulDivCeil, toMicroEpsilon } from "./money.ts";
import { splitPlatformFee } from "./split.ts";

/** What a query uses: estimated before it runs (a quote), measured after (rating). */
export interface QueryUsage {
  /** ε the query spends. */
  epsilon: number;
  /** Rows the kernel scans (estimate for a quote, count for rating). */
  rowsScanned: number;
}

/** The buyer's month so far on one listing, counted by billing; zeros at the start of a month. */
export interface MonthToDate {
  /** Queries already counted this month (held or charged). */
  queries: number;
  /** ε already counted this month, in micro-ε. */
  microEpsilon: number;
  /** Query charges already counted this month (minor units), for the spending cap. */
  charged: number;
}

export const EMPTY_MONTH: MonthToDate = { queries: 0, microEpsilon: 0, charged: 0 };

export interface QueryPrice {
  currency: string;
  /** What the buyer pays for this query (minor units). */
  amount: number;
  /** The platform's part of `amount`; `platformFee + ownerShare === amount` always. */
  platformFee: number;
  ownerShare: number;
  /** ε as metered (micro-ε, rounded up). */
  microEpsilon: number;
  /** Components before allowances and cap. */
  list: { perQueryFee: number; epsilon: number; rows: number };
  /** What the month's allowance waived of each component. */
  waived: { perQueryFee: number; epsilon: number; rows: number };
  /** How much the monthly spending cap took off. */
  capped: number;
  /** Whether this query used one of the month's included queries. */
  includedQuery: boolean;
  /** Included micro-ε this query used. */
  includedMicroEpsilon: number;
}

export interface Entitlement {
  /** The buyer holds an active subscription to this listing's plan. */
  subscribed: boolean;
}

/** Prices one query. Throws RangeError on usage that is not finite, negative or fractional rows. */
export function priceQuery(
  plan: PricePlan,
  usage: QueryUsage,
  month: MonthToDate = EMPTY_MONTH,
  entitlement: Entitlement = { subscribed: false },
): QueryPrice {
  assertNonNegativeInteger(usage.rowsScanned, "rowsScanned");
  assertNonNegativeInteger(month.queries, "month.queries");
  assertNonNegativeInteger(month.microEpsilon, "month.microEpsilon");
  assertNonNegativeInteger(month.charged, "month.charged");
  const microEpsilon = toMicroEpsilon(usage.epsilon);

  const list = {
    perQueryFee: plan.perQueryFee,
    epsilon: mulDivCeil(microEpsilon, plan.pricePerEpsilon, MICRO_PER_EPSILON),
    rows: mulDivCeil(usage.rowsScanned, plan.pricePerMillionRows, 1_000_000),
  };

  const sub = entitlement.subscribed ? plan.subscription : null;
  const includedQueries = (plan.freeTier?.queries ?? 0) + (sub?.queries ?? 0);
  const includedMicro = toMicroEpsilon(plan.freeTier?.epsilon ?? 0) + toMicroEpsilon(sub?.epsilon ?? 0);

  const includedQuery = month.queries < includedQueries;
  const remainingMicro = Math.max(0, includedMicro - month.microEpsilon);
  const includedMicroEpsilon = Math.min(microEpsilon, remainingMicro);
  // The ε component is charged on the part beyond the allowance, as a whole, so the
  // rounding up happens once over the billable ε (never twice on parts of one query).
  const billableEpsilon = mulDivCeil(microEpsilon - includedMicroEpsilon, plan.pricePerEpsilon, MICRO_PER_EPSILON);

  const waived = {
    perQueryFee: includedQuery ? list.perQueryFee : 0,
    epsilon: list.epsilon - billableEpsilon,
    rows: includedQuery ? list.rows : 0,
  };
  const gross = list.perQueryFee - waived.perQueryFee + billableEpsilon + list.rows - waived.rows;
  const headroom = plan.monthlySpendingCap === null ? Infinity : Math.max(0, plan.monthlySpendingCap - month.charged);
  const amount = Math.min(gross, headroom);
  const { platformFee, ownerShare } = splitPlatformFee(amount, plan.platformFeeBasisPoints);
  return {
    currency: plan.currency,
    amount,
    platformFee,
    ownerShare,
    microEpsilon,
    list,
    waived,
    capped: gross - amount,
    includedQuery,
    includedMicroEpsilon,
  };
}

/** The price quoted before a query runs, from the planner's estimate. */
export function quoteQuery(plan: PricePlan, estimate: QueryUsage, month?: MonthToDate, entitlement?: Entitlement): QueryPrice {
  return priceQuery(plan, estimate, month, entitlement);
}

/** The price of what a query actually used, against the same month it was quoted in. */
export function rateUsage(plan: PricePlan, measured: QueryUsage, month?: MonthToDate, entitlement?: Entitlement): QueryPrice {
  return priceQuery(plan, measured, month, entitlement);
}

/** The month after a query priced at `price` is counted: what the next query is priced against. */
export function advanceMonth(month: MonthToDate, price: QueryPrice): MonthToDate {
  return {
    queries: month.queries + 1,
    microEpsilon: month.microEpsilon + price.microEpsilon,
    charged: month.charged + price.amount,
  };
}
