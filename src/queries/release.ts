/**
 * The privacy gate's last step: exact group totals (already bounded by the kernel) become
 * released numbers — each statistic of each group plus discrete Laplace noise at its own ε and
 * sensitivity, at its public granularity. Every public key is reported, zero counts included,
 * so a reader cannot tell an empty group from a small one. AVG = noisy SUM / noisy COUNT.
 *
 * A group whose key holds a value found in the data (a derived-keys dimension) is released only
 * if its unit count plus fresh noise reaches τ (see KeyThreshold in plan.ts). Groups that fail are
 * left out entirely: no marker, no zero, so an absent group looks the same whether the value is
 * rare or not in the data at all. A group over public keys whose noisy unit count is below k is
 * reported with its key and no values (`suppressed`).
 */
import { fromUnits, releaseInteger, toUnits, type ByteSource, cryptoBytes } from "../privacy/mechanism/index.ts";
import type { QueryPlan, GroupDim, KeyThreshold } from "./plan.ts";
import type { Literal } from "./ir.ts";
import { aggregateErrors, correctedValue, valueInterval, type Interval } from "./error-model.ts";

export interface ReleasedGroup {
  /**
   * Over public keys: the group's noisy unit count was below k, so its values are all null (the
   * key stays, as every public key is reported). Absent on answers released before k applied.
   */
  suppressed?: boolean;
  /** A key-set value keeps its column's type (an int month stays a number); a bucket is its label "[lo, hi)". */
  key: Array<{ column: string; value: Literal }>;
  values: Array<{
    aggregateIndex: number;
    kind: string;
    column: string | null;
    value: number | null;
    bins: number[] | null;
    /**
     * The 95% interval for the true value: noise, and bounding bias from the policy's DP
     * contribution profile (error-model.ts). Absent on histograms and on answers released before it.
     */
    interval?: Interval | null;
  }>;
}

export interface ReleasedAnswer {
  groups: ReleasedGroup[];
}

function keyLabel(d: GroupDim, x: number): Literal {
  return d.kind === "keys" ? (d.keys[x] as Literal) : d.labels[x]!;
}

/**
 * Whether a data-derived group passes: its noisy unit count reaches τ (τ ≥ k plus a margin for δ).
 * Judged on the noisy count only: an exact pre-check against k would make the outcome a
 * deterministic function of the rows.
 */
export function passesKeyThreshold(threshold: KeyThreshold, exactUnits: number, bytes: ByteSource = cryptoBytes): boolean {
  const s = threshold.statistic;
  return releaseInteger(BigInt(exactUnits), s.sensitivity, s.epsilon, bytes) >= threshold.tau;
}

export function releaseAnswer(plan: QueryPlan, totals: number[], bytes: ByteSource = cryptoBytes): ReleasedAnswer {
  const W = 1 + 1 + 2 * plan.measures.length + plan.histograms.reduce((n, h) => n + h.bins, 0);
  const measureSlot = (column: string) => 2 + 2 * plan.measures.findIndex((m) => m.column === column);
  const histSlot: number[] = [];
  let off = 2 + 2 * plan.measures.length;
  for (const h of plan.histograms) {
    histSlot.push(off);
    off += h.bins;
  }
  const noisy = (exact: number, granularity: number, stat: QueryPlan["statistics"][number]) =>
    fromUnits(releaseInteger(toUnits(exact, granularity), stat.sensitivity, stat.epsilon, bytes), granularity);

  const derived = plan.groupDims.some((d) => d.kind === "keys" && d.derived === true);
  const threshold = plan.keyThreshold ?? null;
  if (derived && !threshold) throw new Error("release: a plan with data-derived keys has no release threshold");

  const errors = aggregateErrors(plan, plan.profile ?? null);
  // Raw noisy values (before the bias correction), for the suppression judge.
  const raw = new Map<number, number | null>();
  // The released value is corrected for the expected bias of bounding and the interval is built
  // from the raw noisy statistics (error-model.ts): both post-processing of DP outputs.
  const withInterval = (v: ReleasedGroup["values"][number], released?: { sum: number; count: number }): ReleasedGroup["values"][number] => {
    raw.set(v.aggregateIndex, v.value);
    if (v.value === null) return { ...v, interval: null };
    const error = errors[v.aggregateIndex]!;
    const stats = plan.statistics.filter((s) => s.aggregateIndex === v.aggregateIndex);
    const extra = v.kind === "AVG" ? { sum: stats[0]!, count: stats[1]!, releasedSum: released?.sum, releasedCount: released?.count ?? 1 } : {};
    return { ...v, value: correctedValue(v.kind, v.value, error), interval: valueInterval(v.kind, v.value, error, extra) };
  };

  const groups: ReleasedGroup[] = [];
  for (let g = 0; g < plan.groupCount; g++) {
    const o = g * W;
    // Every group of a query over derived keys holds a derived value in its key.
    if (derived && !passesKeyThreshold(threshold!, totals[o]!, bytes)) continue;
    const key: ReleasedGroup["key"] = [];
    let rest = g;
    for (let k = plan.groupDims.length - 1; k >= 0; k--) {
      const d = plan.groupDims[k]!;
      const width = d.kind === "keys" ? d.keys.length : d.edges.length - 1;
      key.unshift({ column: d.column, value: keyLabel(d, rest % width) });
      rest = Math.floor(rest / width);
    }
    let histIndex = 0;
    const values: ReleasedGroup["values"] = plan.ir.aggregates.map((a, i) => {
      const stats = plan.statistics.filter((s) => s.aggregateIndex === i);
      const column = "column" in a ? a.column : null;
      switch (a.kind) {
        case "COUNT_UNITS":
          return withInterval({ aggregateIndex: i, kind: a.kind, column, value: noisy(totals[o]!, 1, stats[0]!), bins: null });
        case "COUNT_ROWS":
          return withInterval({ aggregateIndex: i, kind: a.kind, column, value: noisy(totals[o + 1]!, 1, stats[0]!), bins: null });
        case "SUM": {
          const s = stats[0]!;
          return withInterval({
            aggregateIndex: i,
            kind: a.kind,
            column,
            value: noisy(totals[o + measureSlot(a.column)]!, s.granularity, s),
            bins: null,
          });
        }
        case "AVG": {
          const [sumStat, countStat] = stats as [(typeof stats)[0], (typeof stats)[0]];
          const slot = measureSlot(a.column);
          const sum = noisy(totals[o + slot]!, sumStat!.granularity, sumStat!);
          const count = noisy(totals[o + slot + 1]!, 1, countStat!);
          // Post-processing of two noisy numbers: no further privacy cost.
          return withInterval({ aggregateIndex: i, kind: a.kind, column, value: count >= 1 ? sum / count : null, bins: null }, { sum, count });
        }
        case "HISTOGRAM": {
          const s = stats[0]!;
          const base = o + histSlot[histIndex++]!;
          const bins = Array.from({ length: a.bins }, (_, b) => noisy(totals[base + b]!, 1, s));
          return { aggregateIndex: i, kind: a.kind, column, value: null, bins };
        }
      }
    });
    const suppression = plan.suppression ?? null;
    if (suppression) {
      const judge = plan.statistics[suppression.statisticIndex]!;
      // The query's own noisy COUNT_UNITS when it has one (post-processing), else a fresh count.
      const reused = judge.stat === "units" ? raw.get(judge.aggregateIndex) : undefined;
      const noisyUnits = reused ?? noisy(totals[o]!, 1, judge);
      if (noisyUnits < suppression.minGroupSize) {
        groups.push({ key, suppressed: true, values: values.map((v) => ({ ...v, value: null, bins: null, interval: null })) });
        continue;
      }
    }
    groups.push({ key, suppressed: false, values });
  }
  return { groups };
}
