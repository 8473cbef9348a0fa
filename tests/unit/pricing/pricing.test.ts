/**
 * Properties of the pure pricing library, checked with fast-check over random plans, usages
 * and months: quotes are deterministic, more ε never costs less, splitting ε over several
 * queries never costs less than buying it at once, and fee + owner share = price exactly.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  advanceMonth,
  priceQuery,
  quoteQuery,
  splitPlatformFee,
  toMicroEpsilon,
  validatePricePlan,
  type MonthToDate,
  type PricePlan,
} from "../../../pricing/index.ts";

const money = fc.integer({ min: 0, max: 5_000_000 });
const allowance = fc.record({ queries: fc.integer({ min: 0, max: 20 }), epsilon: fc.integer({ min: 0, max: 5_000_000 }).map((m) => m / 1e6) });

const plan: fc.Arbitrary<PricePlan> = fc.record({
  currency: fc.constantFrom("cny", "usd"),
  perQueryFee: money,
  pricePerEpsilon: money,
  pricePerMillionRows: money,
  platformFeeBasisPoints: fc.integer({ min: 0, max: 10_000 }),
  freeTier: fc.option(allowance, { nil: null }),
  subscription: fc.option(fc.record({ monthlyFee: money, queries: allowance.map((a) => a.queries), epsilon: allowance.map((a) => a.epsilon) }), {
    nil: null,
  }),
  monthlySpendingCap: fc.option(fc.integer({ min: 0, max: 50_000_000 }), { nil: null }),
});

const month: fc.Arbitrary<MonthToDate> = fc.record({
  queries: fc.integer({ min: 0, max: 30 }),
  microEpsilon: fc.integer({ min: 0, max: 10_000_000 }),
  charged: fc.integer({ min: 0, max: 60_000_000 }),
});

const rows = fc.integer({ min: 0, max: 2_000_000_000 });
const micro = fc.integer({ min: 0, max: 20_000_000 });
const subscribed = fc.boolean();

describe("pricing properties", () => {
  it("every generated plan is valid", () => {
    fc.assert(
      fc.property(plan, (p) => {
        expect(validatePricePlan(p)).toEqual([]);
      }),
    );
  });

  it("a quote is deterministic: the same inputs give the same price, to every field", () => {
    fc.assert(
      fc.property(plan, micro, rows, month, subscribed, (p, m, r, mtd, s) => {
        const a = quoteQuery(p, { epsilon: m / 1e6, rowsScanned: r }, mtd, { subscribed: s });
        const b = quoteQuery(structuredClone(p), { epsilon: m / 1e6, rowsScanned: r }, { ...mtd }, { subscribed: s });
        expect(b).toEqual(a);
      }),
    );
  });

  it("more ε never costs less (same rows, same month)", () => {
    fc.assert(
      fc.property(
        plan,
        fc.double({ min: 0, max: 20, noNaN: true }),
        fc.double({ min: 0, max: 20, noNaN: true }),
        rows,
        month,
        subscribed,
        (p, e1, e2, r, mtd, s) => {
          const [lo, hi] = e1 <= e2 ? [e1, e2] : [e2, e1];
          const cheap = priceQuery(p, { epsilon: lo, rowsScanned: r }, mtd, { subscribed: s });
          const dear = priceQuery(p, { epsilon: hi, rowsScanned: r }, mtd, { subscribed: s });
          expect(dear.amount).toBeGreaterThanOrEqual(cheap.amount);
        },
      ),
    );
  });

  it("more rows never cost less", () => {
    fc.assert(
      fc.property(plan, micro, rows, rows, month, subscribed, (p, m, r1, r2, mtd, s) => {
        const [lo, hi] = r1 <= r2 ? [r1, r2] : [r2, r1];
        expect(priceQuery(p, { epsilon: m / 1e6, rowsScanned: hi }, mtd, { subscribed: s }).amount).toBeGreaterThanOrEqual(
          priceQuery(p, { epsilon: m / 1e6, rowsScanned: lo }, mtd, { subscribed: s }).amount,
        );
      }),
    );
  });

  it("splitting one query's ε into several queries never costs less than buying it at once", () => {
    fc.assert(
      fc.property(plan, fc.array(micro, { minLength: 1, maxLength: 8 }), rows, month, subscribed, (p, parts, r, mtd, s) => {
        const total = parts.reduce((a, b) => a + b, 0);
        const once = priceQuery(p, { epsilon: total / 1e6, rowsScanned: r }, mtd, { subscribed: s }).amount;
        let m = mtd;
        let split = 0;
        for (const part of parts) {
          const price = priceQuery(p, { epsilon: part / 1e6, rowsScanned: r }, m, { subscribed: s });
          split += price.amount;
          m = advanceMonth(m, price);
        }
        expect(split).toBeGreaterThanOrEqual(once);
      }),
      { numRuns: 500 },
    );
  });

  it("the platform fee plus the owner's share equals the price to the minor unit", () => {
    fc.assert(
      fc.property(plan, micro, rows, month, subscribed, (p, m, r, mtd, s) => {
        const q = priceQuery(p, { epsilon: m / 1e6, rowsScanned: r }, mtd, { subscribed: s });
        expect(q.platformFee + q.ownerShare).toBe(q.amount);
        expect(q.platformFee).toBeGreaterThanOrEqual(0);
        expect(q.ownerShare).toBeGreaterThanOrEqual(0);
        expect(Number.isSafeInteger(q.amount)).toBe(true);
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 0, max: 10_000 }), (amount, bp) => {
        const s = splitPlatformFee(amount, bp);
        expect(s.platformFee + s.ownerShare).toBe(amount);
        expect(s.platformFee).toBeLessThanOrEqual(amount);
      }),
    );
  });

  it("the spending cap bounds a month's charges, however the queries come", () => {
    fc.assert(
      fc.property(plan, fc.array(fc.tuple(micro, rows), { minLength: 1, maxLength: 10 }), (p, queries) => {
        let m: MonthToDate = { queries: 0, microEpsilon: 0, charged: 0 };
        for (const [e, r] of queries) m = advanceMonth(m, priceQuery(p, { epsilon: e / 1e6, rowsScanned: r }, m));
        if (p.monthlySpendingCap !== null) expect(m.charged).toBeLessThanOrEqual(p.monthlySpendingCap);
      }),
    );
  });
});

describe("pricing examples", () => {
  const base: PricePlan = {
    currency: "cny",
    perQueryFee: 100,
    pricePerEpsilon: 5000,
    pricePerMillionRows: 30,
    platformFeeBasisPoints: 1500,
    freeTier: null,
    subscription: null,
    monthlySpendingCap: null,
  };

  it("adds the per-query fee, ε at its price, and rows pro rata, each rounded up", () => {
    const q = quoteQuery(base, { epsilon: 0.1, rowsScanned: 2_500_001 });
    expect(q.list).toEqual({ perQueryFee: 100, epsilon: 500, rows: 76 });
    expect(q.amount).toBe(676);
    expect(q.platformFee).toBe(101); // floor(676 × 15 %)
    expect(q.ownerShare).toBe(575);
    expect(q.microEpsilon).toBe(100_000);
  });

  it("meters ε in micro-ε rounded up, ignoring binary floating-point noise", () => {
    expect(toMicroEpsilon(0.1)).toBe(100_000);
    expect(toMicroEpsilon(0.3)).toBe(300_000);
    expect(toMicroEpsilon(0.0000004)).toBe(1);
    expect(toMicroEpsilon(0)).toBe(0);
    expect(() => toMicroEpsilon(-1)).toThrow(RangeError);
    expect(() => toMicroEpsilon(Number.NaN)).toThrow(RangeError);
  });

  it("waives the fee and rows for included queries and ε up to the allowance", () => {
    const p = { ...base, freeTier: { queries: 1, epsilon: 0.05 } };
    const first = quoteQuery(p, { epsilon: 0.1, rowsScanned: 1_000_000 });
    expect(first.includedQuery).toBe(true);
    expect(first.amount).toBe(250); // only the 0.05 ε beyond the allowance
    const second = quoteQuery(p, { epsilon: 0.1, rowsScanned: 1_000_000 }, advanceMonth({ queries: 0, microEpsilon: 0, charged: 0 }, first));
    expect(second.amount).toBe(100 + 500 + 30);
  });

  it("a subscription adds its allowance only for subscribers", () => {
    const p = { ...base, subscription: { monthlyFee: 9900, queries: 10, epsilon: 1 } };
    expect(quoteQuery(p, { epsilon: 0.5, rowsScanned: 10 }, undefined, { subscribed: true }).amount).toBe(0);
    expect(quoteQuery(p, { epsilon: 0.5, rowsScanned: 10 }, undefined, { subscribed: false }).amount).toBe(100 + 2500 + 1);
  });

  it("stops charging at the monthly cap", () => {
    const p = { ...base, monthlySpendingCap: 1000 };
    expect(quoteQuery(p, { epsilon: 1, rowsScanned: 0 }, { queries: 3, microEpsilon: 0, charged: 700 }).amount).toBe(300);
    expect(quoteQuery(p, { epsilon: 1, rowsScanned: 0 }, { queries: 4, microEpsilon: 0, charged: 1000 }).amount).toBe(0);
  });

  it("names every broken rule of a bad plan", () => {
    const issues = validatePricePlan({ ...base, currency: "CNY", perQueryFee: 1.5, platformFeeBasisPoints: 20_000 });
    expect(issues.map((i) => i.path).sort()).toEqual(["currency", "perQueryFee", "platformFeeBasisPoints"]);
    expect(issues.find((i) => i.path === "perQueryFee")?.message).toMatch(/whole number of minor units/);
  });

  it("refuses usage that is not metered sensibly", () => {
    expect(() => quoteQuery(base, { epsilon: 0.1, rowsScanned: 1.5 })).toThrow(RangeError);
    expect(() => quoteQuery(base, { epsilon: -0.1, rowsScanned: 1 })).toThrow(RangeError);
  });
});
