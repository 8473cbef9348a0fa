/**
 * The privacy gate for analyses: the trusted reducer's sum of clamped per-unit vectors gets
 * discrete Laplace noise per output. Neighbouring datasets differ by one unit, whose vector moves
 * output i by at most max(|lo_i|, |hi_i|) (a failed unit's default lies in the range too), so
 * the L1 sensitivity of the whole vector is Σ_i max(|lo_i|, |hi_i|). ε is split evenly over the
 * d outputs and each output i is noised at ε/d with its own Δ_i, in integer units of a public
 * power-of-two granularity g_i (the sandbox rounds every unit's output to g_i, so the sum is an
 * exact multiple): the total loss is Σ_i ε/d = ε.
 */
import {
  divideEpsilon,
  expectedNoiseStdDev,
  fromUnits,
  granularityFor,
  maxUnits,
  releaseInteger,
  cryptoBytes,
  type ByteSource,
  type Epsilon,
} from "../privacy/mechanism/index.ts";
import type { AnalysisOutput } from "./model.ts";

export interface PlannedOutput extends AnalysisOutput {
  epsilon: Epsilon;
  granularity: number;
  /** Largest |contribution| of one unit, in integer units of `granularity`. */
  sensitivity: bigint;
  expectedStdDev: number;
}

export function planOutputs(outputs: readonly AnalysisOutput[], epsilon: Epsilon): PlannedOutput[] {
  const share = divideEpsilon(epsilon, outputs.length);
  return outputs.map((o) => {
    const granularity = granularityFor(o.lo, o.hi);
    const sensitivity = maxUnits(o.lo, o.hi, granularity);
    return { ...o, epsilon: share, granularity, sensitivity, expectedStdDev: expectedNoiseStdDev(sensitivity, share, granularity) };
  });
}

export interface ReleasedOutput {
  name: string;
  value: number;
}

export function releaseVector(planned: readonly PlannedOutput[], sum: readonly number[], bytes: ByteSource = cryptoBytes): ReleasedOutput[] {
  if (sum.length !== planned.length) throw new Error(`analysis release: ${sum.length} sums for ${planned.length} outputs`);
  return planned.map((o, i) => {
    const units = sum[i]! / o.granularity;
    // The sandbox rounded every contribution to the granularity: anything else is a bug upstream.
    if (!Number.isSafeInteger(units)) throw new Error(`analysis release: output ${i} is not an exact multiple of its granularity`);
    return { name: o.name, value: fromUnits(releaseInteger(BigInt(units), o.sensitivity, o.epsilon, bytes), o.granularity) };
  });
}
