/**
 * Planner, compiler and release, in-process: kernels against a plain reference implementation,
 * hostile names and values that must not change the kernel's code, and every refusal rule.
 */
import { describe, expect, it } from "vitest";
import { planQuery, type QueryPlan } from "../../src/queries/plan.ts";
import { compileClusteredKernel, kernelColumns, kernelShape } from "../../src/queries/compile.ts";
import { compileKernel } from "../support/legacy-kernel.ts";
import { bindParams, mergeTotals, runKernelInProcess } from "../../src/queries/bind.ts";
import { partitionsFor, prepareQueryKernel, runClusteredInProcess } from "../../src/runs/kernel-job.ts";
import { ColumnLoader, clusterColumns, unitLayout } from "../../src/runs/columns.ts";
import type { DatasetsService } from "../../src/datasets/service.ts";
import type { DatasetVersion } from "../../src/datasets/model.ts";
import type { ColumnView } from "../../src/queries/kernel-abi.ts";
import { releaseAnswer } from "../../src/queries/release.ts";
import { PolicyViolation } from "../../src/queries/errors.ts";
import { epsilonToNumber } from "../../src/privacy/mechanism/epsilon.ts";
import type { QueryIR } from "../../src/queries/ir.ts";
import type { PolicyRules } from "../../src/privacy/policy/model.ts";
import type { DatasetSchema } from "../../src/datasets/model.ts";
import { DISTRICTS, MIXED_POLICY, MIXED_SCHEMA, TAXI_IR, TAXI_POLICY, TAXI_SCHEMA, mixedTable, taxiTable } from "../support/taxi-fixture.ts";

const schema = TAXI_SCHEMA;
const policy = TAXI_POLICY;
const baseIR = TAXI_IR;

function run(ir: QueryIR, t: ReturnType<typeof taxiTable>, p = policy, partitions = 1) {
  const plan = planQuery({ ir, policy: p, schema, rowCount: t.vehicle.length });
  const program = compileKernel(plan);
  const bound = bindParams(plan, program, t.views);
  const parts = Array.from({ length: partitions }, (_, partition) => runKernelInProcess(program, t.views, { ...bound, partitions, partition }));
  return { plan, program, totals: mergeTotals(parts) };
}

describe("compiled kernels", () => {
  it("match a plain reference implementation (filter, group, clamp, row cap)", () => {
    const t = taxiTable(20_000, 300);
    const { totals, program } = run(baseIR, t);
    const W = program.groupWidth;
    for (const [g, name] of DISTRICTS.entries()) {
      const code = t.dictionary.indexOf(name);
      const units = new Set<number>();
      let rows = 0;
      let sum = 0;
      let n = 0;
      const bins = [0, 0, 0, 0, 0];
      for (let i = 0; i < t.vehicle.length; i++) {
        if (t.district[i] !== code || !(t.hour[i]! >= 7 && t.hour[i]! < 10)) continue;
        units.add(t.vehicle[i]!);
        rows++;
        if (t.fareNulls[i >>> 3]! & (1 << (i & 7))) continue;
        const v = Math.min(500, Math.max(0, t.fare[i]!));
        sum += v;
        n++;
        bins[Math.min(4, Math.floor(v / 100))]!++;
      }
      const o = g * W;
      expect(totals[o]).toBe(units.size);
      expect(totals[o + 1]).toBe(rows);
      expect(totals[o + 2]).toBeCloseTo(sum, 6);
      expect(totals[o + 3]).toBe(n);
      expect(totals.slice(o + 4, o + 9)).toEqual(bins);
    }
  });

  it("gives the same totals when units are split across partitions", () => {
    const t = taxiTable(10_000, 200, 11);
    const one = run(baseIR, t, policy, 1).totals;
    const three = run(baseIR, t, policy, 3).totals;
    three.forEach((v, i) => expect(v).toBeCloseTo(one[i]!, 6));
  });

  it("counts each unit in at most maxGroupsPerUnit groups and at most R rows per group", () => {
    const t = taxiTable(20_000, 50, 3); // 50 vehicles, each in every district
    const p = { ...policy, maxGroupsPerUnit: 1, maxRowsPerUnit: 5 };
    const { totals, program } = run({ ...baseIR, filters: [] }, t, p);
    const W = program.groupWidth;
    const unitsCounted = DISTRICTS.reduce((n, _, g) => n + totals[g * W]!, 0);
    expect(unitsCounted).toBeLessThanOrEqual(50);
    expect(unitsCounted).toBeGreaterThan(40); // most vehicles land in some listed district
    DISTRICTS.forEach((_, g) => expect(totals[g * W + 1]!).toBeLessThanOrEqual(totals[g * W]! * 5));
  });

  it("groups numbers by bucket edges", () => {
    const t = taxiTable(5_000, 100, 5);
    const { totals, program, plan } = run({ ...baseIR, filters: [], groupBy: ["hour"], aggregates: [{ kind: "COUNT_ROWS" }] }, t);
    expect(plan.groupCount).toBe(4);
    const rowsByBucket = [0, 1, 2, 3].map((b) => totals[b * program.groupWidth + 1]);
    const expected = [0, 0, 0, 0];
    for (const h of t.hour) expected[Math.floor(h / 6)]!++;
    expect(rowsByBucket).toEqual(expected);
  });

  it("emits the same code whatever the column names and values: names and literals are data", () => {
    const hostileName = 'x"]); globalThis.pwned = 1; //';
    const hostileKey = "'); while(1){} ('";
    const hostileSchema: DatasetSchema = { columns: schema.columns.map((c) => (c.name === "district" ? { ...c, name: hostileName } : c)) };
    const hostilePolicy = {
      ...policy,
      dimensions: [{ column: hostileName, keys: [hostileKey, "b"], edges: null, dateEdges: null }, policy.dimensions[1]!],
    };
    const benignPolicy = { ...policy, dimensions: [{ column: "district", keys: ["a", "b"], edges: null, dateEdges: null }, policy.dimensions[1]!] };
    const ir = (col: string, key: string): QueryIR => ({
      ...baseIR,
      filters: [{ column: col, op: "in", values: [key] }],
      groupBy: [col],
    });
    const a = compileKernel(planQuery({ ir: ir(hostileName, hostileKey), policy: hostilePolicy, schema: hostileSchema, rowCount: 1 }));
    const b = compileKernel(planQuery({ ir: ir("district", "a"), policy: benignPolicy, schema, rowCount: 1 }));
    expect(a.source).toBe(b.source);
    expect(a.source).not.toContain("pwned");
    expect(a.columns).toContain(hostileName);
  });
});

/** The unit ranking rule every kernel uses (a keyed hash of unit and group), restated. */
function rank(seed: number, u: number, g: number): number {
  let h = seed ^ Math.imul((u | 0) ^ ((u / 4294967296) | 0), 0x9e3779b1) ^ Math.imul(g + 1, 0x85ebca6b);
  h ^= h >>> 15;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 13;
  return h >>> 0;
}

/**
 * The bounded group-by written plainly from the plan, reading logical values (strings, numbers,
 * booleans): per unit and group the first R rows in file order, measures clamped, histogram
 * bins of the raw value; per unit the MG groups of smallest (rank, group); then group totals.
 */
function referenceTotals(plan: QueryPlan, views: Record<string, ColumnView>, schema: DatasetSchema, seed: number): number[] {
  const rows = Object.values(views)[0]!.values.length;
  const value = (name: string, i: number): string | number | boolean | null => {
    const v = views[name]!;
    if (v.nulls && v.nulls[i >>> 3]! & (1 << (i & 7))) return null;
    if (v.dictionary) return v.dictionary[v.values[i]!]!;
    return schema.columns.find((c) => c.name === name)!.type === "boolean" ? v.values[i] === 1 : v.values[i]!;
  };
  const M = plan.measures.length;
  const W = 2 + 2 * M + plan.histograms.reduce((n, h) => n + h.bins, 0);
  type Cell = { rows: number; sums: number[]; ns: number[]; bins: number[][] };
  const units = new Map<number, Map<number, Cell>>();
  for (let i = 0; i < rows; i++) {
    const pass = plan.filters.every((f) => {
      const v = value(f.column, i);
      if (v === null) return false;
      if (f.kind === "in") return f.values.includes(v);
      return (f.lo === null || (v as number) >= f.lo) && (f.hi === null || (v as number) < f.hi);
    });
    if (!pass) continue;
    let g = 0;
    let inGroup = true;
    for (const d of plan.groupDims) {
      const v = value(d.column, i);
      let x = -1;
      if (v !== null && d.kind === "keys") x = d.keys.indexOf(v);
      if (v !== null && d.kind === "edges")
        for (let e = 0; e + 1 < d.edges.length; e++) if ((v as number) >= d.edges[e]! && (v as number) < d.edges[e + 1]!) x = e;
      if (x < 0) inGroup = false;
      g = g * (d.kind === "keys" ? d.keys.length : d.edges.length - 1) + x;
    }
    if (!inGroup || value(plan.unitColumn.name, i) === null) continue;
    const u = views[plan.unitColumn.name]!.values[i]!; // the code (or number) the rank is keyed on
    let cells = units.get(u);
    if (!cells) units.set(u, (cells = new Map()));
    let cell = cells.get(g);
    if (!cell)
      cells.set(
        g,
        (cell = {
          rows: 0,
          sums: plan.measures.map(() => 0),
          ns: plan.measures.map(() => 0),
          bins: plan.histograms.map((h) => new Array<number>(h.bins).fill(0)),
        }),
      );
    if (cell.rows >= plan.maxRowsPerUnit) continue;
    cell.rows++;
    plan.measures.forEach((m, x) => {
      const v = value(m.column, i) as number | null;
      if (v === null) return;
      cell.sums[x]! += Math.min(m.hi, Math.max(m.lo, v));
      cell.ns[x]!++;
    });
    plan.histograms.forEach((h, x) => {
      const v = value(h.column, i) as number | null;
      if (v === null) return;
      const b = Math.min(h.bins - 1, Math.max(0, Math.floor((v - h.lo) / ((h.hi - h.lo) / h.bins))));
      cell.bins[x]![b]!++;
    });
  }
  const totals = new Array<number>(plan.groupCount * W).fill(0);
  for (const [u, cells] of units) {
    const kept = [...cells.keys()].sort((a, b) => rank(seed, u, a) - rank(seed, u, b) || a - b).slice(0, plan.maxGroupsPerUnit);
    for (const g of kept) {
      const cell = cells.get(g)!;
      const o = g * W;
      totals[o]! += 1;
      totals[o + 1]! += cell.rows;
      plan.measures.forEach((_, x) => {
        totals[o + 2 + 2 * x]! += cell.sums[x]!;
        totals[o + 3 + 2 * x]! += cell.ns[x]!;
      });
      let off = 2 + 2 * M;
      plan.histograms.forEach((h, x) => {
        cell.bins[x]!.forEach((n, b) => (totals[o + off + b]! += n));
        off += h.bins;
      });
    }
  }
  return totals;
}

describe("unit-clustered kernels", () => {
  const mixedIR = (over: Partial<QueryIR>): QueryIR => ({
    datasetId: "ds_test",
    datasetVersion: 1,
    filters: [],
    groupBy: [],
    aggregates: [{ kind: "COUNT_UNITS" }],
    epsilon: "0.5",
    ...over,
  });
  const ALL_AGGREGATES: QueryIR["aggregates"] = [
    { kind: "COUNT_UNITS" },
    { kind: "COUNT_ROWS" },
    { kind: "SUM", column: "m1" },
    { kind: "AVG", column: "m2" },
    { kind: "HISTOGRAM", column: "m1", bins: 4 },
  ];
  // Filters of every kind (range, `in` on strings and on booleans), groupings of every kind, caps tight and loose.
  const scenarios: Array<{ name: string; ir: Partial<QueryIR>; mg: number; r: number }> = [
    {
      name: "range filter, string keys, MG 1",
      ir: { filters: [{ column: "t", op: "range", lo: 10, hi: 90 }], groupBy: ["cat"], aggregates: ALL_AGGREGATES },
      mg: 1,
      r: 1000,
    },
    {
      name: "two filters, string × int keys, MG 2, R 2",
      ir: {
        filters: [
          { column: "cat", op: "in", values: ["a", "c", "e"] },
          { column: "flag", op: "in", values: [true] },
        ],
        groupBy: ["cat", "num"],
        aggregates: ALL_AGGREGATES,
      },
      mg: 2,
      r: 2,
    },
    {
      name: "edges × boolean keys, MG 3, R 1",
      ir: { filters: [{ column: "t", op: "range", lo: null, hi: 80 }], groupBy: ["t", "flag"], aggregates: ALL_AGGREGATES },
      mg: 3,
      r: 1,
    },
    { name: "no filter, three dimensions, MG above the groups", ir: { groupBy: ["cat", "num", "t"], aggregates: ALL_AGGREGATES }, mg: 1000, r: 3 },
    { name: "no grouping", ir: { filters: [{ column: "num", op: "in", values: [1, 2] }], aggregates: ALL_AGGREGATES }, mg: 1, r: 5 },
    {
      name: "ranges on an int column (fractional and open bounds)",
      ir: {
        filters: [
          { column: "num", op: "range", lo: 0.5, hi: 3.5 },
          { column: "t", op: "range", lo: 5, hi: null },
        ],
        groupBy: ["cat"],
        aggregates: ALL_AGGREGATES,
      },
      mg: 2,
      r: 4,
    },
    {
      name: "an int range that holds no integer",
      ir: { filters: [{ column: "num", op: "range", lo: 1.2, hi: 1.8 }], groupBy: ["cat"], aggregates: ALL_AGGREGATES },
      mg: 1,
      r: 4,
    },
    {
      name: "an int range open below",
      ir: { filters: [{ column: "num", op: "range", lo: null, hi: 2 }], groupBy: ["flag"], aggregates: ALL_AGGREGATES },
      mg: 1,
      r: 1000,
    },
  ];

  for (const sc of scenarios) {
    for (const partitions of [1, 2, 3]) {
      it(`give the unclustered kernel's totals bit for bit and match the plain reference: ${sc.name}, ${partitions} partition(s)`, () => {
        const { views } = mixedTable(6_000, 150, 1000 + partitions * 17 + sc.mg, { unitNulls: partitions === 2 });
        const policy = { ...MIXED_POLICY, maxGroupsPerUnit: sc.mg, maxRowsPerUnit: sc.r };
        const plan = planQuery({ ir: mixedIR(sc.ir), policy, schema: MIXED_SCHEMA, rowCount: 6_000 });
        const legacy = compileKernel(plan);
        // No row seed: the first R rows in file order, the oracle's rule (random choice is tested below).
        const { rowSeed: _firstRows, ...bind } = bindParams(plan, legacy, views);
        const bound = { ...bind, seed: 0x5eed + partitions };
        const expected = mergeTotals(
          Array.from({ length: partitions }, (_, partition) => runKernelInProcess(legacy, views, { ...bound, partitions, partition })),
        );

        const names = kernelColumns(plan);
        const clustered = clusterColumns(views, plan.unitColumn.name, names, partitions);
        const program = compileClusteredKernel(plan, kernelShape(names, clustered.views));
        const totals = runClusteredInProcess(program, clustered, bound).totals;
        expect(totals).toEqual(expected); // Object.is on every number: same additions in the same order

        const reference = referenceTotals(plan, views, MIXED_SCHEMA, bound.seed);
        expect(totals.length).toBe(reference.length);
        totals.forEach((v, i) => expect(v).toBeCloseTo(reference[i]!, 6));
        expect(totals.some((v) => v > 0)).toBe(sc.name !== "an int range that holds no integer");
      });
    }
  }

  it("bound numeric units the same way (counts exact, sums up to the order of additions)", () => {
    const { views } = mixedTable(6_000, 150, 99);
    const policy = { ...MIXED_POLICY, privacyUnit: "nunit", maxGroupsPerUnit: 2, maxRowsPerUnit: 3 };
    const plan = planQuery({
      ir: mixedIR({ filters: [{ column: "t", op: "range", lo: 0, hi: 100 }], groupBy: ["cat", "flag"], aggregates: ALL_AGGREGATES }),
      policy,
      schema: MIXED_SCHEMA,
      rowCount: 6_000,
    });
    const legacy = compileKernel(plan);
    const { rowSeed: _firstRows, ...bind } = bindParams(plan, legacy, views);
    const bound = { ...bind, seed: 77 };
    const names = kernelColumns(plan);
    const reference = referenceTotals(plan, views, MIXED_SCHEMA, bound.seed);
    for (const partitions of [1, 2, 3]) {
      const expected = mergeTotals(
        Array.from({ length: partitions }, (_, partition) => runKernelInProcess(legacy, views, { ...bound, partitions, partition })),
      );
      const clustered = clusterColumns(views, "nunit", names, partitions);
      const totals = runClusteredInProcess(compileClusteredKernel(plan, kernelShape(names, clustered.views)), clustered, bound).totals;
      totals.forEach((v, i) => {
        expect(v).toBeCloseTo(expected[i]!, 6);
        expect(v).toBeCloseTo(reference[i]!, 6);
      });
    }
  });

  it("lay each unit's rows out contiguously, in file order, inside the range of its partition; null units left out", () => {
    const { views } = mixedTable(5_000, 80, 5, { unitNulls: true });
    const unit = views.unit!;
    const P = 3;
    const { dest, rows, partStarts } = unitLayout(unit, P);
    const nonNull = Array.from({ length: 5_000 }, (_, i) => i).filter((i) => !(unit.nulls![i >>> 3]! & (1 << (i & 7))));
    expect(rows).toBe(nonNull.length);
    const order = new Array<number>(rows).fill(-1); // clustered row → file row
    dest.forEach((d, i) => {
      if (d >= 0) order[d] = i;
    });
    expect([...order].sort((a, b) => a - b)).toEqual(nonNull); // a permutation of the non-null rows
    nonNull.forEach((i) => expect(dest[i]).toBeGreaterThanOrEqual(0));
    expect(dest.filter((d) => d < 0).length).toBe(5_000 - nonNull.length);
    expect(partStarts).toHaveLength(P + 1);
    for (let p = 0; p < P; p++) {
      let prev = -1;
      for (let j = partStarts[p]!; j < partStarts[p + 1]!; j++) {
        const code = unit.values[order[j]!]!;
        expect(code % P).toBe(p);
        expect(code).toBeGreaterThanOrEqual(prev); // units ascend: each unit's rows are contiguous
        if (code === prev) expect(order[j]!).toBeGreaterThan(order[j - 1]!); // file order within a unit
        prev = code;
      }
    }
  });

  it("refuse rows that are not clustered by unit (a unit counted twice would break its bound)", () => {
    const t = taxiTable(2_000, 50, 3);
    const plan = planQuery({ ir: baseIR, policy, schema, rowCount: 2_000 });
    const names = kernelColumns(plan);
    const program = compileClusteredKernel(plan, kernelShape(names, t.views));
    const bound = bindParams(plan, program, t.views);
    expect(() => runKernelInProcess(program, t.views, { ...bound, partitions: 1, partition: 0 })).toThrow(/not clustered/);
    // clustered for 2 partitions: each part only takes its own units
    const clustered = clusterColumns(t.views, "vehicle_id", names, 2);
    const { partStarts } = clustered.layout;
    expect(() => runKernelInProcess(program, clustered.views, { ...bound, partitions: 2, partition: 1 }, partStarts[0], partStarts[1])).toThrow(
      /not clustered/,
    );
    expect(() => runKernelInProcess(program, clustered.views, { ...bound, partitions: 2, partition: 0 }, partStarts[0], partStarts[1])).not.toThrow();
  });

  it("emit the same code whatever the column names and values, for the same column shape", () => {
    const hostileName = 'x"]); globalThis.pwned = 1; //';
    const hostileKey = "'); while(1){} ('";
    const hostileSchema: DatasetSchema = { columns: schema.columns.map((c) => (c.name === "district" ? { ...c, name: hostileName } : c)) };
    const hostilePolicy = {
      ...policy,
      dimensions: [{ column: hostileName, keys: [hostileKey, "b"], edges: null, dateEdges: null }, policy.dimensions[1]!],
    };
    const benignPolicy = { ...policy, dimensions: [{ column: "district", keys: ["a", "b"], edges: null, dateEdges: null }, policy.dimensions[1]!] };
    const ir = (col: string, key: string): QueryIR => ({ ...baseIR, filters: [{ column: col, op: "in", values: [key] }], groupBy: [col] });
    const shape = { nullable: [false, true, false], dictionary: [true, true, false], int32: [true, true, false] };
    const a = compileClusteredKernel(
      planQuery({ ir: ir(hostileName, hostileKey), policy: hostilePolicy, schema: hostileSchema, rowCount: 1 }),
      shape,
    );
    const b = compileClusteredKernel(planQuery({ ir: ir("district", "a"), policy: benignPolicy, schema, rowCount: 1 }), shape);
    expect(a.source).toBe(b.source);
    expect(a.source).not.toContain("pwned");
    expect(a.columns).toContain(hostileName);
  });

  it("load clustered columns chunk by chunk once, and make a kernel job whose parts give the unclustered kernel's totals", async () => {
    const rows = 6_000;
    const chunkRows = 1_024;
    const { views } = mixedTable(rows, 150, 31, { unitNulls: true });
    const reads: string[] = [];
    const datasets = {
      async readColumnChunk(_v: DatasetVersion, column: number, chunk: number) {
        const name = MIXED_SCHEMA.columns[column]!.name;
        reads.push(`${name}#${chunk}`);
        const v = views[name]!;
        const from = chunk * chunkRows;
        const to = Math.min(rows, from + chunkRows);
        return { values: v.values.slice(from, to), nulls: v.nulls ? v.nulls.slice(from / 8, Math.ceil(to / 8)) : null };
      },
      async readDictionary(_v: DatasetVersion, column: number) {
        return views[MIXED_SCHEMA.columns[column]!.name]!.dictionary!;
      },
    } as unknown as DatasetsService;
    const version = {
      _id: "ds_test@1",
      schema: MIXED_SCHEMA,
      rowCount: rows,
      chunkRows,
      chunkCount: Math.ceil(rows / chunkRows),
    } as unknown as DatasetVersion & { _id: string };
    const loader = new ColumnLoader(datasets);
    const plan = planQuery({
      ir: mixedIR({ filters: [{ column: "t", op: "range", lo: 0, hi: 90 }], groupBy: ["cat", "num"], aggregates: ALL_AGGREGATES }),
      policy: { ...MIXED_POLICY, maxGroupsPerUnit: 2, maxRowsPerUnit: 4 },
      schema: MIXED_SCHEMA,
      rowCount: rows,
    });
    const names = kernelColumns(plan);

    const loaded = await loader.loadClustered(version, "unit", names, 3);
    const inMemory = clusterColumns(views, "unit", names, 3);
    expect(loaded.layout.partStarts).toEqual(inMemory.layout.partStarts);
    for (const name of names) expect(loaded.views[name]).toEqual(inMemory.views[name]);
    const readsOnce = reads.length;
    expect(readsOnce).toBe(names.length * version.chunkCount); // the unit column too: read once for the order and the values
    await loader.loadClustered(version, "unit", names, 3);
    expect(reads.length).toBe(readsOnce); // cached

    // A small version is one part (partitionsFor); its kernel job gives the unclustered totals.
    expect(partitionsFor(rows, 2)).toBe(1);
    const job = await prepareQueryKernel(loader, plan, version, 2);
    expect(job.parts).toHaveLength(1);
    expect(job.parts[0]).toMatchObject({ rowStart: 0, rowEnd: job.rows });
    const jobViews = Object.fromEntries(
      names.map((n, i) => [n, { ...job.columns[i]!, nulls: job.columns[i]!.nulls ?? null, dictionary: views[n]!.dictionary }]),
    ) as Record<string, ColumnView>;
    // Without the run's row seed: the first R rows, which the legacy oracle keeps.
    const { rowSeed: _firstRows, ...params } = job.parts[0]!.params as Parameters<typeof runKernelInProcess>[2];
    const got = runKernelInProcess(
      { source: job.source, columns: names, groupWidth: 0, groupCount: 0 },
      jobViews,
      params,
      job.parts[0]!.rowStart,
      job.parts[0]!.rowEnd,
    ).totals;
    const legacy = compileKernel(plan);
    expect(got).toEqual(runKernelInProcess(legacy, views, params).totals);
  });

  it("split versions into parts of at least MIN_ROWS_PER_PART rows, up to the cores", () => {
    expect(partitionsFor(0, 2)).toBe(1);
    expect(partitionsFor(10_000, 2)).toBe(1);
    expect(partitionsFor(1_000_000, 2)).toBe(2);
    expect(partitionsFor(10_000_000, 2)).toBe(2);
    expect(partitionsFor(10_000_000, 8)).toBe(8);
  });

  it("specialise on the columns' shape without changing the totals (a null bitmap with no null set)", () => {
    const t = taxiTable(8_000, 120, 21);
    const plan = planQuery({ ir: baseIR, policy, schema, rowCount: 8_000 });
    const names = kernelColumns(plan);
    const noNulls = clusterColumns(t.views, "vehicle_id", names, 2);
    const withEmptyBitmaps = {
      ...noNulls,
      views: Object.fromEntries(
        Object.entries(noNulls.views).map(([n, v]) => [n, { ...v, nulls: v.nulls ?? new Uint8Array(Math.ceil(noNulls.rows / 8)) }]),
      ),
    };
    const lean = compileClusteredKernel(plan, kernelShape(names, noNulls.views));
    const full = compileClusteredKernel(plan, kernelShape(names, withEmptyBitmaps.views));
    expect(lean.source).not.toBe(full.source);
    const bound = bindParams(plan, lean, noNulls.views);
    expect(runClusteredInProcess(lean, noNulls, bound).totals).toEqual(runClusteredInProcess(full, withEmptyBitmaps, bound).totals);
  });
});

describe("the planner refuses, naming the rule", () => {
  const refuse = (ir: Partial<QueryIR>, p: PolicyRules = policy) => {
    try {
      planQuery({ ir: { ...baseIR, ...ir }, policy: p, schema, rowCount: 100 });
    } catch (e) {
      if (e instanceof PolicyViolation) return { rule: e.rule, path: e.path, message: e.message };
      throw e;
    }
    throw new Error("expected a refusal");
  };

  it("column, aggregate, key, ε and size rules", () => {
    expect(refuse({ groupBy: ["nope"] })).toMatchObject({ rule: "UNKNOWN_COLUMN", path: "input.groupBy[0]" });
    expect(refuse({ groupBy: ["vehicle_id"] })).toMatchObject({ rule: "COLUMN_NOT_ALLOWED", path: "input.groupBy[0]" });
    expect(refuse({ aggregates: [{ kind: "SUM", column: "hour" }] })).toMatchObject({
      rule: "COLUMN_NOT_ALLOWED",
      path: "input.aggregates[0].column",
    });
    expect(refuse({}, { ...policy, aggregates: ["COUNT_UNITS"] })).toMatchObject({ rule: "AGGREGATE_NOT_ALLOWED", path: "input.aggregates[1].kind" });
    expect(refuse({ filters: [{ column: "district", op: "in", values: ["火星区"] }] })).toMatchObject({ rule: "VALUE_NOT_IN_KEY_SET" });
    expect(refuse({ epsilon: "1.5" })).toMatchObject({ rule: "EPSILON_ABOVE_LIMIT", path: "input.epsilon" });
    expect(refuse({ aggregates: Array.from({ length: 9 }, () => ({ kind: "COUNT_UNITS" as const })) })).toMatchObject({
      rule: "TOO_MANY_AGGREGATES",
    });
    const wide = {
      ...policy,
      dimensions: [
        { column: "district", keys: Array.from({ length: 200 }, (_, i) => `k${i}`), edges: null, dateEdges: null },
        { column: "hour", keys: Array.from({ length: 100 }, (_, i) => i), edges: null, dateEdges: null },
      ],
    };
    expect(refuse({ groupBy: ["district", "hour"], filters: [] }, wide)).toMatchObject({ rule: "TOO_MANY_GROUPS" });
  });

  it("splits ε over the noisy statistics and quotes their expected noise", () => {
    const plan = planQuery({
      ir: { ...baseIR, aggregates: [{ kind: "COUNT_UNITS" }, { kind: "AVG", column: "fare" }] },
      policy,
      schema,
      rowCount: 100,
    });
    expect(plan.statistics.map((s) => s.stat)).toEqual(["units", "sum", "count"]);
    for (const s of plan.statistics) expect(Number(s.epsilon.num) / Number(s.epsilon.den)).toBeCloseTo(0.5 / 3, 12);
    expect(plan.statistics[0]!.sensitivity).toBe(100n); // maxGroupsPerUnit
    expect(plan.statistics[0]!.expectedStdDev).toBeGreaterThan(0);
  });
});

describe("release", () => {
  it("reports every public key, noised, at exact multiples of each statistic's granularity", () => {
    const t = taxiTable(5_000, 1_000, 9);
    const { plan, totals } = run(baseIR, t);
    const answer = releaseAnswer(plan, totals);
    expect(answer.groups.map((g) => g.key[0]!.value)).toEqual(DISTRICTS);
    const sumStat = plan.statistics.find((s) => s.stat === "sum")!;
    // maxGroupsPerUnit 100 makes the unit count noisy enough that k may suppress a group: its key stays, its values go.
    for (const g of answer.groups.filter((x) => x.suppressed)) expect(g.values.every((v) => v.value === null && v.bins === null)).toBe(true);
    for (const g of answer.groups.filter((x) => !x.suppressed)) {
      const sum = g.values.find((v) => v.kind === "SUM")!.value!;
      expect(Number.isInteger(sum / sumStat.granularity)).toBe(true);
      expect(Number.isInteger(g.values.find((v) => v.kind === "COUNT_UNITS")!.value)).toBe(true);
      expect(g.values.find((v) => v.kind === "HISTOGRAM")!.bins).toHaveLength(5);
    }
  });

  it("applies k to groups over public keys on a noisy unit count: a small group keeps its key and shows no values", () => {
    const t = taxiTable(5_000, 1_000, 9);
    const { plan, totals } = run({ ...baseIR, epsilon: "1" }, t, { ...policy, maxGroupsPerUnit: 1 });
    expect(plan.suppression).toMatchObject({ minGroupSize: policy.minGroupSize });
    // The query asks for COUNT_UNITS: its own noisy value judges (no extra statistic, no extra ε).
    expect(plan.statistics.some((s) => s.stat === "suppress")).toBe(false);
    const small = [...totals];
    small[0] = 0; // first group: no units (exact), so its noisy count falls below k
    let suppressed = 0;
    for (let r = 0; r < 200; r++) {
      const g0 = releaseAnswer(plan, small).groups[0]!;
      if (g0.suppressed) {
        suppressed++;
        expect(g0.values.every((v) => v.value === null && v.bins === null)).toBe(true);
      }
    }
    // Unit count 0, k = 10, noise of scale 4: below k in ~96 % of draws — judged on noise, not on the 0.
    expect(suppressed).toBeGreaterThan(150);
    // Without COUNT_UNITS the query gets a suppression count of its own, with a small share of ε.
    const rowsOnly = planQuery({ ir: { ...baseIR, aggregates: [{ kind: "COUNT_ROWS" }] }, policy, schema, rowCount: 1 });
    const own = rowsOnly.statistics.find((s) => s.stat === "suppress")!;
    const rows = rowsOnly.statistics.find((s) => s.stat === "rows")!;
    expect(epsilonToNumber(own.epsilon) + epsilonToNumber(rows.epsilon)).toBeCloseTo(epsilonToNumber(rowsOnly.epsilon), 12);
    expect(epsilonToNumber(rows.epsilon)).toBeCloseTo((9 / 10) * epsilonToNumber(rowsOnly.epsilon), 12);
  });
});
