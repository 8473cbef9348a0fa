/**
 * Exact random primitives over node:crypto, for the noise mechanisms. Everything is integer or
 * rational (BigInt) arithmetic: no floating point decides an outcome, so the output
 * distribution is exactly the one claimed (Canonne, Kamath & Steinke 2020), and there is no
 * Math.random anywhere.
 */
import { randomFillSync } from "node:crypto";

/** A source of uniform random bytes; node:crypto's by default, injectable for tests of the algebra. */
export type ByteSource = (n: number) => Uint8Array;

/**
 * Bytes come from node:crypto filled a block at a time: one randomFillSync per POOL_BYTES instead
 * of one randomBytes call (and Buffer allocation) per draw, which was ~6% of a small query's time.
 * Each byte is handed out once; callers get a copy, so a later refill never changes what they hold.
 */
const POOL_BYTES = 8192;
const pool = new Uint8Array(POOL_BYTES);
let poolAt = POOL_BYTES;

function take(n: number): number {
  if (n > POOL_BYTES) throw new RangeError("cryptoBytes draws at most POOL_BYTES at a time");
  if (poolAt + n > POOL_BYTES) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const at = poolAt;
  poolAt += n;
  return at;
}

export const cryptoBytes: ByteSource = (n) => {
  const at = take(n);
  return pool.slice(at, at + n);
};

/** Uniform integer in [0, n) for a positive BigInt n, by rejection sampling (no modulo bias). */
export function uniformBelow(n: bigint, bytes: ByteSource = cryptoBytes): bigint {
  if (n <= 0n) throw new RangeError("uniformBelow needs n > 0");
  if (n === 1n) return 0n;
  const bits = (n - 1n).toString(2).length;
  const byteLen = Math.ceil(bits / 8);
  const excess = BigInt(byteLen * 8 - bits);
  // Up to 6 bytes (48 bits) the draw is assembled in a Number, exact below 2^53, with no BigInt
  // per byte; the pool is read in place when the source is node:crypto's.
  if (byteLen <= 6) {
    const shift = 2 ** Number(excess);
    const limit = Number(n);
    for (;;) {
      let v = 0;
      if (bytes === cryptoBytes) {
        const at = take(byteLen);
        for (let i = 0; i < byteLen; i++) v = v * 256 + pool[at + i]!;
      } else {
        for (const b of bytes(byteLen)) v = v * 256 + b;
      }
      v = Math.floor(v / shift);
      if (v < limit) return BigInt(v);
    }
  }
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
