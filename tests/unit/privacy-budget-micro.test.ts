/** ε ↔ integer micro-ε: exact for every ε the exchange accepts, never a float sum. */
import { describe, expect, it } from "vitest";
import { formatMicro, microToEpsilon, toMicro } from "../../src/privacy/budget/micro.ts";
import { policyCaps, policyEpsilonMicro } from "../../src/privacy/budget/directory.ts";
import { divideEpsilon, parseEpsilon } from "../../src/privacy/mechanism/epsilon.ts";

describe("micro-ε", () => {
  it("converts decimals with up to 6 places exactly", () => {
    expect(toMicro("0.1")).toBe(100_000);
    expect(toMicro(0.3)).toBe(300_000);
    expect(toMicro("2.000001")).toBe(2_000_001);
    expect(toMicro(parseEpsilon("0.25"))).toBe(250_000);
    // Ten debits of 0.1 are exactly 1, unlike 0.1 + 0.1 + … in floating point.
    expect(Array.from({ length: 10 }, () => toMicro(0.1)).reduce((a, b) => a + b, 0)).toBe(toMicro(1));
  });

  it("refuses what is not a whole number of micro-ε", () => {
    expect(() => toMicro("0.0000001")).toThrow(/at most 6 decimal places/);
    expect(() => toMicro(divideEpsilon(parseEpsilon("0.1"), 3))).toThrow(/whole number of micro-ε/);
    expect(() => toMicro(0)).toThrow();
  });

  it("formats exactly", () => {
    expect(formatMicro(100_000)).toBe("0.1");
    expect(formatMicro(2_500_000)).toBe("2.5");
    expect(formatMicro(0)).toBe("0");
    expect(formatMicro(1)).toBe("0.000001");
    expect(microToEpsilon(123_456)).toBe(0.123456);
  });

  it("reads policy caps, rounding anything finer than a micro-ε", () => {
    expect(policyCaps({ epsilonPerQuery: 0.1, buyerEpsilonBudget: 2, datasetEpsilonBudget: 10 })).toEqual({
      perQueryMicro: 100_000,
      buyerCapMicro: 2_000_000,
      globalCapMicro: 10_000_000,
    });
    expect(policyEpsilonMicro(0.29)).toBe(290_000);
    expect(policyEpsilonMicro(1e-7)).toBe(0);
    expect(policyEpsilonMicro(0)).toBe(0);
  });
});
