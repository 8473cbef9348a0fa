/**
 * The ε-DP release of one integer-valued statistic: value + DiscreteLaplace(Δ/ε), exact.
 * Counts use granularity 1; sums of values bounded by [lo, hi] use `granularityFor(lo, hi)`.
 */
import type { ByteSource } from "./csprng.ts";
import { cryptoBytes } from "./csprng.ts";
import { discreteLaplaceStdDev, sampleDiscreteLaplace, type RationalScale } from "./discrete-laplace.ts";
import type { Epsilon } from "./epsilon.ts";

/** Scale b = Δ / ε as an exact rational. */
export function laplaceScale(sensitivity: bigint, epsilon: Epsilon): RationalScale {
  if (sensitivity <= 0n) throw new RangeError("sensitivity must be positive");
  return { num: sensitivity * epsilon.den, den: epsilon.num };
}

export function releaseInteger(value: bigint, sensitivity: bigint, epsilon: Epsilon, bytes: ByteSource = cryptoBytes): bigint {
  return value + sampleDiscreteLaplace(laplaceScale(sensitivity, epsilon), bytes);
}

/** Expected noise (standard deviation) in output units, for quotes. */
export function expectedNoiseStdDev(sensitivity: bigint, epsilon: Epsilon, granularity = 1): number {
  return discreteLaplaceStdDev(laplaceScale(sensitivity, epsilon)) * granularity;
}

/**
 * Threshold τ for releasing a data-derived group key (τ-thresholding): groups under k units are
 * dropped before noise, and a group is released only if its noisy unit count is ≥ τ, where
 * τ = k + ⌈b·ln(1/δ)⌉ with b the count noise scale. A group of exactly k units is then released
 * with probability ≤ δ, and one of k−1 never.
 */
export function releaseThreshold(k: number, countSensitivity: bigint, epsilon: Epsilon, delta: number): bigint {
  if (!(delta > 0 && delta < 1)) throw new RangeError("δ must be in (0, 1)");
  const b = Number(countSensitivity * epsilon.den) / Number(epsilon.num);
  return BigInt(k) + BigInt(Math.ceil(b * Math.log(1 / delta)));
}

/**
 * Names the mechanism answers are released with: part of every answer cache key, so a change of
 * mechanism (or of how it is parameterised) never serves an answer released under the old one.
 */
export const MECHANISM_VERSION = "discrete-laplace/1";
