/** Billing's configuration: the payment rail, Stripe's keys, the payout rule — each bad value named, secrets never echoed. */
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../../src/config.ts";

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("billing configuration", () => {
  it("defaults to the offline demo rail outside production and no rail in production", () => {
    expect(loadConfig({}).billing).toMatchObject({
      gateway: "offline",
      stripe: null,
      currency: "cny",
      payoutThreshold: 10_000,
      holdTtlMs: 3_600_000,
    });
    expect(loadConfig({}).billing.publicUrl).toBe("http://127.0.0.1:4000");
    expect(loadConfig({ NODE_ENV: "production" }).billing.gateway).toBe("none");
  });

  it("uses Stripe when its keys are given, pointed at stripe-mock by STRIPE_API_BASE", () => {
    const c = loadConfig({ STRIPE_SECRET_KEY: "sk_test_abc", STRIPE_WEBHOOK_SECRET: "whsec_abc", STRIPE_API_BASE: "http://127.0.0.1:12111" });
    expect(c.billing.gateway).toBe("stripe");
    expect(c.billing.stripe).toEqual({
      secretKey: "sk_test_abc",
      webhookSecret: "whsec_abc",
      apiBase: "http://127.0.0.1:12111",
      webhookToleranceSeconds: 300,
    });
  });

  it("refuses the offline rail in production, and Stripe without what it needs", () => {
    expect(problems({ NODE_ENV: "production", PAYMENTS_GATEWAY: "offline" })).toEqual([
      "PAYMENTS_GATEWAY: the offline gateway is refused when NODE_ENV=production",
    ]);
    expect(problems({ PAYMENTS_GATEWAY: "stripe" })[0]).toMatch(/^STRIPE_SECRET_KEY: required/);
    expect(problems({ STRIPE_SECRET_KEY: "sk_test_abc" })[0]).toMatch(/^STRIPE_WEBHOOK_SECRET: required/);
    expect(problems({ STRIPE_SECRET_KEY: "sk_live_abc", STRIPE_WEBHOOK_SECRET: "whsec_a", STRIPE_API_BASE: "http://127.0.0.1:12111" })[0]).toMatch(
      /^STRIPE_API_BASE: cannot be combined with a live key/,
    );
  });

  it("names bad values without echoing secrets", () => {
    const p = problems({
      STRIPE_SECRET_KEY: "pk_live_leaked123",
      STRIPE_WEBHOOK_SECRET: "nope-secret",
      PAYOUT_THRESHOLD: "12.5",
      BILLING_CURRENCY: "CNY",
    });
    expect(p.map((x) => x.split(":")[0]).sort()).toEqual(["BILLING_CURRENCY", "PAYOUT_THRESHOLD", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"]);
    expect(p.join("\n")).not.toContain("leaked123");
    expect(p.join("\n")).not.toContain("nope-secret");
    expect(p.find((x) => x.startsWith("PAYOUT_THRESHOLD"))).toMatch(/whole minor units/);
  });
});
