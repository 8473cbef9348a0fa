/**
 * The compiler: a QueryPlan becomes a specialised kernel over UNIT-CLUSTERED columns (columns.ts:
 * rows ordered by unit partition, then unit, then file order), so each unit's rows are
 * contiguous and its per-group cells are a few small reused arrays. Per chunk of rows: the
 * filters run branch-free and list the passing rows; for each of those, find its group and
 * accumulate, each measure clamped to its bounds, and list the row; when the unit changes, keep
 * at most MG of its groups (ranked by a keyed hash of unit and group, keyed afresh each run) and
 * in each kept group at most R rows — the first R as they come when the group holds no more,
 * else the R of smallest keyed hash of their row index (selection-hash.ts, seeded per run from
 * node:crypto, params.rowSeed: the same choice the cluster engine makes) — and add them to the
 * group totals. Bounding happens here, in code we generate, before anything
 * leaves; noise is added by the host afterwards.
 *
 * Without a row seed (params.rowSeed absent: tests only), the result is the one the unclustered
 * kernel (tests/support/legacy-kernel.ts) gives for the same seed and partitions: the same rows
 * count (the first R of a unit in a group, in file order), the same
 * groups are kept (smallest rank, ties to the smaller group index), and, for dictionary-coded
 * units, the same additions in the same order (units ascending by code within a partition).
 *
 * The kernel refuses (throws) rows that are not clustered: a unit value lower than the previous
 * one, or one outside its part's partition, would let a unit be counted twice.
 *
 * The code is shaped for a fresh isolate, where it runs once and cold: small top-level functions
 * (a chunk scanner called per CHUNK rows, a unit flush) that V8 optimises quickly, no closures
 * created per call, loop-invariant values as locals.
 *
 * Safety: the emitted text depends only on the plan's SHAPE (how many filters, dimensions,
 * measures, of which kind), on the columns' shape bits (null bitmap or not, dictionary codes or
 * not, 32-bit integers or not) and on integers formatted by JSON.stringify. Column names and
 * literal values never enter the source; they reach the kernel as data in `params`.
 */
import type { QueryPlan } from "./plan.ts";
import type { ColumnView, KernelProgram } from "./kernel-abi.ts";
import { SELECTION_HASH_SOURCE } from "./selection-hash.ts";

/**
 * The kernel column that holds each row's index in the dataset version (file order), for the
 * keyed choice of rows; the column loaders make it (no dataset column can be named this).
 */
export const ROW_INDEX_COLUMN = "\u0000row";

/** Rows a kernel filters at a time before counting the ones that pass (its row list stays in L1). */
const CHUNK = 4096;

/** Most numbers a kernel's per-unit cells may hold (the planner's limits stay far below). */
const CELL_LIMIT = 16 * 1024 * 1024;

/** What the emitted code is specialised on, per kernel column (KernelProgram.columns order). */
export interface KernelShape {
  /** The column has a null bitmap. */
  nullable: readonly boolean[];
  /** The column's values are dictionary codes (a string column). */
  dictionary: readonly boolean[];
  /** The column's values are an Int32Array (ints that fit, dates, dictionary codes). */
  int32: readonly boolean[];
}

const int = (n: number): string => {
  if (!Number.isSafeInteger(n)) throw new Error(`compiler: expected an integer, got ${n}`);
  return JSON.stringify(n);
};

/** The columns a plan's kernel reads, in kernel order: the unit first, then filters, dimensions, measures, histograms. */
export function kernelColumns(plan: QueryPlan): string[] {
  const columns: string[] = [];
  const add = (name: string) => {
    if (!columns.includes(name)) columns.push(name);
  };
  add(plan.unitColumn.name);
  for (const f of plan.filters) add(f.column);
  for (const d of plan.groupDims) add(d.column);
  for (const m of plan.measures) add(m.column);
  for (const h of plan.histograms) add(h.column);
  add(ROW_INDEX_COLUMN);
  return columns;
}

/** The shape bits of loaded columns. */
export function kernelShape(columns: readonly string[], views: Record<string, ColumnView>): KernelShape {
  const view = (name: string): ColumnView => {
    const v = views[name];
    if (!v) throw new Error(`compiler: column ${JSON.stringify(name)} was not loaded`);
    return v;
  };
  return {
    nullable: columns.map((n) => view(n).nulls !== null),
    dictionary: columns.map((n) => view(n).dictionary !== null),
    int32: columns.map((n) => view(n).values instanceof Int32Array),
  };
}

export function compileClusteredKernel(plan: QueryPlan, shape: KernelShape): KernelProgram {
  const columns = kernelColumns(plan);
  if ([shape.nullable, shape.dictionary, shape.int32].some((bits) => bits.length !== columns.length)) {
    throw new Error("compiler: the shape does not match the kernel's columns");
  }
  const j = (name: string) => columns.indexOf(name);
  const nullable = (name: string) => shape.nullable[j(name)] === true;
  const dictionary = (name: string) => shape.dictionary[j(name)] === true;
  const int32 = (name: string) => shape.int32[j(name)] === true;
  const isNull = (v: string) => `(${v}[i >>> 3] & (1 << (i & 7))) !== 0`;

  const M = plan.measures.length;
  // Output per group: units, rows, (sum, n) per measure, bins per histogram.
  const histOffset: number[] = [];
  let width = 2 + 2 * M;
  for (const h of plan.histograms) {
    histOffset.push(width);
    width += h.bins;
  }
  const W = width;
  const G = plan.groupCount;
  const MG = plan.maxGroupsPerUnit;
  if (G * W > CELL_LIMIT) throw new Error(`compiler: ${G} groups × ${W} numbers is beyond the kernel's cells`);
  const unit = plan.unitColumn.name;

  // The context object `c` the kernel builds once and scan/flush read: fields `name: expression`
  // (expressions over cols, nulls, params and the kernel's setup constants).
  const fields: Array<[string, string]> = [];
  const field = (name: string, expr: string) => fields.push([name, expr]);
  const setup: string[] = [];
  const col = (name: string) => `cols[${int(j(name))}]`;
  const nullsOf = (name: string) => `nulls[${int(j(name))}]`;

  field("U", col(unit));
  if (nullable(unit)) field("Un", nullsOf(unit));
  // Filters: params.f[i] is { codes: Uint8Array } for `in` on dictionary columns, { set: number[] }
  // for `in` on numbers/booleans, or { lo, hi } for ranges.
  plan.filters.forEach((f, i) => {
    field(`F${i}`, col(f.column));
    if (nullable(f.column)) field(`F${i}n`, nullsOf(f.column));
    const fp = `params.f[${int(i)}]`;
    if (f.kind === "in") {
      // a dictionary filter's table shifted by one, so a null row's code −1 reads 0
      if (dictionary(f.column)) {
        setup.push(`const F${i}codes = new Uint8Array(${fp}.codes.length + 1); F${i}codes.set(${fp}.codes, 1);`);
        field(`F${i}codes`, `F${i}codes`);
      } else field(`F${i}set`, `new Set(${fp}.set)`);
    } else if (int32(f.column)) {
      // Integers: lo ≤ v < hi ⇔ ⌈lo⌉ ≤ v ≤ ⌈hi⌉ − 1, tested as one unsigned compare (v − lo) ≤ (hi − lo).
      setup.push(
        `const F${i}l = ${fp}.lo === null ? -Infinity : Math.ceil(${fp}.lo), F${i}h = ${fp}.hi === null ? Infinity : Math.ceil(${fp}.hi) - 1;`,
      );
      setup.push(`if (!(F${i}l <= F${i}h && F${i}l <= 2147483647 && F${i}h >= -2147483648)) return { totals: Array.from(totals) };`);
      field(`F${i}lo`, `Math.max(F${i}l, -2147483648) | 0`);
      field(`F${i}hi`, `Math.min(F${i}h, 2147483647) | 0`);
    } else {
      field(`F${i}lo`, `${fp}.lo === null ? -Infinity : +${fp}.lo`);
      field(`F${i}hi`, `${fp}.hi === null ? Infinity : +${fp}.hi`);
    }
  });
  // Dimensions: params.d[k] is { codes: Int32Array } (dictionary code → key index, -1 none),
  // { keys: number[] } (numeric/boolean keys in key order), or { edges: number[] }.
  plan.groupDims.forEach((d, k) => {
    field(`D${k}`, col(d.column));
    if (nullable(d.column)) field(`D${k}n`, nullsOf(d.column));
    const dp = `params.d[${int(k)}]`;
    if (d.kind === "keys") {
      if (dictionary(d.column)) field(`D${k}codes`, `${dp}.codes`);
      else field(`D${k}map`, `new Map(${dp}.keys.map((v, x) => [v, x]))`);
    } else {
      field(`D${k}edges`, `Float64Array.from(${dp}.edges)`);
    }
  });
  plan.measures.forEach((m, x) => {
    field(`M${x}`, col(m.column));
    if (nullable(m.column)) field(`M${x}n`, nullsOf(m.column));
    field(`M${x}lo`, `+params.m[${int(x)}].lo`);
    field(`M${x}hi`, `+params.m[${int(x)}].hi`);
  });
  plan.histograms.forEach((h, x) => {
    field(`H${x}`, col(h.column));
    if (nullable(h.column)) field(`H${x}n`, nullsOf(h.column));
    field(`H${x}lo`, `+params.h[${int(x)}].lo`);
    field(`H${x}w`, `(params.h[${int(x)}].hi - params.h[${int(x)}].lo) / ${int(h.bins)}`);
  });
  // The current unit's cells, one array per statistic indexed by group: integer counts in
  // Int32Arrays, sums in Float64Arrays. `touched` lists the unit's groups in first-touch order.
  const cells: string[] = ["CR"];
  field("CR", "new Int32Array(G)");
  plan.measures.forEach((m, x) => {
    cells.push(`CS${x}`);
    field(`CS${x}`, "new Float64Array(G)");
    if (nullable(m.column)) {
      cells.push(`CN${x}`);
      field(`CN${x}`, "new Int32Array(G)");
    }
  });
  plan.histograms.forEach((h, x) => {
    cells.push(`CH${x}`);
    field(`CH${x}`, `new Int32Array(G * ${int(h.bins)})`);
  });
  field("touched", "new Int32Array(G + 1)");
  // The current unit's counted rows (row index, group) in scan order, for the random choice of
  // R rows in a cell that has more (flush); grown by doubling when a unit has more rows.
  field("RL", "new Int32Array(1024)");
  field("RG", "new Int32Array(1024)");
  field("nr", "0");
  // Per cell during that choice: rows still to look at, rows still to keep.
  field("CL", "new Int32Array(G)");
  field("CQ", "new Int32Array(G)");
  // The run's row seed (params.rowSeed, a 32-bit word from node:crypto); absent → the first R
  // rows in file order (what the legacy oracle computes).
  field("random", "typeof params.rowSeed === 'number'");
  field("rowSeed", "params.rowSeed | 0");
  field("ROW", col(ROW_INDEX_COLUMN));
  // pick's candidate rows (positions in the unit's row list) and their ranks; grown like RL.
  field("K", "new Int32Array(1024)");
  field("RK", "new Float64Array(1024)");
  field("order", "new Float64Array(G)");
  field("totals", "totals");
  field("seed", "params.seed | 0");
  field("P", "params.partitions | 0");
  field("PART", "params.partition | 0");
  field("SEL", `new Int32Array(${int(CHUNK)})`);
  // Running state across chunks: the groups touched by the current unit, and the unit (below every unit value at first).
  field("nt", "0");
  field("cur", "-Infinity");

  const lines: string[] = [];
  const emit = (s: string) => lines.push(s);
  const load = (names: string[]) => `  const ${names.map((n) => `${n} = c.${n}`).join(", ")};`;

  emit("'use strict';");
  emit(SELECTION_HASH_SOURCE);
  emit("function unclustered() { throw new Error('kernel: rows are not clustered by unit'); }");

  // What one counted row i adds to its cell g (scan, and flush when it picks rows at random).
  // Reads the locals M<x>, M<x>n, M<x>lo/hi, H<x>… and the cells.
  const accumulate = (): string[] => {
    const out: string[] = [];
    plan.measures.forEach((m, x) => {
      // Math.min/max: branch-free, and the same sums as the unclustered kernel's ternary clamp (lo < hi by
      // policy; NaN stays NaN; −0 vs +0 changes no sum that starts at +0)
      const add = `CS${x}[g] += Math.min(Math.max(M${x}[i], M${x}lo), M${x}hi);`;
      if (nullable(m.column)) out.push(`if (!(${isNull(`M${x}n`)})) { ${add} CN${x}[g] += 1; }`);
      else out.push(add);
    });
    plan.histograms.forEach((h, x) => {
      const add = `{ const v = H${x}[i]; let b = Math.floor((v - H${x}lo) / H${x}w); b = b < 0 ? 0 : b > ${int(h.bins - 1)} ? ${int(h.bins - 1)} : b; CH${x}[g * ${int(h.bins)} + b] += 1; }`;
      out.push(nullable(h.column) ? `if (!(${isNull(`H${x}n`)})) ${add}` : add);
    });
    return out;
  };
  const accumulated = [
    ...plan.measures.flatMap((m, x) => [`M${x}`, ...(nullable(m.column) ? [`M${x}n`] : []), `M${x}lo`, `M${x}hi`]),
    ...plan.histograms.flatMap((h, x) => [`H${x}`, ...(nullable(h.column) ? [`H${x}n`] : []), `H${x}lo`, `H${x}w`]),
  ];

  emit("function grow(c, n) {");
  emit("  const RL = new Int32Array(n * 2), RG = new Int32Array(n * 2);");
  emit("  RL.set(c.RL); RG.set(c.RG); c.RL = RL; c.RG = RG;");
  emit("}");

  // pick(c, nr): for each kept cell marked in CL (rows it holds) with CQ = R rows to keep,
  // re-accumulate its R rows of smallest (rowRank, row index) (selection-hash.ts): one sort of the
  // unit's rows in such cells by (cell, rank, row). A keyed hash of the row index, not the file
  // order, so a sorted file biases nothing (issue #16), and the cluster engine can make the very
  // same choice (issue #18).
  emit("function pick(c, nr) {");
  emit(load(["RL", "RG", "CL", "CQ", "ROW", ...cells, ...accumulated]));
  emit("  const seed = c.rowSeed;");
  emit("  if (c.K.length < nr) { c.K = new Int32Array(nr * 2); c.RK = new Float64Array(nr * 2); }");
  emit("  const K = c.K, RK = c.RK;");
  emit("  let m = 0;");
  emit("  for (let k = 0; k < nr; k++) if (CL[RG[k]] > 0) { K[m++] = k; RK[k] = rowRank(seed, ROW[RL[k]]); }");
  emit("  K.subarray(0, m).sort((a, b) => RG[a] - RG[b] || RK[a] - RK[b] || ROW[RL[a]] - ROW[RL[b]]);");
  emit("  for (let t = 0; t < m; t++) {");
  emit("    const k = K[t], g = RG[k];");
  emit("    CL[g] = 0;");
  emit("    if (CQ[g] === 0) continue;");
  emit("    CQ[g] -= 1;");
  emit("    const i = RL[k];");
  for (const line of accumulate()) emit(`    ${line}`);
  emit("  }");
  emit("}");

  // flush(c, u, nt, nr): the end of unit u, which touched nt groups over nr counted rows: keep
  // ≤ MG of its groups (smallest rank, ties to the smaller group), in each kept group ≤ R rows
  // (chosen at random when the run has a row seed), add them to the totals, clear the cells.
  emit("function flush(c, u, nt, nr) {");
  emit(`  const G = ${int(G)}, W = ${int(W)}, MG = ${int(MG)}, R = ${int(plan.maxRowsPerUnit)};`);
  emit(load(["touched", "totals", "CL", "CQ", ...cells]));
  emit("  let kept = nt;");
  emit("  if (nt > MG) {");
  emit("    if (MG === 1) {");
  emit("      let best = 0, bg = touched[0], br = groupRank(c.seed, u, bg);");
  emit(
    "      for (let k = 1; k < nt; k++) { const g = touched[k], r = groupRank(c.seed, u, g); if (r < br || (r === br && g < bg)) { best = k; bg = g; br = r; } }",
  );
  emit("      touched[best] = touched[0]; touched[0] = bg;");
  emit("    } else {");
  // (rank, group) packed in one exact double: rank < 2^32, group < G ≤ 10 000.
  emit("      const order = c.order;");
  emit("      for (let k = 0; k < nt; k++) order[k] = groupRank(c.seed, u, touched[k]) * G + touched[k];");
  emit("      const sorted = order.subarray(0, nt).sort();");
  emit("      for (let k = 0; k < nt; k++) touched[k] = sorted[k] % G;");
  emit("    }");
  emit("    kept = MG;");
  emit("  }");
  // Clears group g's cells (the histogram cells are `bins` wide), indented by `pad`.
  const clearCells = (names: readonly string[], pad: string) => {
    for (const name of names) {
      const h = /^CH(\d+)$/.exec(name);
      if (h) {
        const bins = int(plan.histograms[Number(h[1])]!.bins);
        emit(`${pad}${name}.fill(0, g * ${bins}, (g + 1) * ${bins});`);
      } else emit(`${pad}${name}[g] = 0;`);
    }
  };
  emit("  if (c.random) {");
  emit("    let over = 0;");
  emit("    for (let k = 0; k < kept; k++) {");
  emit("      const g = touched[k];");
  emit("      if (CR[g] > R) {");
  emit("        CL[g] = CR[g]; CQ[g] = R; over++;");
  clearCells(
    cells.filter((n) => n !== "CR"),
    "        ",
  );
  emit("      }");
  emit("    }");
  emit("    if (over > 0) pick(c, nr);");
  emit("  }");
  emit("  for (let k = 0; k < kept; k++) {");
  emit("    const g = touched[k], o = g * W, n = CR[g] < R ? CR[g] : R;");
  emit("    totals[o] += 1;");
  emit("    totals[o + 1] += n;");
  plan.measures.forEach((m, x) => {
    emit(`    totals[o + ${int(2 + 2 * x)}] += CS${x}[g];`);
    // a measure without nulls counts every row of the cell
    emit(`    totals[o + ${int(3 + 2 * x)}] += ${nullable(m.column) ? `CN${x}[g]` : "n"};`);
  });
  plan.histograms.forEach((h, x) => {
    emit(`    for (let b = 0, a = g * ${int(h.bins)}; b < ${int(h.bins)}; b++) totals[o + ${int(histOffset[x]!)} + b] += CH${x}[a + b];`);
  });
  emit("  }");
  emit("  for (let k = 0; k < nt; k++) {");
  emit("    const g = touched[k];");
  clearCells(cells, "    ");
  emit("  }");
  emit("}");

  // scan(c, a, b): rows [a, b) of the part.
  const scanFields = fields
    .map(([n]) => n)
    .filter((n) => !["order", "totals", "seed", "nt", "cur", "nr", "RL", "RG", "CL", "CQ", "random", "rowSeed", "ROW", "K", "RK"].includes(n));
  emit("function scan(c, a, b) {");
  emit(`  const R = ${int(plan.maxRowsPerUnit)};`);
  emit(load(scanFields));
  emit("  let nt = c.nt, cur = c.cur, nr = c.nr, RL = c.RL, RG = c.RG;");
  const filtered = plan.filters.length > 0;
  const ind = "    ";
  if (filtered) {
    // Filters without branches (a random outcome is a branch the CPU often mispredicts; an add it
    // never does): the passing rows are listed in SEL, then only those are grouped and counted.
    const terms: string[] = [];
    plan.filters.forEach((f, i) => {
      if (nullable(f.column)) terms.push(`((F${i}n[i >>> 3] >> (i & 7)) & 1) ^ 1`);
      if (f.kind === "in") terms.push(dictionary(f.column) ? `F${i}codes[F${i}[i] + 1]` : `+F${i}set.has(F${i}[i])`);
      else if (int32(f.column)) terms.push(`+(((F${i}[i] - F${i}lo) >>> 0) <= ((F${i}hi - F${i}lo) >>> 0))`);
      else terms.push(`(F${i}[i] >= F${i}lo) & (F${i}[i] < F${i}hi)`);
    });
    emit("  let m = 0;");
    emit("  for (let i = a; i < b; i++) {");
    emit(`    const ok = ${terms.map((t) => `(${t})`).join(" & ")};`);
    emit("    SEL[m] = i;");
    emit("    m += ok;");
    emit("  }");
    emit("  for (let k = 0; k < m; k++) {");
    emit("    const i = SEL[k];");
  } else {
    emit("  for (let i = a; i < b; i++) {");
  }
  const e = (x: string) => emit(ind + x);
  e("let g = 0;");
  plan.groupDims.forEach((d, k) => {
    const dimWidth = d.kind === "keys" ? d.keys.length : d.edges.length - 1;
    const into = k === 0 ? "g = " : `g = g * ${int(dimWidth)} + `;
    if (nullable(d.column)) e(`if (${isNull(`D${k}n`)}) continue;`);
    if (d.kind === "keys") {
      if (dictionary(d.column)) e(`{ const x = D${k}codes[D${k}[i]]; if (!(x >= 0)) continue; ${into}x; }`);
      else e(`{ const x = D${k}map.get(D${k}[i]); if (x === undefined) continue; ${into}x; }`);
    } else {
      e(`{ const v = D${k}[i], last = ${int(d.edges.length - 1)}; if (!(v >= D${k}edges[0] && v < D${k}edges[last])) continue;`);
      e(`  let lo = 0, hi = last; while (hi - lo > 1) { const mid = (lo + hi) >>> 1; if (v >= D${k}edges[mid]) lo = mid; else hi = mid; }`);
      e(`  ${into}lo; }`);
    }
  });
  if (nullable(unit)) e(`if (${isNull("Un")}) continue;`);
  // Unit changes are only looked for on rows that count: a unit with none adds nothing.
  e("const u = U[i];");
  e("if (u !== cur) {");
  e(`  if (!(u > cur) || !(P <= 1 || ${dictionary(unit) ? "u % P" : "((u * 2654435761) >>> 0) % P"} === PART)) unclustered();`);
  e("  if (nt > 0) { c.RL = RL; c.RG = RG; flush(c, cur, nt, nr); }");
  e("  nt = 0;");
  e("  nr = 0;");
  e("  cur = u;");
  e("}");
  e("const r = CR[g];");
  e("if (nr === RL.length) { grow(c, nr); RL = c.RL; RG = c.RG; }");
  e("RL[nr] = i;");
  e("RG[nr] = g;");
  e("nr++;");
  e("touched[nt] = g;"); // branch-free: the slot is kept only on the unit's first row in the group
  e("nt += +(r === 0);");
  // CR counts every row of the cell (flush picks R of them at random when it holds more);
  // the first R are accumulated as they come, which is the answer when the cell holds ≤ R.
  e("CR[g] = r + 1;");
  e("if (r >= R) continue;");
  for (const line of accumulate()) e(line);
  emit("  }");
  emit("  c.nt = nt;");
  emit("  c.nr = nr;");
  emit("  c.cur = cur;");
  emit("}");

  emit("function kernel(cols, nulls, start, end, params) {");
  emit(`  const G = ${int(G)}, W = ${int(W)};`);
  emit("  const totals = new Float64Array(G * W);");
  for (const st of setup) emit(`  ${st}`);
  emit("  const c = {");
  for (const [name, expr] of fields) emit(`    ${name}: ${expr},`);
  emit("  };");
  emit(`  for (let a = start; a < end; a += ${int(CHUNK)}) scan(c, a, Math.min(end, a + ${int(CHUNK)}));`);
  emit("  if (c.nt > 0) flush(c, c.cur, c.nt, c.nr);");
  emit("  return { totals: Array.from(totals) };");
  emit("}");
  return { source: lines.join("\n"), columns, groupWidth: W, groupCount: G };
}
