/**
 * Trusted, outside the isolate: turns one unit's output (a JSON string built inside the isolate)
 * into a clamped vector, or null when it is not exactly `dimension` finite numbers.
 */
export function clampedVector(json: string, ranges: ReadonlyArray<readonly [number, number]>): number[] | null {
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
    out[i] = v < lo ? lo : v > hi ? hi : v;
  }
  return out;
}

/** Longest output string worth parsing for a vector of `dimension` numbers. */
export function vectorOutputCap(dimension: number): number {
  return 64 + dimension * 32;
}
