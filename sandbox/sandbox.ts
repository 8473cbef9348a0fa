/**
 * The sandbox's public face: compiled kernels (trusted, generated) and owner-approved buyer code
 * (untrusted), both run in isolated-vm isolates inside a pool of worker processes.
 */
import { availableParallelism } from "node:os";
import { SandboxPool, type SandboxPoolOptions, type SandboxPoolStats } from "./pool.ts";
import { runKernelCall, splitRows, type KernelLimits, type KernelPart, type Metering } from "./kernel-jobs.ts";
import { runPerUnitCall, type PerUnitCall, type PerUnitResult } from "./per-unit-jobs.ts";
import type { ColumnInput } from "./column-transfer.ts";
import { checkInt } from "./checks.ts";

export interface KernelJob extends KernelLimits {
  /** Defines `function kernel(cols, nulls, start, end, params)`. */
  source: string;
  columns: readonly ColumnInput[];
  /** Names this exact column set so workers keep it cached between jobs; omit for one-off data. */
  columnsKey?: string | null;
  rowStart: number;
  rowEnd: number;
  params?: unknown;
  /** Generated, stateless source: keep it warm in the workers across jobs (see KernelCall.reuse). */
  reuse?: boolean;
}

export interface ParallelKernelJob extends Omit<KernelJob, "rowStart" | "rowEnd" | "params"> {
  /** Explicit parts (each its own row range and params), e.g. one per unit-hash partition. */
  parts?: readonly KernelPart[];
  /** Otherwise [rowStart, rowEnd) is split into `partitions` (default: cores) with the same params. */
  rowStart?: number;
  rowEnd?: number;
  params?: unknown;
  partitions?: number;
}

export type SandboxOptions = SandboxPoolOptions;

export class Sandbox {
  readonly pool: SandboxPool;

  constructor(options: SandboxOptions = {}) {
    this.pool = new SandboxPool(options);
  }

  /** One kernel over one row range in one isolate. */
  async runKernel(job: KernelJob): Promise<{ result: unknown; metering: Metering }> {
    const { partials, metering } = await runKernelCall(this.pool, {
      ...job,
      parts: [{ rowStart: job.rowStart, rowEnd: job.rowEnd, params: job.params }],
    });
    return { result: partials[0], metering };
  }

  /**
   * One isolate per part, in parallel in one worker over the same shared columns; returns the
   * partial results in part order for the caller's merge.
   */
  async runKernelParallel(job: ParallelKernelJob): Promise<{ partials: unknown[]; metering: Metering }> {
    let parts = job.parts;
    if (parts === undefined) {
      const rows = job.columns[0]?.values.length ?? 0;
      const start = job.rowStart ?? 0;
      const end = job.rowEnd ?? rows;
      const n = checkInt(job.partitions ?? availableParallelism(), "partitions", 1, 256);
      parts = splitRows(start, end, n).map((p) => ({ ...p, params: job.params }));
    }
    return runKernelCall(this.pool, { ...job, parts });
  }

  /** Buyer code `map(rows) → number[d]` once per unit; returns the sum of clamped vectors. */
  runPerUnit(call: PerUnitCall): Promise<PerUnitResult> {
    return runPerUnitCall(this.pool, call);
  }

  warm(): Promise<void> {
    return this.pool.warm();
  }

  stats(): SandboxPoolStats {
    return this.pool.stats();
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
