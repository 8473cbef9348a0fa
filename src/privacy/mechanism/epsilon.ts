/**
 * ε as an exact rational. Buyers and policies give ε as decimals ("0.1", 0.25); we keep them as
 * fractions so noise scales are exact and budgets add up without rounding drift.
 */
export interface Epsilon {
  num: bigint;
  den: bigint;
}

const MAX_DECIMALS = 6;

/** Parses a positive decimal with at most 6 fractional digits (e.g. 0.1 → 1/10). */
export function parseEpsilon(value: number | string): Epsilon {
  const text = typeof value === "number" ? numberToPlainString(value) : value.trim();
  const m = /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) throw new RangeError(`ε must be a positive decimal like 0.1 (got ${JSON.stringify(String(value))})`);
  const frac = m[2] ?? "";
  if (frac.length > MAX_DECIMALS) throw new RangeError(`ε may have at most ${MAX_DECIMALS} decimal places`);
  const num = BigInt(m[1]! + frac);
  const den = 10n ** BigInt(frac.length);
  if (num === 0n) throw new RangeError("ε must be greater than 0");
  return reduce({ num, den });
}

function numberToPlainString(v: number): string {
  if (!Number.isFinite(v) || v <= 0) throw new RangeError(`ε must be a positive number (got ${v})`);
  return v
    .toFixed(MAX_DECIMALS + 2)
    .replace(/0+$/, "")
    .replace(/\.$/, "");
}

function gcd(a: bigint, b: bigint): bigint {
  while (b) [a, b] = [b, a % b];
  return a < 0n ? -a : a;
}

export function reduce(e: Epsilon): Epsilon {
  const g = gcd(e.num, e.den);
  return { num: e.num / g, den: e.den / g };
}

export function addEpsilon(a: Epsilon, b: Epsilon): Epsilon {
  return reduce({ num: a.num * b.den + b.num * a.den, den: a.den * b.den });
}

/** ε split into `parts` equal shares (AVG spends ε/2 on SUM and ε/2 on COUNT). */
export function divideEpsilon(e: Epsilon, parts: number): Epsilon {
  return reduce({ num: e.num, den: e.den * BigInt(parts) });
}

/** ε × num / den (a weighted share: e.g. 9/10 of ε). */
export function scaleEpsilon(e: Epsilon, num: number, den: number): Epsilon {
  return reduce({ num: e.num * BigInt(num), den: e.den * BigInt(den) });
}

export function compareEpsilon(a: Epsilon, b: Epsilon): -1 | 0 | 1 {
  const l = a.num * b.den;
  const r = b.num * a.den;
  return l < r ? -1 : l > r ? 1 : 0;
}

export function epsilonToNumber(e: Epsilon): number {
  return Number(e.num) / Number(e.den);
}

/** Exact decimal text when the denominator divides a power of ten, else 9 significant digits. */
export function formatEpsilon(e: Epsilon): string {
  for (let d = 0; d <= 12; d++) {
    const scale = 10n ** BigInt(d);
    if ((e.num * scale) % e.den === 0n) {
      const units = (e.num * scale) / e.den;
      const s = units.toString().padStart(d + 1, "0");
      return d === 0 ? s : `${s.slice(0, -d)}.${s.slice(-d)}`;
    }
  }
  return epsilonToNumber(e).toPrecision(9);
}
