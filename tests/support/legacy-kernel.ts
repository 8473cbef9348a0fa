/**
 * The unclustered kernel: rows in file order, per-(unit, group) cells in one dense array (or a
 * Map per unit), every partition scanning all rows. It is what QueryService.execute() ran before
 * the unit-clustered kernel (src/queries/compile.ts); kept here, in the tests, as the oracle the
 * clustered kernel is tested against (identical totals for the same seed).
 *
 * Safety: the emitted text depends only on the plan's SHAPE (how many filters, dimensions,
 * measures, and of which kind) and on integers formatted by JSON.stringify. Column names and
 * literal values never enter the source; they reach the kernel as data in `params`.
 */
import type { QueryPlan } from "../../src/queries/plan.ts";
import type { KernelProgram } from "../../src/queries/kernel-abi.ts";
import { SELECTION_HASH_SOURCE } from "../../src/queries/selection-hash.ts";

/** Dense per-unit cells up to this many numbers (64 MB); beyond, a Map per unit. */
const DENSE_CELL_LIMIT = 8 * 1024 * 1024;

const int = (n: number): string => {
  if (!Number.isSafeInteger(n)) throw new Error(`compiler: expected an integer, got ${n}`);
  return JSON.stringify(n);
};

export function compileKernel(plan: QueryPlan): KernelProgram {
  const columns: string[] = [];
  const col = (name: string): number => {
    let j = columns.indexOf(name);
    if (j < 0) j = columns.push(name) - 1;
    return j;
  };
  const unitJ = col(plan.unitColumn.name);
  const filterJ = plan.filters.map((f) => col(f.column));
  const dimJ = plan.groupDims.map((d) => col(d.column));
  const measureJ = plan.measures.map((m) => col(m.column));
  const histJ = plan.histograms.map((h) => col(h.column));

  const M = plan.measures.length;
  const H = plan.histograms.length;
  const histOffset: number[] = [];
  let slots = 1 + 2 * M; // rows, then (sum, n) per measure
  for (const h of plan.histograms) {
    histOffset.push(slots);
    slots += h.bins;
  }
  const S = slots;
  const W = 1 + S; // per group output: units, then the slots
  const G = plan.groupCount;

  const lines: string[] = [];
  const emit = (s: string) => lines.push(s);
  emit("function kernel(cols, nulls, start, end, params) {");
  emit("  'use strict';");
  emit(`  const G = ${int(G)}, S = ${int(S)}, W = ${int(W)}, R = ${int(plan.maxRowsPerUnit)}, MG = ${int(plan.maxGroupsPerUnit)};`);
  emit("  const P = params.partitions, PART = params.partition, SEED = params.seed | 0;");
  emit(`  const U = cols[${int(unitJ)}], Un = nulls[${int(unitJ)}];`);
  emit("  const unitCodes = params.unitDictionarySize >= 0;");
  // Filters: params.f[i] is { codes: Uint8Array } for `in` on dictionary columns, { set: number[] } for
  // `in` on numbers/booleans, or { lo, hi } for ranges.
  plan.filters.forEach((f, i) => {
    emit(`  const F${i} = cols[${int(filterJ[i]!)}], F${i}n = nulls[${int(filterJ[i]!)}], FP${i} = params.f[${int(i)}];`);
    if (f.kind === "in") emit(`  const F${i}codes = FP${i}.codes || null, F${i}set = FP${i}.set ? new Set(FP${i}.set) : null;`);
    else emit(`  const F${i}lo = FP${i}.lo === null ? -Infinity : FP${i}.lo, F${i}hi = FP${i}.hi === null ? Infinity : FP${i}.hi;`);
  });
  // Dimensions: params.d[k] is { codes: Int32Array } (dictionary code → key index, -1 none),
  // { keys: number[] } (numeric/boolean keys in key order), or { edges: number[] }.
  plan.groupDims.forEach((d, k) => {
    emit(`  const D${k} = cols[${int(dimJ[k]!)}], D${k}n = nulls[${int(dimJ[k]!)}], DP${k} = params.d[${int(k)}];`);
    if (d.kind === "keys") {
      emit(`  const D${k}codes = DP${k}.codes || null, D${k}map = DP${k}.keys ? new Map(DP${k}.keys.map((v, x) => [v, x])) : null;`);
    } else {
      emit(`  const D${k}edges = Float64Array.from(DP${k}.edges), D${k}last = D${k}edges.length - 1;`);
    }
  });
  plan.measures.forEach((_, j) => {
    emit(
      `  const M${j} = cols[${int(measureJ[j]!)}], M${j}n = nulls[${int(measureJ[j]!)}], M${j}lo = params.m[${int(j)}].lo, M${j}hi = params.m[${int(j)}].hi;`,
    );
  });
  plan.histograms.forEach((h, j) => {
    emit(
      `  const H${j} = cols[${int(histJ[j]!)}], H${j}n = nulls[${int(histJ[j]!)}], H${j}lo = params.h[${int(j)}].lo, H${j}w = (params.h[${int(j)}].hi - H${j}lo) / ${int(h.bins)};`,
    );
  });
  // Per-unit cells. Dense: one Float64Array of units × groups × slots, indexed by dictionary code
  // (the fast path). Sparse: a Map per unit, for numeric unit ids or very many cells.
  emit(`  const dense = unitCodes && params.unitDictionarySize * G * S <= ${int(DENSE_CELL_LIMIT)};`);
  emit("  const totals = new Float64Array(G * W);");
  // The groups a unit keeps: the same keyed hash as every engine (selection-hash.ts).
  for (const line of SELECTION_HASH_SOURCE.split("\n")) emit(`  ${line}`);
  emit("  const rank = (u, g) => groupRank(SEED, u, g);");
  const rowLoop = (locate: string[]) => {
    emit("    for (let i = start; i < end; i++) {");
    // Filters first: they are the cheapest way to skip a row.
    plan.filters.forEach((f, i) => {
      emit(`      if (F${i}n !== null && (F${i}n[i >>> 3] & (1 << (i & 7))) !== 0) continue;`);
      if (f.kind === "in") emit(`      if (F${i}codes !== null ? F${i}codes[F${i}[i]] !== 1 : !F${i}set.has(F${i}[i])) continue;`);
      else emit(`      { const v = F${i}[i]; if (!(v >= F${i}lo && v < F${i}hi)) continue; }`);
    });
    emit("      if (Un !== null && (Un[i >>> 3] & (1 << (i & 7))) !== 0) continue;");
    emit("      const u = U[i];");
    emit("      if (P > 1 && (unitCodes ? u % P : (((u * 2654435761) >>> 0) % P)) !== PART) continue;");
    emit("      let g = 0;");
    plan.groupDims.forEach((d, k) => {
      const width = d.kind === "keys" ? d.keys.length : d.edges.length - 1;
      emit(`      if (D${k}n !== null && (D${k}n[i >>> 3] & (1 << (i & 7))) !== 0) continue;`);
      if (d.kind === "keys") {
        emit(
          `      { const x = D${k}codes !== null ? D${k}codes[D${k}[i]] : D${k}map.get(D${k}[i]); if (x === undefined || x < 0) continue; g = g * ${int(width)} + x; }`,
        );
      } else {
        emit(`      { const v = D${k}[i]; if (!(v >= D${k}edges[0] && v < D${k}edges[D${k}last])) continue;`);
        emit(
          `        let lo = 0, hi = D${k}last; while (hi - lo > 1) { const mid = (lo + hi) >>> 1; if (v >= D${k}edges[mid]) lo = mid; else hi = mid; }`,
        );
        emit(`        g = g * ${int(width)} + lo; }`);
      }
    });
    for (const l of locate) emit(l);
    emit("      if (c[o] >= R) continue;");
    emit("      c[o] += 1;");
    plan.measures.forEach((_, j) => {
      emit(
        `      if (M${j}n === null || (M${j}n[i >>> 3] & (1 << (i & 7))) === 0) { const v = M${j}[i]; c[o + ${int(1 + 2 * j)}] += v < M${j}lo ? M${j}lo : v > M${j}hi ? M${j}hi : v; c[o + ${int(2 + 2 * j)}] += 1; }`,
      );
    });
    plan.histograms.forEach((h, j) => {
      emit(
        `      if (H${j}n === null || (H${j}n[i >>> 3] & (1 << (i & 7))) === 0) { const v = H${j}[i]; let b = Math.floor((v - H${j}lo) / H${j}w); b = b < 0 ? 0 : b > ${int(h.bins - 1)} ? ${int(h.bins - 1)} : b; c[o + ${int(histOffset[j]!)} + b] += 1; }`,
      );
    });
    emit("    }");
  };
  // Finalise: keep at most MG groups per unit (ranked by a keyed hash of unit and group: a rule
  // that depends only on the unit's own data, so the sensitivity bound holds), add them up.
  emit("  if (dense) {");
  emit("    const D = params.unitDictionarySize, c = new Float64Array(D * G * S);");
  rowLoop(["      const o = (u * G + g) * S;"]);
  emit("    const kept = [];");
  emit("    for (let u = 0; u < D; u++) {");
  emit("      if (P > 1 && u % P !== PART) continue;");
  emit("      kept.length = 0;");
  emit("      for (let g = 0; g < G; g++) if (c[(u * G + g) * S] > 0) kept.push(g);");
  emit("      if (kept.length === 0) continue;");
  emit("      if (kept.length > MG) {");
  emit(
    "        if (MG === 1) { let best = kept[0], br = rank(u, best); for (let k = 1; k < kept.length; k++) { const r = rank(u, kept[k]); if (r < br) { br = r; best = kept[k]; } } kept[0] = best; kept.length = 1; }",
  );
  emit("        else { kept.sort((a, b) => rank(u, a) - rank(u, b)); kept.length = MG; }");
  emit("      }");
  emit(
    "      for (const g of kept) { const o = g * W, base = (u * G + g) * S; totals[o] += 1; for (let s = 0; s < S; s++) totals[o + 1 + s] += c[base + s]; }",
  );
  emit("    }");
  emit("  } else {");
  emit("    const byUnit = new Map();");
  rowLoop([
    "      let cells = byUnit.get(u);",
    "      if (cells === undefined) { cells = new Map(); byUnit.set(u, cells); }",
    "      let c = cells.get(g);",
    "      if (c === undefined) { c = new Float64Array(S); cells.set(g, c); }",
    "      const o = 0;",
  ]);
  emit("    for (const [u, cells] of byUnit) {");
  emit("      let keys = Array.from(cells.keys());");
  emit("      if (keys.length > MG) { keys.sort((a, b) => rank(u, a) - rank(u, b)); keys = keys.slice(0, MG); }");
  emit("      for (const g of keys) { const c = cells.get(g), o = g * W; totals[o] += 1; for (let s = 0; s < S; s++) totals[o + 1 + s] += c[s]; }");
  emit("    }");
  emit("  }");
  emit("  return { totals: Array.from(totals) };");
  emit("}");
  void H;
  return { source: lines.join("\n"), columns, groupWidth: W, groupCount: G };
}
