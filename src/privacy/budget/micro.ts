/**
 * ε ↔ integer micro-ε. Every ε the exchange accepts has at most 6 decimal places (parseEpsilon),
 * so ε × 10^6 is an exact integer and the ledger adds and compares integers only.
 */
import { parseEpsilon, type Epsilon } from "../mechanism/index.ts";

export const MICRO_PER_EPSILON = 1_000_000;

/** ε (a decimal number or text with ≤ 6 places, or an exact rational) as integer micro-ε. */
export function toMicro(epsilon: number | string | Epsilon): number {
  const e = typeof epsilon === "object" ? epsilon : parseEpsilon(epsilon);
  const scaled = e.num * BigInt(MICRO_PER_EPSILON);
  if (scaled % e.den !== 0n) throw new RangeError("ε is not a whole number of micro-ε (more than 6 decimal places)");
  const micro = scaled / e.den;
  if (micro > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError("ε is too large");
  return Number(micro);
}

/** Micro-ε as an ε number for display (exact to the 6th decimal). */
export function microToEpsilon(micro: number): number {
  return Number(formatMicro(micro));
}

/** Micro-ε as exact decimal text: 100000 → "0.1", 2500000 → "2.5". */
export function formatMicro(micro: number): string {
  const sign = micro < 0 ? "-" : "";
  const abs = Math.abs(micro);
  const whole = Math.floor(abs / MICRO_PER_EPSILON);
  const frac = String(abs % MICRO_PER_EPSILON)
    .padStart(6, "0")
    .replace(/0+$/, "");
  return `${sign}${whole}${frac ? `.${frac}` : ""}`;
}
