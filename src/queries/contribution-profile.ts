/**
 * A DP profile of how much each privacy unit contributes (issue #16): the facts the bound
 * suggestion and the quotes' bias figures are computed from, released once with a small ε of the
 * owner's budget, so neither ever reads exact private counts.
 *
 * Per "shape" (a set of dimensions a query may group by: each one alone and each pair) one 2-D
 * histogram over units: kb = bin of k_u (groups the unit touches), nb = bin of n_c (rows of the
 * unit in one group), with weight 1/k_u per cell of the unit. A unit adds weight 1 in total, so
 * the L1 sensitivity is 1 and each histogram is released with discrete Laplace noise at its ε
 * share, in fixed point (WEIGHT_UNITS per unit of weight, each cell's weight rounded down so
 * the bound holds exactly). Per measure, the values' histogram with weight 1/n_u per row (same
 * sensitivity). Noisy bins below scale·ln(20·bins) are zeroed, so that empty bins (most of a
 * log-scale histogram) do not add up to a phantom tail of huge units: post-processing, no
 * further privacy cost. The rows a shape holds cannot be read off these alone (a few heavy units
 * hold most rows and DP cannot see them one by one): the size the owner declared public
 * (publicFacts.size, what quotes price as rowsPriced) stands for them — exact, or the bins'
 * estimate kept inside the declared bucket; without a declaration, the bins' estimate alone
 * (then the unseen heavy tail is not modelled and bias figures err low). Nothing else about the
 * version (not its exact row count) goes in: the profile is a function of public facts and its
 * DP releases only.
 */
import { divideEpsilon, fromUnits, releaseInteger, type ByteSource, cryptoBytes, type Epsilon, epsilonToNumber } from "../privacy/mechanism/index.ts";
import type { ColumnView } from "./kernel-abi.ts";

const WEIGHT_UNITS = 1024;

/** Bin b holds [edges[b], edges[b+1]): 1, 2, 3–4, 5–8, … (powers of two). */
export const COUNT_EDGES: readonly number[] = [1, 2, 3, ...Array.from({ length: 20 }, (_, i) => 2 ** (i + 2) + 1)];

/** A representative count for bin b of COUNT_EDGES: the middle of its integers. */
export function countOf(b: number): number {
  const lo = COUNT_EDGES[b]!;
  const hi = COUNT_EDGES[b + 1]!;
  return (lo + hi - 1) / 2;
}

/** Signed log-scale value bins: 0, then ±2^(k/2) from 2^-4 to 2^40. */
export const VALUE_EDGES: readonly number[] = (() => {
  const pos = Array.from({ length: 89 }, (_, k) => 2 ** ((k - 8) / 2));
  return [-Infinity, ...pos.map((x) => -x).reverse(), 0, ...pos, Infinity];
})();

export interface ShapeProfile {
  dims: string[];
  /** Groups the shape has (public: the product of the dimensions' key counts). */
  groups: number;
  /**
   * Rows the shape stands for: the declared public size when exact, else the rows the noisy bins
   * hold, kept inside the declared bucket (or alone, when no size is declared). Never the exact count.
   */
  rows: number;
  /** weights[kb][nb], noisy, ≥ 0; bins of COUNT_EDGES for both axes. */
  weights: number[][];
  /** Bins below this (in units) were cleared as noise: the most units a hidden bin may hold (absent in older profiles). */
  floor?: number;
}

export interface MeasureProfile {
  column: string;
  /** weights[b] over VALUE_EDGES bins, noisy, ≥ 0 (each unit's rows weigh 1 together). */
  weights: number[];
  /**
   * The units' own means over VALUE_EDGES bins, noisy, ≥ 0 (each unit weighs 1): how far a few
   * heavy units' rows may pull a group's mean (absent in older profiles).
   */
  unitMeans?: number[];
}

export interface ContributionProfile {
  /** ε spent on the whole profile (decimal text). */
  epsilon: string;
  /** The dataset version profiled (a profile describes one version); absent in profiles made outside the service. */
  datasetVersion?: number;
  shapes: ShapeProfile[];
  measures: MeasureProfile[];
}

export interface ProfileInput {
  views: Record<string, ColumnView>;
  unitColumn: string;
  /** Dimension columns with their group index per row (−1: no group) and their key count. */
  dims: Array<{ column: string; groupOf: (i: number) => number; width: number }>;
  measures: string[];
  epsilon: Epsilon;
  /**
   * The size the owner declared public (publicFacts.size: its smallest and largest row counts;
   * equal when exact), or null when none is declared. Never the version's exact count.
   */
  publicSize: { minRows: number; maxRows: number } | null;
  datasetVersion?: number;
  bytes?: ByteSource;
}

export function binOf(edges: readonly number[], x: number): number {
  let lo = 0;
  let hi = edges.length - 1;
  if (x < edges[0]!) return 0;
  if (x >= edges[hi]!) return hi - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (x >= edges[mid]!) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** The shapes profiled: no grouping, each dimension, each pair of dimensions. */
export function profileShapes(dims: string[]): string[][] {
  const out: string[][] = [[]];
  for (const d of dims) out.push([d]);
  for (let a = 0; a < dims.length; a++) for (let b = a + 1; b < dims.length; b++) out.push([dims[a]!, dims[b]!]);
  return out;
}

export function computeProfile(input: ProfileInput): ContributionProfile {
  const bytes = input.bytes ?? cryptoBytes;
  const unit = input.views[input.unitColumn]!;
  const rows = unit.values.length;
  const unitIds = unit.values;
  const shapes = profileShapes(input.dims.map((d) => d.column));
  // One release per shape, and two per measure (its values, its units' means).
  const share = divideEpsilon(input.epsilon, shapes.length + 2 * input.measures.length);
  const noisy = (units: number): number => {
    const v = fromUnits(releaseInteger(BigInt(units), BigInt(WEIGHT_UNITS), share, bytes), 1) / WEIGHT_UNITS;
    return v;
  };
  const scale = 1 / epsilonToNumber(share);
  // One floor for every bin the profile releases: a bin of noise alone clears it with chance
  // 1/(40·all bins), so the whole profile shows a phantom bin about once in 40 (a floor per
  // histogram let one in ten 30-row profiles suggest bounds from noise).
  const allBins =
    shapes.reduce((n, dims) => {
      const { K, N } = shapeBins(dims, input);
      return n + K * N;
    }, 0) +
    2 * input.measures.length * (VALUE_EDGES.length - 1);
  const floor = scale * Math.log(20 * allBins);
  const clean = (v: number) => (v < floor ? 0 : v);

  // Rows of each unit, grouped once (units keyed by their stored value).
  const byUnit = new Map<number, number[]>();
  for (let i = 0; i < rows; i++) {
    if (unit.nulls && (unit.nulls[i >>> 3]! & (1 << (i & 7))) !== 0) continue;
    const u = unitIds[i]!;
    let list = byUnit.get(u);
    if (!list) byUnit.set(u, (list = []));
    list.push(i);
  }

  const shapeProfiles: ShapeProfile[] = shapes.map((dims) => {
    const parts = dims.map((c) => input.dims.find((d) => d.column === c)!);
    const { groups, K, N } = shapeBins(dims, input);
    const exact = Array.from({ length: K }, () => new Array<number>(N).fill(0));
    const cell = new Map<number, number>();
    for (const list of byUnit.values()) {
      cell.clear();
      for (const i of list) {
        let g = 0;
        let ok = true;
        for (const p of parts) {
          const x = p.groupOf(i);
          if (x < 0) {
            ok = false;
            break;
          }
          g = g * p.width + x;
        }
        if (ok) cell.set(g, (cell.get(g) ?? 0) + 1);
      }
      const k = cell.size;
      if (k === 0) continue;
      const w = Math.floor(WEIGHT_UNITS / k);
      const kb = binOf(COUNT_EDGES, k);
      for (const n of cell.values()) exact[kb]![binOf(COUNT_EDGES, n)]! += w;
    }
    const weights = exact.map((row) => row.map((units) => clean(noisy(units))));
    return { dims, groups, rows: publicRows(weights, input.publicSize), weights, floor };
  });

  const measureProfiles: MeasureProfile[] = input.measures.map((column) => {
    const values = input.views[column]!;
    const exact = new Array<number>(VALUE_EDGES.length - 1).fill(0);
    const means = new Array<number>(VALUE_EDGES.length - 1).fill(0);
    for (const list of byUnit.values()) {
      const kept = list.filter((i) => !(values.nulls && (values.nulls[i >>> 3]! & (1 << (i & 7))) !== 0));
      if (kept.length === 0) continue;
      const w = Math.floor(WEIGHT_UNITS / kept.length);
      let sum = 0;
      for (const i of kept) {
        exact[binOf(VALUE_EDGES, values.values[i]!)]! += w;
        sum += values.values[i]!;
      }
      means[binOf(VALUE_EDGES, sum / kept.length)]! += WEIGHT_UNITS;
    }
    return { column, weights: exact.map((units) => clean(noisy(units))), unitMeans: means.map((units) => clean(noisy(units))) };
  });

  // Without an exact size, every shape stands for at least the rows the ungrouped unit sizes
  // show, their heavy tail continued past the noise floor (see extrapolatedRows).
  const all = shapeProfiles.find((s) => s.dims.length === 0);
  const exactSize = input.publicSize !== null && input.publicSize.minRows === input.publicSize.maxRows;
  if (all && !exactSize) {
    const estimate = extrapolatedRows(all.weights[0] ?? []);
    for (const s of shapeProfiles) {
      const r = Math.max(s.rows, estimate);
      s.rows = Math.round(input.publicSize ? Math.min(input.publicSize.maxRows, Math.max(input.publicSize.minRows, r)) : r);
    }
  }

  return {
    epsilon: formatShare(input.epsilon),
    ...(input.datasetVersion !== undefined ? { datasetVersion: input.datasetVersion } : {}),
    shapes: shapeProfiles,
    measures: measureProfiles,
  };
}

/**
 * A shape's bins: k ≤ groups and n ≤ the declared largest size, so bins beyond those are empty for
 * sure and left out. The public bound, never the version's exact row count (the bins would tell it).
 */
function shapeBins(dims: string[], input: ProfileInput): { groups: number; K: number; N: number } {
  const groups = dims.reduce((n, c) => n * input.dims.find((d) => d.column === c)!.width, 1);
  const K = Math.max(1, COUNT_EDGES.filter((e) => e <= groups).length);
  const maxRows = input.publicSize?.maxRows ?? Number.POSITIVE_INFINITY;
  const N = Math.max(1, Math.min(COUNT_EDGES.length - 1, COUNT_EDGES.filter((e) => e <= maxRows).length));
  return { groups, K, N };
}

/**
 * The rows a shape stands for, from public facts and the noisy bins only (post-processing): the
 * rows the bins hold (Σ k̄·w·n̄), kept inside the declared size's range; exactly the declared
 * size when it is exact.
 */
export function publicRows(weights: number[][], publicSize: ProfileInput["publicSize"]): number {
  let seen = 0;
  weights.forEach((row, kb) => {
    const k = countOf(kb);
    row.forEach((w, nb) => {
      if (w > 0) seen += k * w * countOf(nb);
    });
  });
  if (!publicSize) return Math.round(seen);
  return Math.round(Math.min(publicSize.maxRows, Math.max(publicSize.minRows, seen)));
}

/**
 * Rows held by the units of a 1-D unit-size histogram (bins of COUNT_EDGES), its tail continued
 * past the last visible bin: a heavy tail (Zipf units) falls by a steady factor per doubling of
 * size, fitted on the visible bins past the mode, and the continuation stops where a bin would
 * hold less than half a unit (a finite fleet has a largest unit). Post-processing of the noisy
 * bins only. The hidden heaviest units hold much of a heavy-tailed table's rows, so a profile
 * without a declared size would otherwise count too few rows and state too little bias.
 */
export function extrapolatedRows(bins: readonly number[]): number {
  let seen = 0;
  let last = -1;
  let mode = 0;
  bins.forEach((w, b) => {
    if (w <= 0) return;
    seen += w * countOf(b);
    last = b;
    if (w > (bins[mode] ?? 0)) mode = b;
  });
  if (last < 0) return 0;
  // Least-squares slope of log2(w) over the visible bins from the mode (doubling bins from 2 on).
  const xs: number[] = [];
  const ys: number[] = [];
  for (let b = Math.max(2, mode); b <= last; b++) if ((bins[b] ?? 0) > 0) xs.push(b), ys.push(Math.log2(bins[b]!));
  let ratio = 0.5;
  if (xs.length >= 2) {
    const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
    const my = ys.reduce((a, b) => a + b, 0) / ys.length;
    let sxy = 0;
    let sxx = 0;
    xs.forEach((x, i) => {
      sxy += (x - mx) * (ys[i]! - my);
      sxx += (x - mx) ** 2;
    });
    ratio = 2 ** (sxx > 0 ? sxy / sxx : -1);
  }
  ratio = Math.min(0.9, Math.max(0.2, ratio));
  let w = bins[last]!;
  let rows = seen;
  for (let b = last + 1; b < COUNT_EDGES.length - 1; b++) {
    w *= ratio;
    if (w < 0.5) break;
    rows += w * countOf(b);
  }
  return rows;
}

function formatShare(e: Epsilon): string {
  return String(epsilonToNumber(e));
}

/**
 * The profile's dimensions from a policy's declared dimensions over loaded columns: key sets
 * (strings through the dictionary), numeric bucket edges, and data-derived keys (one group per
 * dictionary value). Date buckets are left out: their rows still count in the other shapes.
 */
export function profileDims(
  dimensions: ReadonlyArray<{
    column: string;
    keys: ReadonlyArray<string | number | boolean> | null;
    edges: readonly number[] | null;
    derivedKeys?: boolean;
  }>,
  views: Record<string, ColumnView>,
): ProfileInput["dims"] {
  const out: ProfileInput["dims"] = [];
  for (const d of dimensions) {
    const v = views[d.column];
    if (!v) continue;
    const values = v.values;
    if (d.derivedKeys === true && v.dictionary) {
      out.push({ column: d.column, groupOf: (i) => values[i]!, width: v.dictionary.length });
    } else if (d.keys) {
      const index = new Map(d.keys.map((k, x) => [typeof k === "boolean" ? String(k ? 1 : 0) : String(k), x]));
      if (v.dictionary) {
        const codes = v.dictionary.map((s) => index.get(s) ?? -1);
        out.push({ column: d.column, groupOf: (i) => codes[values[i]!] ?? -1, width: d.keys.length });
      } else out.push({ column: d.column, groupOf: (i) => index.get(String(values[i]!)) ?? -1, width: d.keys.length });
    } else if (d.edges) {
      const edges = d.edges;
      out.push({
        column: d.column,
        groupOf: (i) => {
          const x = values[i]!;
          if (!(x >= edges[0]! && x < edges[edges.length - 1]!)) return -1;
          return binOf(edges, x);
        },
        width: edges.length - 1,
      });
    }
  }
  return out;
}
