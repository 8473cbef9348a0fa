/**
 * Issue #16: a quote states bias as well as noise, from the plan and the policy's DP profile only.
 * On heavy-tailed flights the 95% range of the relative error it states holds the error the
 * released values actually show, and an AVG carries the ratio's own noise, not its sum's.
 */
import { describe, expect, it } from "vitest";
import { flightsPolicy, flightsTable, suggestedPolicy } from "../../../bench/accuracy.ts";
import { quotedErrors } from "../../../src/queries/index.ts";
import { aggregateErrors, valueInterval } from "../../../src/queries/error-model.ts";
import { planQuery } from "../../../src/queries/plan.ts";
import { seededBytes } from "../../support/seeded-bytes.ts";
import type { AggregateIR, QueryIR } from "../../../src/queries/ir.ts";

const t = flightsTable(120_000, 11);
// One reproducible profile draw: the tests below assert properties of a single draw.
const { policy } = suggestedPolicy(t, "1", undefined, seededBytes("quoted-errors"));
const planOf = (p: typeof policy | ReturnType<typeof flightsPolicy>, groupBy: string[], aggregates: AggregateIR[]) => {
  const ir: QueryIR = { datasetId: "ds_flights", datasetVersion: 1, filters: [], groupBy, aggregates, epsilon: "1" };
  return planQuery({ ir, policy: p, schema: t.schema, rowCount: t.rows });
};

describe("a quote's expected error", () => {
  // The released value is corrected by the expected bias, so the range spans both signs: one
  // group's own bias lies either side of the expected one.
  it("states bias and noise with a range on both sides of zero, wider than the noise alone", () => {
    const [e] = quotedErrors(planOf(policy, ["origin", "month"], [{ kind: "COUNT_ROWS" }]));
    expect(e!.expectedRelBias).toBeGreaterThan(0);
    expect(e!.expectedRelNoise).toBeGreaterThan(0);
    expect(e!.relErrorInterval!.lo).toBeLessThan(0);
    expect(e!.relErrorInterval!.hi).toBeGreaterThan(0);
    expect(e!.relErrorInterval!.hi - e!.relErrorInterval!.lo).toBeGreaterThan(2 * Math.log(20) * e!.expectedRelNoise!);
  });

  it("gives an AVG the ratio's noise, far below its sum's", () => {
    const plan = planOf(policy, ["origin"], [{ kind: "AVG", column: "dep_delay_min" }]);
    const [e] = quotedErrors(plan);
    const sumSd = plan.statistics.find((s) => s.aggregateIndex === 0 && s.stat === "sum")!.expectedStdDev;
    expect(e!.noiseStdDev).toBeGreaterThan(0);
    expect(e!.noiseStdDev!).toBeLessThan(sumSd / 10);
  });

  it("says nothing of bias without a DP profile (it would need the data)", () => {
    const [e] = quotedErrors(planOf(flightsPolicy(), ["origin"], [{ kind: "COUNT_ROWS" }]));
    expect(e!.expectedRelBias).toBeNull();
    expect(e!.relErrorInterval).toBeNull();
    expect(e!.noiseStdDev).toBeGreaterThan(0);
  });
});

describe("a released AVG's interval", () => {
  it("claims nothing when its noisy count may be below one row (no infinite bound, which JSON cannot carry)", () => {
    const plan = planOf(policy, ["origin"], [{ kind: "AVG", column: "dep_delay_min" }]);
    const [error] = aggregateErrors(plan, plan.profile ?? null);
    const sum = plan.statistics.find((s) => s.aggregateIndex === 0 && s.stat === "sum")!;
    const count = plan.statistics.find((s) => s.aggregateIndex === 0 && s.stat === "count")!;
    const tiny = valueInterval("AVG", 12, error!, { sum, count, releasedSum: 12, releasedCount: 1 });
    expect(tiny).toBeNull();
    const large = valueInterval("AVG", 12, error!, { sum, count, releasedSum: 12 * 1e6, releasedCount: 1e6 });
    expect(large).not.toBeNull();
    expect(Number.isFinite(large!.lo) && Number.isFinite(large!.hi) && large!.lo <= 12 && 12 <= large!.hi).toBe(true);
  });
});
