/**
 * The noise mechanism: exact samplers over node:crypto, exact multiples of the granularity, and
 * a statistical audit that the observed privacy loss on neighbouring datasets stays under ε.
 */
import { describe, expect, it, vi } from "vitest";
import {
  bernoulliExpNeg,
  discreteLaplaceStdDev,
  expectedNoiseStdDev,
  formatEpsilon,
  fromUnits,
  granularityFor,
  parseEpsilon,
  releaseInteger,
  releaseThreshold,
  sampleDiscreteLaplace,
  toUnits,
  uniformBelow,
  cryptoBytes,
  addEpsilon,
  divideEpsilon,
  compareEpsilon,
} from "../../src/privacy/mechanism/index.ts";
import { clopperPearson, regularizedBeta } from "../support/clopper-pearson.ts";

/** |observed − expected| within z standard errors of a binomial proportion. */
function expectProportion(hits: number, n: number, p: number, z = 5) {
  const se = Math.sqrt((p * (1 - p)) / n);
  expect(Math.abs(hits / n - p), `observed ${hits / n}, expected ${p}`).toBeLessThan(z * se + 1e-9);
}

describe("exact random primitives", () => {
  it("draws uniform integers below n without modulo bias", () => {
    const counts = new Array(6).fill(0);
    const n = 60_000;
    for (let i = 0; i < n; i++) counts[Number(uniformBelow(6n))]++;
    for (const c of counts) expectProportion(c, n, 1 / 6);
  });

  it("draws the same uniform law on the Number path (≤ 48 bits) and the BigInt path", () => {
    // 2^40 + 3 takes the Number path, 2^60 + 3 the BigInt one; both must be uniform over the
    // top bit: below n/2 about half the time.
    for (const n of [2n ** 40n + 3n, 2n ** 60n + 3n]) {
      let low = 0;
      const draws = 20_000;
      for (let i = 0; i < draws; i++) if (uniformBelow(n) < n / 2n) low++;
      expectProportion(low, draws, 0.5);
    }
  });

  it("hands out pooled bytes once, as copies a refill never changes", () => {
    const first = cryptoBytes(32);
    const kept = Uint8Array.from(first);
    const seen = new Set<string>([Buffer.from(first).toString("hex")]);
    for (let i = 0; i < 2_000; i++) seen.add(Buffer.from(cryptoBytes(32)).toString("hex")); // several refills
    expect(seen.size).toBe(2_001);
    expect(first).toEqual(kept);
  });

  it("draws Bernoulli(exp(−γ)) for fractional and whole γ", () => {
    for (const [num, den] of [
      [1n, 3n],
      [3n, 2n],
      [0n, 1n],
    ] as const) {
      let hits = 0;
      const n = 20_000;
      for (let i = 0; i < n; i++) if (bernoulliExpNeg(num, den)) hits++;
      expectProportion(hits, n, Math.exp(-Number(num) / Number(den)));
    }
  });

  it("samples the discrete Laplace with the right probabilities and spread", () => {
    const scale = { num: 2n, den: 1n }; // b = 2
    const q = Math.exp(-1 / 2);
    const pmf = (x: number) => ((1 - q) / (1 + q)) * q ** Math.abs(x);
    const n = 40_000;
    const hist = new Map<number, number>();
    let sumSq = 0;
    for (let i = 0; i < n; i++) {
      const x = Number(sampleDiscreteLaplace(scale));
      hist.set(x, (hist.get(x) ?? 0) + 1);
      sumSq += x * x;
    }
    for (const x of [-3, -1, 0, 1, 2, 5]) expectProportion(hist.get(x) ?? 0, n, pmf(x));
    const sd = Math.sqrt(sumSq / n);
    expect(Math.abs(sd - discreteLaplaceStdDev(scale)) / discreteLaplaceStdDev(scale)).toBeLessThan(0.05);
  });

  it("never calls Math.random", () => {
    const spy = vi.spyOn(Math, "random");
    for (let i = 0; i < 500; i++) releaseInteger(100n, 3n, parseEpsilon("0.1"));
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
  });
});

describe("ε arithmetic", () => {
  it("keeps ε exact as fractions", () => {
    expect(parseEpsilon("0.1")).toEqual({ num: 1n, den: 10n });
    expect(parseEpsilon(0.25)).toEqual({ num: 1n, den: 4n });
    const sum = Array.from({ length: 10 }, () => parseEpsilon(0.1)).reduce(addEpsilon);
    expect(sum).toEqual({ num: 1n, den: 1n }); // 0.1 × 10 is exactly 1, unlike floats
    expect(formatEpsilon(divideEpsilon(parseEpsilon("0.1"), 2))).toBe("0.05");
    expect(compareEpsilon(parseEpsilon("0.3"), parseEpsilon("0.25"))).toBe(1);
    for (const bad of ["0", "-1", "1e-3", "abc", "0.0000001"]) expect(() => parseEpsilon(bad)).toThrow(/ε/);
  });
});

describe("granularity", () => {
  it("releases exact multiples of a public power of two", () => {
    const g = granularityFor(0, 500); // fares up to 500
    expect(Number.isInteger(Math.log2(g))).toBe(true);
    const eps = parseEpsilon("0.5");
    const sensitivity = BigInt(Math.ceil(500 / g));
    for (let i = 0; i < 200; i++) {
      const out = fromUnits(releaseInteger(toUnits(12_345.67, g), sensitivity, eps), g);
      expect(Number.isInteger(out / g)).toBe(true);
    }
    expect(expectedNoiseStdDev(sensitivity, eps, g)).toBeCloseTo((Math.SQRT2 * 500) / 0.5, -1);
  });

  it("puts the release threshold k + ⌈b ln(1/δ)⌉ above k", () => {
    expect(releaseThreshold(10, 1n, parseEpsilon("1"), 1e-7)).toBe(10n + 17n);
  });
});

describe("statistical privacy audit (neighbouring datasets)", () => {
  it("has a Clopper–Pearson implementation that agrees with known beta values", () => {
    expect(regularizedBeta(0.5, 2, 2)).toBeCloseTo(0.5, 12);
    expect(regularizedBeta(0.3, 1, 1)).toBeCloseTo(0.3, 12);
    const { lower, upper } = clopperPearson(50, 100, 0.05);
    expect(lower).toBeCloseTo(0.3983, 3);
    expect(upper).toBeCloseTo(0.6017, 3);
  });

  it("observes no more privacy loss than the claimed ε on a noisy count", () => {
    const claimed = parseEpsilon("0.5");
    const runs = 10_000;
    const thresholds = [101, 102, 103, 104];
    // Bonferroni over the events tried; a correct mechanism fails this at most once in 10^6 runs.
    const alpha = 1e-6 / thresholds.length;
    const countAbove = (trueCount: bigint) => {
      const hits = new Array(thresholds.length).fill(0);
      for (let i = 0; i < runs; i++) {
        const out = Number(releaseInteger(trueCount, 1n, claimed));
        thresholds.forEach((t, j) => {
          if (out >= t) hits[j]++;
        });
      }
      return hits;
    };
    const d = countAbove(100n); // D: 100 units
    const dPrime = countAbove(101n); // D′: one more unit
    let best = -Infinity;
    thresholds.forEach((_, j) => {
      const pD = clopperPearson(d[j], runs, alpha).upper;
      const pDPrime = clopperPearson(dPrime[j], runs, alpha).lower;
      best = Math.max(best, Math.log(pDPrime / pD));
    });
    console.log(`[privacy audit] claimed ε = 0.5, observed ε lower bound = ${best.toFixed(3)} (${runs} runs per side)`);
    expect(best).toBeLessThanOrEqual(0.5);
    expect(best).toBeGreaterThan(0); // the audit has power: it does see real privacy loss
  });
});
