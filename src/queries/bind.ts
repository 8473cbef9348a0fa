/**
 * Binding: the plan's literals (key sets, filter values, edges, bounds) become lookup tables
 * over the dataset's actual encoding — e.g. a public key "朝阳区" becomes "dictionary code 7 →
 * key index 3". Tables are data passed to the kernel, never source text.
 */
import { randomBytes } from "node:crypto";
import type { QueryPlan } from "./plan.ts";
import type { ColumnView, KernelProgram } from "./kernel-abi.ts";
import type { Literal } from "./ir.ts";

export interface BoundParams {
  partitions: number;
  partition: number;
  seed: number;
  /**
   * A 32-bit word from node:crypto, fresh per run: the key of the hash that chooses which R rows
   * of a (unit, group) cell count (selection-hash.ts). Absent: the first R in file order (the
   * legacy oracle's rule).
   */
  rowSeed?: number;
  unitDictionarySize: number;
  f: Array<{ codes?: Uint8Array; set?: number[]; lo?: number | null; hi?: number | null }>;
  d: Array<{ codes?: Int32Array; keys?: number[]; edges?: number[] }>;
  m: Array<{ lo: number; hi: number }>;
  h: Array<{ lo: number; hi: number }>;
}

/** How a literal looks in a non-dictionary column (booleans are stored as 0/1). */
function asStored(v: Literal): number {
  return typeof v === "boolean" ? (v ? 1 : 0) : Number(v);
}

export function bindParams(
  plan: QueryPlan,
  program: KernelProgram,
  views: Record<string, ColumnView>,
): Omit<BoundParams, "partitions" | "partition"> {
  const view = (name: string): ColumnView => {
    const v = views[name];
    if (!v) throw new Error(`binder: column ${JSON.stringify(name)} was not loaded`);
    return v;
  };
  for (const name of program.columns) view(name);
  const unit = view(plan.unitColumn.name);
  return {
    seed: randomBytes(4).readInt32LE(0),
    rowSeed: randomBytes(4).readInt32LE(0),
    unitDictionarySize: unit.dictionary ? unit.dictionary.length : -1,
    f: plan.filters.map((f) => {
      if (f.kind === "range") return { lo: f.lo, hi: f.hi };
      const v = view(f.column);
      if (v.dictionary) {
        const codes = new Uint8Array(v.dictionary.length);
        const wanted = new Set(f.values.map(String));
        v.dictionary.forEach((s, code) => {
          if (wanted.has(s)) codes[code] = 1;
        });
        return { codes };
      }
      return { set: f.values.map(asStored) };
    }),
    d: plan.groupDims.map((d) => {
      if (d.kind === "edges") return { edges: d.edges };
      const v = view(d.column);
      if (v.dictionary) {
        const index = new Map(d.keys.map((k, x) => [String(k), x]));
        const codes = new Int32Array(v.dictionary.length).fill(-1);
        v.dictionary.forEach((s, code) => {
          const x = index.get(s);
          if (x !== undefined) codes[code] = x;
        });
        return { codes };
      }
      return { keys: d.keys.map(asStored) };
    }),
    m: plan.measures.map((m) => ({ lo: m.lo, hi: m.hi })),
    h: plan.histograms.map((h) => ({ lo: h.lo, hi: h.hi })),
  };
}

const compiled = new Map<string, (...a: unknown[]) => { totals: number[] }>();

/** Runs a kernel in this process (tests, the bench's "bare kernel"); the service uses the sandbox. */
export function runKernelInProcess(
  program: KernelProgram,
  views: Record<string, ColumnView>,
  params: BoundParams,
  start = 0,
  end?: number,
): { totals: number[] } {
  let kernel = compiled.get(program.source);
  if (!kernel) {
    // Our own generated kernel; compiled once per source so V8 keeps its optimised code.
    kernel = new Function(`${program.source}\nreturn kernel;`)() as (...a: unknown[]) => { totals: number[] };
    if (compiled.size > 100) compiled.clear();
    compiled.set(program.source, kernel);
  }
  const cols = program.columns.map((n) => views[n]!.values);
  const nulls = program.columns.map((n) => views[n]!.nulls);
  return kernel(cols, nulls, start, end ?? cols[0]!.length, params);
}

/** Sums partial totals from partitions (disjoint sets of units). */
export function mergeTotals(parts: Array<{ totals: number[] }>): number[] {
  const out = parts[0]!.totals.slice();
  for (let p = 1; p < parts.length; p++) {
    const t = parts[p]!.totals;
    for (let i = 0; i < out.length; i++) out[i]! += t[i]!;
  }
  return out;
}
