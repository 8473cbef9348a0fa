/**
 * Issue #16 on heavy-tailed data (the flights generator: Zipf aircraft): bounds suggested from a
 * DP contribution profile beat the fixed defaults, and the per-group 95% intervals the answer
 * states (noise + bounding bias from the profile) cover the true, non-private counts.
 */
import { describe, expect, it } from "vitest";
import { FLIGHT_QUERIES, flightsPolicy, flightsTable, measureAccuracy, releasedInterval, suggestedPolicy } from "../../../bench/accuracy.ts";
import { keptRows } from "../../../src/queries/bounds-model.ts";
import { seededBytes } from "../../support/seeded-bytes.ts";

const t = flightsTable(300_000, 7);
const counts = FLIGHT_QUERIES.filter((q) => q.aggregate.kind === "COUNT_ROWS");
const sums = FLIGHT_QUERIES.filter((q) => q.aggregate.kind === "SUM");

describe("bounds suggested from a DP profile, on heavy-tailed flights", () => {
  // Reproducible profile draws (the answers' noise stays fresh): a bad draw would otherwise fail
  // one run in ten or twenty, which says nothing about a change.
  const { policy, profile, suggestion } = suggestedPolicy(t, "1", undefined, seededBytes("accuracy-coverage"));

  it("profiles every single dimension and pair, with the public row count and no phantom tail", () => {
    expect(profile.shapes.map((s) => s.dims.join("×"))).toEqual([
      "",
      "origin",
      "carrier",
      "month",
      "origin×carrier",
      "origin×month",
      "carrier×month",
    ]);
    for (const s of profile.shapes) {
      expect(s.rows).toBe(t.rows);
      const { kept } = keptRows(s, 1000, 10_000);
      expect(kept).toBeLessThanOrEqual(t.rows);
      expect(kept).toBeGreaterThan(0);
    }
  });

  it("suggests looser bounds than the defaults and shows the trade-off around them", () => {
    expect(suggestion.maxGroupsPerUnit).toBeGreaterThan(1);
    expect(suggestion.tradeoffs.length).toBeGreaterThan(1);
    expect(suggestion.tradeoffs).toContainEqual(expect.objectContaining({ maxRowsPerUnit: suggestion.maxRowsPerUnit }));
    for (const o of suggestion.tradeoffs) expect(o.expectedRelError).toBeGreaterThanOrEqual(suggestion.expectedRelError);
  });

  // Each query tunes its own bounds inside the policy's caps: a sum by carrier (one carrier per
  // aircraft) keeps far more rows per unit than a count by origin × month may.
  it("answers a sum by carrier with less error than the defaults (the one-pair regression)", () => {
    const before = measureAccuracy(t, flightsPolicy(), { runs: 4, epsilon: "1", queries: sums });
    const after = measureAccuracy(t, policy, { runs: 4, epsilon: "1", queries: sums, interval: releasedInterval });
    after.forEach((a, i) => expect(a.medianRelError).toBeLessThan(before[i]!.medianRelError));
  });

  // The target is ≥ 93% coverage; at 300k rows per-query bounds reach about 75–90% on
  // counts (the heavy
  // aircraft's losses concentrate on their home airports, which a per-shape loss cannot see),
  // so this asserts what holds today and the target stays open (see the branch's report).
  it("answers counts with less error than the defaults, and states intervals that cover the truth far more often", () => {
    const before = measureAccuracy(t, flightsPolicy(), { runs: 4, epsilon: "1", queries: counts });
    const after = measureAccuracy(t, policy, { runs: 8, epsilon: "1", queries: counts, interval: releasedInterval });
    after.forEach((a, i) => {
      expect(a.medianRelError).toBeLessThan(before[i]!.medianRelError);
      expect(a.coverage).toBeGreaterThanOrEqual(0.5);
      expect(a.coverage).toBeGreaterThan(before[i]!.coverage + 0.3);
    });
    // the noise-only intervals of the defaults miss most groups: the bias is most of the error
    for (const b of before) expect(b.coverage).toBeLessThan(0.5);
  });

  // Every shape, AVG included, and whatever size the owner declared: the interval the answer
  // states holds the true value for most (group, run) pairs. The target is ≥ 0.93; in
  // repeated draws of the profile (its noise is fresh each time) the worst shape measured
  // 0.88–1.00, so this asserts a floor below that spread (see the branch's report).
  it("states intervals that hold the true value for every query shape, with an exact size, a size bucket or none", () => {
    const declared = [{ minRows: t.rows, maxRows: t.rows }, { minRows: 100_001, maxRows: 1_000_000 }, null];
    for (const publicSize of declared) {
      const suggested = suggestedPolicy(t, "1", publicSize, seededBytes(`accuracy-coverage ${JSON.stringify(publicSize)}`)).policy;
      const results = measureAccuracy(t, suggested, { runs: 6, epsilon: "1", interval: releasedInterval });
      for (const r of results) expect(r.coverage, `${r.name} with size ${JSON.stringify(publicSize)}`).toBeGreaterThanOrEqual(0.85);
    }
  });
});
