/**
 * The discrete Laplace (two-sided geometric) distribution on the integers,
 * P[X = x] ∝ exp(-|x| / b), sampled exactly for a rational scale b = s/t
 * (Canonne, Kamath & Steinke 2020, Algorithm 2). Adding it to an integer-valued statistic of
 * L1 sensitivity Δ gives ε-DP for b = Δ/ε — with no floating-point attack surface (Mironov 2012).
 */
import { bernoulli, bernoulliExpNeg, cryptoBytes, uniformBelow, type ByteSource } from "./csprng.ts";

export interface RationalScale {
  /** b = num / den, both positive. */
  num: bigint;
  den: bigint;
}

export function sampleDiscreteLaplace(scale: RationalScale, bytes: ByteSource = cryptoBytes): bigint {
  // CKS name the scale t/s: t is its numerator, s its denominator.
  const { num: t, den: s } = scale;
  if (s <= 0n || t <= 0n) throw new RangeError("discrete Laplace scale must be positive");
  for (;;) {
    const u = uniformBelow(t, bytes);
    if (!bernoulliExpNeg(u, t, bytes)) continue;
    let v = 0n;
    while (bernoulliExpNeg(1n, 1n, bytes)) v++;
    const x = u + t * v;
    const y = x / s;
    const negative = bernoulli(1n, 2n, bytes);
    if (negative && y === 0n) continue;
    return negative ? -y : y;
  }
}

/** Standard deviation of the discrete Laplace with scale b: sqrt(2e^{-1/b}) / (1 - e^{-1/b}). */
export function discreteLaplaceStdDev(scale: RationalScale): number {
  const b = Number(scale.num) / Number(scale.den);
  const q = Math.exp(-1 / b);
  return Math.sqrt(2 * q) / (1 - q);
}
