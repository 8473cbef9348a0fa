/**
 * Billing's part of the environment: the payment rail, Stripe's keys and the payout rule.
 * src/config.ts spreads `billingEnv` into its schema and calls `billingConfigFrom`, so every
 * variable is still read and checked in that one place.
 */
import { z } from "zod";

export interface BillingConfig {
  /** stripe: the real rail; offline: the demo rail (never in production); none: no top-ups or payouts. */
  gateway: "stripe" | "offline" | "none";
  stripe: {
    secretKey: string;
    webhookSecret: string;
    /** stripe-mock or another Stripe-compatible base URL; null for api.stripe.com. */
    apiBase: string | null;
    webhookToleranceSeconds: number;
  } | null;
  /** Default currency of credit and payouts (ISO 4217, lower case). */
  currency: string;
  /** An owner can be paid out once their payable reaches this (minor units). */
  payoutThreshold: number;
  /** An open hold not posted or voided within this time is voided by recovery. */
  holdTtlMs: number;
  /** Where the exchange is reachable, for Checkout and onboarding return links. */
  publicUrl: string;
}

export const billingEnv = {
  PAYMENTS_GATEWAY: z.enum(["stripe", "offline", "none"], { message: "must be stripe, offline or none" }).optional(),
  STRIPE_SECRET_KEY: z
    .string()
    .regex(/^(sk|rk)_(test|live)_[A-Za-z0-9_]+$/, "must be a Stripe secret or restricted key (sk_test_…, sk_live_…, rk_…)")
    .optional(),
  STRIPE_WEBHOOK_SECRET: z
    .string()
    .regex(/^whsec_[A-Za-z0-9_+/=]+$/, "must be a webhook signing secret (whsec_…)")
    .optional(),
  STRIPE_API_BASE: z
    .string()
    .regex(/^https?:\/\/[^\s/]+(:\d+)?\/?$/, "must be an http(s) base URL such as http://127.0.0.1:12111")
    .optional(),
  STRIPE_WEBHOOK_TOLERANCE_SECONDS: z.coerce.number({ message: "must be seconds" }).int().min(10).max(3600).default(300),
  BILLING_CURRENCY: z
    .string()
    .regex(/^[a-z]{3}$/, 'must be an ISO 4217 code in lower case, e.g. "cny"')
    .default("cny"),
  PAYOUT_THRESHOLD: z.coerce
    .number({ message: "must be an amount in minor units" })
    .int("must be whole minor units (e.g. fen)")
    .min(0, "cannot be negative")
    .max(1_000_000_000_000)
    .default(10_000),
  HOLD_TTL_MINUTES: z.coerce
    .number({ message: "must be minutes" })
    .int()
    .min(1)
    .max(7 * 24 * 60)
    .default(60),
  PUBLIC_URL: z
    .string()
    .regex(/^https?:\/\/\S+$/, "must be an http(s) URL")
    .optional(),
};

type BillingEnv = z.output<z.ZodObject<typeof billingEnv>>;

/** Derives billing's config; returns the problems (each naming its variable) instead of throwing. */
export function billingConfigFrom(c: BillingEnv & { NODE_ENV: string; HOST: string; PORT: number }): { config: BillingConfig; problems: string[] } {
  const problems: string[] = [];
  const production = c.NODE_ENV === "production";
  const gateway = c.PAYMENTS_GATEWAY ?? (c.STRIPE_SECRET_KEY ? "stripe" : production ? "none" : "offline");
  if (gateway === "offline" && production) problems.push("PAYMENTS_GATEWAY: the offline gateway is refused when NODE_ENV=production");
  if (gateway === "stripe" && !c.STRIPE_SECRET_KEY) problems.push("STRIPE_SECRET_KEY: required when PAYMENTS_GATEWAY=stripe");
  if (c.STRIPE_SECRET_KEY && !c.STRIPE_WEBHOOK_SECRET) {
    problems.push("STRIPE_WEBHOOK_SECRET: required with STRIPE_SECRET_KEY (top-ups are credited only from verified webhooks)");
  }
  if (c.STRIPE_API_BASE && c.STRIPE_SECRET_KEY?.includes("_live_")) {
    problems.push("STRIPE_API_BASE: cannot be combined with a live key; it is for stripe-mock and test servers");
  }
  const host = c.HOST.includes(":") ? `[${c.HOST}]` : c.HOST;
  return {
    problems,
    config: {
      gateway,
      stripe:
        c.STRIPE_SECRET_KEY && c.STRIPE_WEBHOOK_SECRET
          ? {
              secretKey: c.STRIPE_SECRET_KEY,
              webhookSecret: c.STRIPE_WEBHOOK_SECRET,
              apiBase: c.STRIPE_API_BASE ?? null,
              webhookToleranceSeconds: c.STRIPE_WEBHOOK_TOLERANCE_SECONDS,
            }
          : null,
      currency: c.BILLING_CURRENCY,
      payoutThreshold: c.PAYOUT_THRESHOLD,
      holdTtlMs: c.HOLD_TTL_MINUTES * 60_000,
      publicUrl: (c.PUBLIC_URL ?? `http://${host}:${c.PORT}`).replace(/\/$/, ""),
    },
  };
}

/** What tests and tools get when they build services without a full config. */
export const DEFAULT_BILLING_CONFIG: BillingConfig = {
  gateway: "offline",
  stripe: null,
  currency: "cny",
  payoutThreshold: 10_000,
  holdTtlMs: 60 * 60_000,
  publicUrl: "http://127.0.0.1:4000",
};
