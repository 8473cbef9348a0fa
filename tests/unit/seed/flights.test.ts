/** The heavy-tailed flights generator: deterministic for a seed, and as skewed as it claims. */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { csvBuffers } from "../../../seed/csv-table.ts";
import { flights } from "../../../seed/generators/flights.ts";

const sha = (rows: number, seed: number) => {
  const h = createHash("sha256");
  for (const b of csvBuffers(flights({ rows, seed }))) h.update(b);
  return h.digest("hex");
};

describe("flights generator", () => {
  it("produces the same bytes for a seed and other bytes for another seed", () => {
    expect(sha(3000, 5)).toBe(sha(3000, 5));
    expect(sha(3000, 6)).not.toBe(sha(3000, 5));
  });

  it("has Zipf-distributed units: the heaviest aircraft fly hundreds of times more than the median one", () => {
    const perUnit = new Map<string, number>();
    let rows = 0;
    for (const [aircraft, , , month] of flights({ rows: 60_000, seed: 1 }).generate()) {
      perUnit.set(aircraft as string, (perUnit.get(aircraft as string) ?? 0) + 1);
      expect(Number.isInteger(month)).toBe(true);
      rows++;
    }
    expect(rows).toBe(60_000);
    const counts = [...perUnit.values()].sort((a, b) => b - a);
    const median = counts[counts.length >> 1]!;
    expect(counts[0]! / median).toBeGreaterThan(100);
    // the top 1% of aircraft fly a large share of all flights
    const top = counts.slice(0, Math.ceil(counts.length / 100)).reduce((a, b) => a + b, 0);
    expect(top / rows).toBeGreaterThan(0.1);
  });
});
