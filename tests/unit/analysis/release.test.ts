/**
 * The analysis reducer's noise: ε split evenly over the outputs, Δ_i = max(|lo_i|, |hi_i|) in
 * units of a power-of-two granularity, discrete Laplace from the CSPRNG, exact multiples out.
 */
import { describe, expect, it } from "vitest";
import { planOutputs, releaseVector } from "../../../src/analysis/release.ts";
import { parseEpsilon, granularityFor } from "../../../src/privacy/mechanism/index.ts";
import { clopperPearson } from "../../support/clopper-pearson.ts";

const OUTPUTS = [
  { name: "trips", lo: 0, hi: 20, default: 0 },
  { name: "delta", lo: -300, hi: 100, default: 0 },
];

describe("planOutputs", () => {
  it("splits ε evenly and takes each output's sensitivity from its declared range, never the data", () => {
    const planned = planOutputs(OUTPUTS, parseEpsilon("0.5"));
    expect(planned.map((o) => o.epsilon)).toEqual([
      { num: 1n, den: 4n },
      { num: 1n, den: 4n },
    ]);
    expect(planned[0]!.granularity).toBe(granularityFor(0, 20));
    expect(planned[0]!.sensitivity).toBe(BigInt(Math.ceil(20 / planned[0]!.granularity)));
    expect(planned[1]!.sensitivity).toBe(BigInt(Math.ceil(300 / planned[1]!.granularity)));
    // Laplace scale Δ/ε: std = √2 · Δ / ε (to within the discrete correction).
    expect(planned[0]!.expectedStdDev).toBeCloseTo((Math.SQRT2 * 20) / 0.25, 0);
  });
});

describe("releaseVector", () => {
  it("releases exact multiples of each output's granularity", () => {
    const planned = planOutputs(OUTPUTS, parseEpsilon("1"));
    for (let i = 0; i < 200; i++) {
      const out = releaseVector(planned, [300, -1234.5]);
      out.forEach((o, j) => expect(Number.isInteger(o.value / planned[j]!.granularity)).toBe(true));
    }
  });

  it("refuses a sum that is not on the grid (the sandbox rounds every unit's output)", () => {
    const planned = planOutputs(OUTPUTS, parseEpsilon("1"));
    expect(() => releaseVector(planned, [Math.PI, 0])).toThrow(/not an exact multiple/);
    expect(() => releaseVector(planned, [1])).toThrow(/1 sums for 2 outputs/);
  });

  it("statistical audit: one unit with the largest contribution shifts the output no more than ε allows", () => {
    // D has one more unit than D′, contributing hi = 20 to "trips"; threshold at the midpoint.
    const eps = 0.5;
    const planned = planOutputs([OUTPUTS[0]!], parseEpsilon(String(eps)));
    const runs = 4000;
    const threshold = 310;
    let hitsD = 0;
    let hitsD2 = 0;
    for (let i = 0; i < runs; i++) {
      if (releaseVector(planned, [320])[0]!.value >= threshold) hitsD++;
      if (releaseVector(planned, [300])[0]!.value >= threshold) hitsD2++;
    }
    // P[D ≥ t] ≤ e^ε P[D′ ≥ t]: a lower confidence bound on the observed ε must not exceed ε.
    const lowD = clopperPearson(hitsD, runs, 0.05).lower;
    const highD2 = clopperPearson(hitsD2, runs, 0.05).upper;
    const observedLower = Math.log(lowD / highD2);
    expect(observedLower).toBeLessThanOrEqual(eps);
    expect(hitsD).toBeGreaterThan(hitsD2); // the test can tell the two apart at all
  });
});
