/**
 * Values are released as exact multiples of a public power-of-two granularity g: a clamped
 * value x becomes the integer round(x / g), noise is added in those integer units, and the
 * answer is units × g — exactly representable, so the float format leaks nothing (Mironov 2012).
 */

/** Integer units per unit contribution are kept near 2^20: fine enough, and far from 2^53. */
const TARGET_UNIT_BITS = 20;

/** The public granularity for values bounded by [lo, hi]: a power of two (possibly < 1). */
export function granularityFor(lo: number, hi: number): number {
  const maxAbs = Math.max(Math.abs(lo), Math.abs(hi));
  if (!Number.isFinite(maxAbs)) throw new RangeError("bounds must be finite");
  if (maxAbs === 0) return 1;
  const exponent = Math.ceil(Math.log2(maxAbs)) - TARGET_UNIT_BITS;
  return 2 ** Math.max(exponent, -30);
}

/** round(x / g) as a BigInt (half away from zero). */
export function toUnits(x: number, g: number): bigint {
  const q = x / g;
  return BigInt(q < 0 ? -Math.round(-q) : Math.round(q));
}

/** The largest |units| one value in [lo, hi] can become. */
export function maxUnits(lo: number, hi: number, g: number): bigint {
  return BigInt(Math.ceil(Math.max(Math.abs(lo), Math.abs(hi)) / g));
}

/** units × g as a number; exact while |units| < 2^53. */
export function fromUnits(units: bigint, g: number): number {
  const n = Number(units);
  if (!Number.isSafeInteger(n)) throw new RangeError("noisy value outside the exactly representable range");
  return n * g;
}
