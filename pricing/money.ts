/** Exact integer arithmetic for prices: products go through BigInt so nothing rounds silently. */

export const MICRO_PER_EPSILON = 1_000_000;

/**
 * ε as whole micro-ε, rounded UP so that any positive ε is paid for. The value is first
 * rounded to the nearest nano-ε to drop binary floating-point noise (0.1 * 1e6 is
 * 100000.00000000001), so 0.1 → 100000, 0.0000004 → 1. Monotone: more ε never gives fewer.
 */
export function toMicroEpsilon(epsilon: number): number {
  if (!Number.isFinite(epsilon) || epsilon < 0) throw new RangeError(`ε must be a finite number ≥ 0, got ${epsilon}`);
  const nano = Math.round(epsilon * 1e9);
  return Math.ceil(nano / 1000);
}

/** ceil(a * b / d) for non-negative safe integers, computed exactly. */
export function mulDivCeil(a: number, b: number, d: number): number {
  assertNonNegativeInteger(a, "a");
  assertNonNegativeInteger(b, "b");
  const p = BigInt(a) * BigInt(b);
  const q = BigInt(d);
  return toSafeNumber((p + q - 1n) / q);
}

/** floor(a * b / d) for non-negative safe integers, computed exactly. */
export function mulDivFloor(a: number, b: number, d: number): number {
  assertNonNegativeInteger(a, "a");
  assertNonNegativeInteger(b, "b");
  return toSafeNumber((BigInt(a) * BigInt(b)) / BigInt(d));
}

export function assertNonNegativeInteger(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${what} must be a non-negative safe integer, got ${n}`);
}

function toSafeNumber(v: bigint): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError("amount exceeds the safe integer range");
  return Number(v);
}
