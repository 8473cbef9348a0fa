/**
 * Exact random primitives over node:crypto, for the noise mechanisms. Everything is integer or
 * rational (BigInt) arithmetic: no floating point decides an outcome, so the output
 * distribution is exactly the one claimed (Canonne, Kamath & Steinke 2020), and there is no
 * Math.random anywhere.
 */
import { randomBytes } from "node:crypto";

/** A source of uniform random bytes; node:crypto's by default, injectable for tests of the algebra. */
export type ByteSource = (n: number) => Uint8Array;

export const cryptoBytes: ByteSource = (n) => randomBytes(n);

/** Uniform integer in [0, n) for a positive BigInt n, by rejection sampling (no modulo bias). */
export function uniformBelow(n: bigint, bytes: ByteSource = cryptoBytes): bigint {
  if (n <= 0n) throw new RangeError("uniformBelow needs n > 0");
  if (n === 1n) return 0n;
  const bits = (n - 1n).toString(2).length;
  const byteLen = Math.ceil(bits / 8);
  const excess = BigInt(byteLen * 8 - bits);
  for (;;) {
    let v = 0n;
    for (const b of bytes(byteLen)) v = (v << 8n) | BigInt(b);
    v >>= excess;
    if (v < n) return v;
  }
}

/** Bernoulli(num/den), exactly. */
export function bernoulli(num: bigint, den: bigint, bytes: ByteSource = cryptoBytes): boolean {
  if (num < 0n || den <= 0n || num > den) throw new RangeError("bernoulli needs 0 <= num <= den, den > 0");
  return uniformBelow(den, bytes) < num;
}

/** Bernoulli(exp(-num/den)) for num/den ≥ 0, exactly (CKS 2020, Algorithm 1). */
export function bernoulliExpNeg(num: bigint, den: bigint, bytes: ByteSource = cryptoBytes): boolean {
  if (num < 0n || den <= 0n) throw new RangeError("bernoulliExpNeg needs num >= 0, den > 0");
  // exp(-γ) = exp(-1)^floor(γ) · exp(-(γ - floor γ))
  let whole = num / den;
  const rest = num - whole * den;
  while (whole > 0n) {
    if (!bernoulliExpNegFraction(1n, 1n, bytes)) return false;
    whole--;
  }
  return bernoulliExpNegFraction(rest, den, bytes);
}

/** Bernoulli(exp(-γ)) for γ = num/den in [0, 1]. */
function bernoulliExpNegFraction(num: bigint, den: bigint, bytes: ByteSource): boolean {
  let k = 1n;
  while (bernoulli(num, den * k, bytes)) k++;
  return k % 2n === 1n;
}
