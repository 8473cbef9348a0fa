/**
 * Data-derived group keys: the planner (keys from the version's dictionary, refusals on public
 * bounds only, the extra threshold statistic and τ) and the release step (a group of k − 1 units
 * is never released, one of exactly k only with probability ≤ δ_group, big groups always),
 * measured over many runs of the release function with real and with injected byte sources.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { DERIVED_KEYS_DELTA, keyThresholdFor, planQuery, type QueryPlan } from "../../../src/queries/plan.ts";
import { compileClusteredKernel, kernelColumns, kernelShape } from "../../../src/queries/compile.ts";
import { bindParams } from "../../../src/queries/bind.ts";
import { clusterColumns } from "../../../src/runs/columns.ts";
import { runClusteredInProcess } from "../../../src/runs/kernel-job.ts";
import { passesKeyThreshold, releaseAnswer } from "../../../src/queries/release.ts";
import { PolicyViolation } from "../../../src/queries/errors.ts";
import type { QueryIR } from "../../../src/queries/ir.ts";
import type { PolicyRules } from "../../../src/privacy/policy/model.ts";
import type { DatasetSchema } from "../../../src/datasets/model.ts";
import { cryptoBytes, parseEpsilon, type ByteSource } from "../../../src/privacy/mechanism/index.ts";
import { clopperPearson } from "../../support/clopper-pearson.ts";
import { DISTRICTS, taxiTable } from "../../support/taxi-fixture.ts";

const schema: DatasetSchema = {
  columns: [
    { name: "vehicle_id", type: "string", nullable: false },
    { name: "district", type: "string", nullable: false },
    { name: "merchant", type: "string", nullable: false },
    { name: "hour", type: "int", nullable: false },
  ],
};

const K = 10;
const policy: PolicyRules = {
  privacyUnit: "vehicle_id",
  dimensions: [
    { column: "district", keys: DISTRICTS, edges: null, dateEdges: null },
    { column: "merchant", keys: null, edges: null, dateEdges: null, derivedKeys: true },
    { column: "hour", keys: null, edges: Array.from({ length: 25 }, (_, h) => h), dateEdges: null },
  ],
  measures: [],
  aggregates: ["COUNT_UNITS", "COUNT_ROWS"],
  minGroupSize: K,
  epsilonPerQuery: 1,
  buyerEpsilonBudget: 2,
  datasetEpsilonBudget: 10,
  maxGroupsPerUnit: 1,
};

/** Dictionary order is file order; the planner must not leak it. */
const MERCHANTS = ["zeta 小店", "alpha", "k-1 units", "exactly k", "big"];

const ir = (over: Partial<QueryIR> = {}): QueryIR => ({
  datasetId: "ds_test",
  datasetVersion: 1,
  filters: [],
  groupBy: ["merchant"],
  aggregates: [{ kind: "COUNT_UNITS" }],
  epsilon: "1",
  ...over,
});

const plan = (over: Partial<QueryIR> = {}, derivedKeys: Record<string, string[]> = { merchant: MERCHANTS }, p: PolicyRules = policy) =>
  planQuery({ ir: ir(over), policy: p, schema, rowCount: 1000, derivedKeys });

function refusal(fn: () => unknown) {
  try {
    fn();
  } catch (e) {
    if (e instanceof PolicyViolation) return { rule: e.rule, path: e.path, message: e.message };
    throw e;
  }
  throw new Error("expected a refusal");
}

/** A reproducible byte stream (SHA-256 in counter mode): lets a rate be measured deterministically. */
function seededBytes(seed: string): ByteSource {
  let counter = 0;
  let block = Buffer.alloc(0);
  let at = 0;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      if (at >= block.length) {
        block = createHash("sha256").update(`${seed}:${counter++}`).digest();
        at = 0;
      }
      out[i] = block[at++]!;
    }
    return out;
  };
}

const NO_RANDOMNESS: ByteSource = () => {
  throw new Error("no noise may be drawn for this group");
};

/** Totals for a COUNT_UNITS plan (W = 2: units, rows), units per group in the plan's key order. */
function totalsFor(p: QueryPlan, unitsByKey: Record<string, number>): number[] {
  const keys = p.groupDims[0]!.kind === "keys" ? p.groupDims[0]!.keys : [];
  return keys.flatMap((k) => [unitsByKey[String(k)] ?? 0, (unitsByKey[String(k)] ?? 0) * 3]);
}

function releasedKeys(p: QueryPlan, totals: number[], bytes: ByteSource = cryptoBytes): string[] {
  return releaseAnswer(p, totals, bytes).groups.map((g) => g.key.map((k) => k.value).join("|"));
}

describe("planning data-derived keys", () => {
  it("takes the keys from the dictionary, sorted, and adds a threshold statistic with its own ε share", () => {
    const p = plan({ aggregates: [{ kind: "COUNT_UNITS" }, { kind: "COUNT_ROWS" }] });
    expect(p.groupDims).toEqual([{ column: "merchant", kind: "keys", keys: [...MERCHANTS].sort(), derived: true }]);
    expect(p.groupCount).toBe(MERCHANTS.length);
    expect(p.statistics.map((s) => s.stat)).toEqual(["units", "rows", "threshold"]);
    for (const s of p.statistics) expect(s.epsilon).toEqual({ num: 1n, den: 3n });
    const t = p.keyThreshold!;
    expect(t.statistic.sensitivity).toBe(1n); // maxGroupsPerUnit
    expect(t.delta).toBe(DERIVED_KEYS_DELTA);
    expect(t.delta).toBeLessThanOrEqual(1e-7);
    // t = Δ/ε = 3; τ = k + ⌈3·ln(1/1e-7)⌉ = 10 + ⌈48.35⌉
    expect(t.tau).toBe(BigInt(K + Math.ceil(3 * Math.log(1 / 1e-7))));
    expect(t.tau).toBe(59n);
  });

  it("splits δ over the groups one unit may reach", () => {
    const p = plan({}, { merchant: MERCHANTS }, { ...policy, maxGroupsPerUnit: 4 });
    const t = p.keyThreshold!;
    expect(t.deltaPerGroup).toBeCloseTo(1e-7 / 4, 20);
    expect(t.statistic.sensitivity).toBe(4n);
    // ε share 1/2 (COUNT_UNITS + threshold), Δ = 4: t = 8
    expect(t.tau).toBe(BigInt(K + Math.ceil(8 * Math.log(4 / 1e-7))));
  });

  it("puts τ where a group of exactly k units passes with probability ≤ δ_group, for any ε and m", () => {
    // Discrete Laplace of scale t: P[X ≥ x] = q^x / (1 + q), q = e^{−1/t}, for x ≥ 1.
    for (const eps of ["1", "0.5", "0.1", "0.01", "0.333333"]) {
      for (const m of [1, 3, 100]) {
        const t = keyThresholdFor(K, m, parseEpsilon(eps));
        const scale = m / Number(eps);
        const q = Math.exp(-1 / scale);
        const x = Number(t.tau) - K;
        expect(q ** x / (1 + q)).toBeLessThanOrEqual(t.deltaPerGroup);
        // …and τ is not needlessly high: one unit lower would break the bound (up to the 1/(1+q) slack).
        expect(q ** (x - 1)).toBeGreaterThan(t.deltaPerGroup);
      }
    }
  });

  it("mixes public keys and derived keys in one group-by, and leaves public-key queries unthresholded", () => {
    const p = plan({ groupBy: ["district", "merchant"] });
    expect(p.groupCount).toBe(DISTRICTS.length * MERCHANTS.length);
    expect(p.keyThreshold).not.toBeNull();
    const publicOnly = plan({ groupBy: ["district"] }, {});
    expect(publicOnly.keyThreshold).toBeNull();
    expect(publicOnly.statistics.map((s) => s.stat)).toEqual(["units"]);
  });

  it("checks the number of groups on public bounds only: the refusal is the same for any dictionary", () => {
    // 1000 (the most a derived-keys column may have) × 24 hour buckets > 10 000, with 5 merchants or 900.
    const small = refusal(() => plan({ groupBy: ["merchant", "hour"] }));
    const large = refusal(() => plan({ groupBy: ["merchant", "hour"] }, { merchant: Array.from({ length: 900 }, (_, i) => `m${i}`) }));
    expect(small).toMatchObject({ rule: "TOO_MANY_GROUPS", path: "input.groupBy" });
    expect(large).toEqual(small);
    expect(small.message).toContain("24000");
    expect(small.message).not.toMatch(/\b5\b|\b900\b|\b120\b/);
  });

  it("refuses a missing or oversize dictionary last, after every rule that depends on the query alone", () => {
    expect(refusal(() => plan({}, {}))).toMatchObject({ rule: "DERIVED_KEYS_UNAVAILABLE", path: "input.groupBy[0]" });
    const tooMany = Array.from({ length: 1001 }, (_, i) => `m${i}`);
    const oversize = refusal(() => plan({}, { merchant: tooMany }));
    expect(oversize).toMatchObject({ rule: "DERIVED_KEYS_UNAVAILABLE" });
    expect(oversize.message).not.toContain("1001");
    expect(refusal(() => plan({ aggregates: [{ kind: "SUM", column: "hour" }] }, {}))).toMatchObject({ rule: "AGGREGATE_NOT_ALLOWED" });
    expect(refusal(() => plan({ epsilon: "2" }, {}))).toMatchObject({ rule: "EPSILON_ABOVE_LIMIT" });
  });

  it("accepts `in` filters of any strings on a derived-keys column, bounded in count and length", () => {
    const p = plan({ filters: [{ column: "merchant", op: "in", values: ["not in the data", "big"] }] });
    expect(p.filters).toEqual([{ column: "merchant", kind: "in", values: ["big", "not in the data"] }]);
    // Filtering needs no dictionary: a query that does not group by the column reads none.
    expect(plan({ groupBy: [], filters: [{ column: "merchant", op: "in", values: ["x"] }] }, {}).keyThreshold).toBeNull();
    expect(refusal(() => plan({ filters: [{ column: "merchant", op: "in", values: [7] }] }))).toMatchObject({
      rule: "BAD_FILTER",
      path: "input.filters[0].values",
    });
    expect(refusal(() => plan({ filters: [{ column: "merchant", op: "in", values: ["x".repeat(201)] }] }))).toMatchObject({ rule: "BAD_FILTER" });
    const many = Array.from({ length: 1001 }, (_, i) => `v${i}`);
    expect(refusal(() => plan({ filters: [{ column: "merchant", op: "in", values: many }] }))).toMatchObject({ rule: "BAD_FILTER" });
    expect(refusal(() => plan({ filters: [{ column: "merchant", op: "range", lo: 1, hi: 2 }] }))).toMatchObject({ rule: "BAD_FILTER" });
  });
});

describe("kernel and release over derived keys", () => {
  it("counts each dictionary value as a group and releases only those above the threshold, in sorted key order", () => {
    // The taxi table's district column has 5 dictionary values; treat it as a derived-keys column.
    const t = taxiTable(40_000, 400, 13);
    const taxiSchema: DatasetSchema = {
      columns: [
        { name: "vehicle_id", type: "string", nullable: false },
        { name: "district", type: "string", nullable: false },
        { name: "hour", type: "int", nullable: false },
        { name: "fare", type: "float", nullable: true },
      ],
    };
    const p = planQuery({
      ir: { ...ir(), groupBy: ["district"], filters: [{ column: "district", op: "in", values: ["朝阳区", "海淀区", "unknown-district"] }] },
      policy: { ...policy, dimensions: [{ column: "district", keys: null, edges: null, dateEdges: null, derivedKeys: true }], maxGroupsPerUnit: 5 },
      schema: taxiSchema,
      rowCount: t.vehicle.length,
      derivedKeys: { district: t.dictionary },
    });
    // The service's kernel: columns clustered by unit, two partitions.
    const names = kernelColumns(p);
    const clustered = clusterColumns(t.views, "vehicle_id", names, 2);
    const program = compileClusteredKernel(p, kernelShape(names, clustered.views));
    const totals = runClusteredInProcess(program, clustered, bindParams(p, program, clustered.views)).totals;
    const keys = p.groupDims[0]!.kind === "keys" ? p.groupDims[0]!.keys : [];
    expect(keys).toEqual([...t.dictionary].sort());
    keys.forEach((k, g) => {
      const code = t.dictionary.indexOf(String(k));
      const units = new Set<number>();
      for (let i = 0; i < t.vehicle.length; i++) if (t.district[i] === code) units.add(t.vehicle[i]!);
      const filteredIn = ["朝阳区", "海淀区", "unknown-district"].includes(String(k));
      expect(totals[g * program.groupWidth]).toBe(filteredIn ? units.size : 0);
    });
    // ~400 vehicles per kept district, far above τ; the filtered-out ones are empty and absent.
    expect(releasedKeys(p, totals)).toEqual(["unknown-district", "朝阳区", "海淀区"].sort());
  });

  it("judges every group on its noisy count, never the exact one: even k − 1 and 0 units draw noise", () => {
    const p = plan();
    const totals = totalsFor(p, { "k-1 units": K - 1 });
    // A throwing byte source fails loudly for every count: no exact pre-check decides anything.
    expect(() => releasedKeys(p, totals, NO_RANDOMNESS)).toThrow(/no noise/);
    for (const n of [0, K - 1, K]) expect(() => passesKeyThreshold(p.keyThreshold!, n, NO_RANDOMNESS)).toThrow(/no noise/);
  });

  it("over many runs: k − 1 and exactly k (almost) never, big groups always; no marker for the absent", () => {
    const p = plan();
    const tau = Number(p.keyThreshold!.tau);
    const units = { "k-1 units": K - 1, "exactly k": K, big: tau + 200, alpha: 0, "zeta 小店": 3 };
    const totals = totalsFor(p, units);
    const runs = 20_000;
    const hits = new Map<string | number | boolean, number>();
    for (let r = 0; r < runs; r++) {
      const answer = releaseAnswer(p, totals);
      for (const g of answer.groups) hits.set(g.key[0]!.value, (hits.get(g.key[0]!.value) ?? 0) + 1);
      // Absent groups are absent: every released group carries a number, nothing marks the others.
      for (const g of answer.groups) expect(g.values.every((v) => typeof v.value === "number")).toBe(true);
    }
    const rate = (k: string) => (hits.get(k) ?? 0) / runs;
    console.log(
      `[derived keys] τ = ${tau}, k = ${K}; release rate over ${runs} runs: k−1 ${rate("k-1 units")}, k ${rate("exactly k")}, τ+200 ${rate("big")}`,
    );
    // Below τ the release probability falls with the count: at most δ_group = 1e-7 for k and below.
    expect(hits.get("k-1 units") ?? 0).toBeLessThanOrEqual(1);
    expect(hits.get("alpha") ?? 0).toBeLessThanOrEqual(1);
    expect(hits.get("zeta 小店") ?? 0).toBeLessThanOrEqual(1);
    // P(release at k) ≤ δ_group = 1e-7: two or more hits in 20 000 runs has probability < 2·10⁻⁶.
    expect(hits.get("exactly k") ?? 0).toBeLessThanOrEqual(1);
    expect(hits.get("big")).toBe(runs);
  });

  it("with a reproducible byte source: exactly k is released at most at rate δ_group, and not never", () => {
    // δ = 0.05 here (not the product's 1e-7) so that the rare event is visible in 20 000 runs.
    const base = plan();
    const delta = 0.05;
    const p: QueryPlan = { ...base, keyThreshold: keyThresholdFor(K, 1, base.keyThreshold!.statistic.epsilon, delta) };
    const tau = Number(p.keyThreshold!.tau);
    const bytes = seededBytes("k-versus-k-minus-one");
    const runs = 20_000;
    let atK = 0;
    let atKMinus1 = 0;
    let atTau = 0;
    for (let r = 0; r < runs; r++) {
      if (passesKeyThreshold(p.keyThreshold!, K, bytes)) atK++;
      if (passesKeyThreshold(p.keyThreshold!, K - 1, bytes)) atKMinus1++;
      if (passesKeyThreshold(p.keyThreshold!, tau, bytes)) atTau++;
    }
    const ci = clopperPearson(atK, runs, 1e-6);
    console.log(
      `[derived keys, δ = ${delta}] τ = ${tau}: rate at k−1 ${atKMinus1 / runs}, at k ${atK / runs} (CP ${ci.lower.toFixed(4)}–${ci.upper.toFixed(4)}), at τ ${atTau / runs}`,
    );
    // Judged on noise alone: k − 1 is released less often than k, and like k at most at rate δ_group.
    expect(atKMinus1).toBeLessThanOrEqual(atK);
    expect(clopperPearson(atKMinus1, runs, 1e-6).lower).toBeLessThanOrEqual(delta);
    expect(atK).toBeGreaterThan(0); // noisy, not a hard cut at some higher count
    expect(ci.lower).toBeLessThanOrEqual(delta); // consistent with P(release at k) ≤ δ_group
    expect(atTau / runs).toBeGreaterThan(0.5); // at τ the noise decides, about half the time or more
    // The product's δ on the same stream: k is never released in 20 000 runs.
    const strict = plan().keyThreshold!;
    let strictHits = 0;
    const again = seededBytes("k-versus-k-minus-one/strict");
    for (let r = 0; r < runs; r++) if (passesKeyThreshold(strict, K, again)) strictHits++;
    expect(strictHits).toBe(0);
  });
});
