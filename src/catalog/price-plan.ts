/**
 * A listing's price plan is the pricing library's PricePlan (pricing/plan.ts), stored as is on the
 * listing so billing prices against exactly what the buyer was shown. The owner sets everything
 * but the platform fee, which the exchange sets. All amounts are integer minor units (fen for
 * the default currency "cny").
 */
import { z } from "zod";
import { priceQuery, validatePricePlan, type PricePlan } from "../../pricing/index.ts";
import { InvalidInput, invalidInputFromZod } from "../errors.ts";

export type { PricePlan } from "../../pricing/index.ts";

/** The ε the indicative price assumes: the policy default per query. */
export const INDICATIVE_EPSILON = 0.1;

/** What an owner may set; missing amounts are 0, missing allowances / cap are none. */
export const pricePlanInputSchema = z.object({
  currency: z
    .string()
    .trim()
    .transform((c) => c.toLowerCase())
    .default("cny"),
  perQueryFee: z.number().default(0),
  pricePerEpsilon: z.number().default(0),
  pricePerMillionRows: z.number().default(0),
  freeTier: z
    .object({ queries: z.number().default(0), epsilon: z.number().default(0) })
    .nullish()
    .transform((v) => v ?? null),
  subscription: z
    .object({ monthlyFee: z.number(), queries: z.number().default(0), epsilon: z.number().default(0) })
    .nullish()
    .transform((v) => v ?? null),
  monthlySpendingCap: z
    .number()
    .nullish()
    .transform((v) => v ?? null),
});

export type PricePlanInput = z.input<typeof pricePlanInputSchema>;

/** Builds and checks a plan from the owner's input; InvalidInput names each field under `prefix`. */
export function buildPricePlan(input: PricePlanInput | null | undefined, platformFeeBasisPoints: number, prefix = "input.pricePlan"): PricePlan {
  const parsed = pricePlanInputSchema.safeParse(input ?? {});
  if (!parsed.success) throw invalidInputFromZod(parsed.error, prefix);
  const plan: PricePlan = { ...parsed.data, platformFeeBasisPoints };
  const issues = validatePricePlan(plan);
  if (issues.length > 0) throw new InvalidInput(issues.map((i) => ({ path: `${prefix}.${i.path}`, message: i.message })));
  if (plan.subscription && plan.subscription.monthlyFee === 0) {
    throw new InvalidInput([{ path: `${prefix}.subscription.monthlyFee`, message: "must be greater than 0 (leave the subscription out instead)" }]);
  }
  return plan;
}

/**
 * What one query at ε 0.1 scanning the whole listed version costs at list price (before any free
 * tier, subscription or cap): the number price filters and sorting use.
 */
export function indicativeQueryPrice(plan: PricePlan, rowCount: number): number {
  const { list } = priceQuery(plan, { epsilon: INDICATIVE_EPSILON, rowsScanned: Math.max(0, Math.floor(rowCount)) });
  return list.perQueryFee + list.epsilon + list.rows;
}

/** Costs nothing at all: no fee of any kind and no subscription. */
export function isFree(plan: PricePlan): boolean {
  return plan.perQueryFee === 0 && plan.pricePerEpsilon === 0 && plan.pricePerMillionRows === 0 && plan.subscription === null;
}

/** Offers something each month for free. */
export function hasFreeTier(plan: PricePlan): boolean {
  return plan.freeTier !== null && (plan.freeTier.queries > 0 || plan.freeTier.epsilon > 0);
}
