/**
 * Trusted, outside the isolate: turns one unit's output (a JSON string built inside the isolate)
 * into a clamped vector, or null when it is not exactly `dimension` finite numbers. With a
 * granularity g_i (a power of two), each output is then rounded to a multiple of g_i, so sums of
 * vectors are exact in floating point and the privacy gate can count in integer units.
 */
export function clampedVector(
  json: string,
  ranges: ReadonlyArray<readonly [number, number]>,
  granularity: readonly number[] | null = null,
): number[] | null {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return null;
  }
  if (!Array.isArray(value) || value.length !== ranges.length) return null;
  const out = new Array<number>(ranges.length);
  for (let i = 0; i < ranges.length; i++) {
    const v: unknown = value[i];
    if (typeof v !== "number" || !Number.isFinite(v)) return null;
    const [lo, hi] = ranges[i]!;
    out[i] = quantize(v < lo ? lo : v > hi ? hi : v, granularity?.[i]);
  }
  return out;
}

/** x rounded to a multiple of g (half away from zero); x itself without a granularity. */
export function quantize(x: number, g: number | undefined): number {
  if (g === undefined) return x;
  const q = x / g;
  return (q < 0 ? -Math.round(-q) : Math.round(q)) * g;
}

/** A usable granularity: a positive power of two, 2^-60 … 2^60. */
export function isPowerOfTwo(g: number): boolean {
  if (!(g > 0) || !Number.isFinite(g)) return false;
  const e = Math.log2(g);
  return Number.isInteger(e) && e >= -60 && e <= 60;
}

/** Longest output string worth parsing for a vector of `dimension` numbers. */
export function vectorOutputCap(dimension: number): number {
  return 64 + dimension * 32;
}
