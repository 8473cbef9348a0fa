/**
 * A listing's price plan: data the catalog stores with a listing and billing prices against.
 * Every amount is an integer in the currency's minor unit (fen for CNY, cents for USD).
 * Prices depend on the plan and on metered usage only, never on the data or the answer.
 */
import { z } from "zod";

/** What a month's allowance includes, per buyer and listing, reset each UTC calendar month. */
export interface Allowance {
  /** Queries whose per-query fee and rows component are waived. */
  queries: number;
  /** ε whose ε component is waived (summed over the month's queries). */
  epsilon: number;
}

export interface Subscription extends Allowance {
  /** Charged once per month while the buyer subscribes; the allowance comes with it. */
  monthlyFee: number;
}

export interface PricePlan {
  /** ISO 4217 code, lower case: "cny" (default of the exchange), "usd", "eur"… */
  currency: string;
  /** Charged for every query that runs (minor units). */
  perQueryFee: number;
  /** Price of one whole ε of privacy budget (minor units); ε is metered in micro-ε, rounded up. */
  pricePerEpsilon: number;
  /** Price per million rows scanned (minor units), pro rata and rounded up. */
  pricePerMillionRows: number;
  /** Platform fee in basis points of each charge: 1 bp = 0.01 %, so 1500 = 15 %. The owner gets the rest. */
  platformFeeBasisPoints: number;
  /** Allowance every buyer gets each month without subscribing, or null. */
  freeTier: Allowance | null;
  /** Optional monthly subscription adding its allowance to the free tier's, or null. */
  subscription: Subscription | null;
  /**
   * The most one buyer pays for queries on this listing in one calendar month (minor units),
   * or null for no cap. Past the cap queries cost nothing more that month (privacy budgets
   * still limit them). The subscription fee is not counted against it.
   */
  monthlySpendingCap: number | null;
}

/** The largest amount the library handles: far above any real price, far below 2^53. */
export const MAX_MINOR_UNITS = 1_000_000_000_000;
/** The most ε one plan may include in an allowance. */
export const MAX_EPSILON = 1_000_000;

const minor = (what: string) =>
  z
    .number({ message: `${what} must be a number of minor units` })
    .int(`${what} must be a whole number of minor units (e.g. fen), not a fraction`)
    .min(0, `${what} cannot be negative`)
    .max(MAX_MINOR_UNITS, `${what} is too large (at most ${MAX_MINOR_UNITS})`);

const allowanceFields = {
  queries: z.number().int("must be a whole number of queries").min(0, "cannot be negative").max(1_000_000_000),
  epsilon: z.number().finite().min(0, "cannot be negative").max(MAX_EPSILON),
};

/** Zod schema of a price plan: the catalog can embed it in its listing input. */
export const pricePlanSchema = z
  .object({
    currency: z.string().regex(/^[a-z]{3}$/, 'must be a three-letter ISO 4217 code in lower case, e.g. "cny"'),
    perQueryFee: minor("perQueryFee"),
    pricePerEpsilon: minor("pricePerEpsilon"),
    pricePerMillionRows: minor("pricePerMillionRows"),
    platformFeeBasisPoints: z
      .number()
      .int("must be whole basis points (1 bp = 0.01 %)")
      .min(0, "cannot be negative")
      .max(10_000, "cannot exceed 10000 (100 %)"),
    freeTier: z.object(allowanceFields).strict().nullable(),
    subscription: z
      .object({ ...allowanceFields, monthlyFee: minor("monthlyFee") })
      .strict()
      .nullable(),
    monthlySpendingCap: minor("monthlySpendingCap").nullable(),
  })
  .strict();

export interface PlanIssue {
  /** Dotted path inside the plan, e.g. "subscription.monthlyFee". */
  path: string;
  message: string;
}

/** Checks a plan; returns every broken rule (empty when the plan is valid). */
export function validatePricePlan(plan: unknown): PlanIssue[] {
  const parsed = pricePlanSchema.safeParse(plan);
  if (parsed.success) return [];
  return parsed.error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message }));
}

/** A plan that charges nothing: the starting point for building one. */
export function freePlan(currency = "cny"): PricePlan {
  return {
    currency,
    perQueryFee: 0,
    pricePerEpsilon: 0,
    pricePerMillionRows: 0,
    platformFeeBasisPoints: 0,
    freeTier: null,
    subscription: null,
    monthlySpendingCap: null,
  };
}

/** True when a query's price depends on the buyer's month so far (allowances or a cap). */
export function planHasMonthlyState(plan: PricePlan): boolean {
  return plan.freeTier !== null || plan.subscription !== null || plan.monthlySpendingCap !== null;
}
