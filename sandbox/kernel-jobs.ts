/**
 * Host side of compiled kernels: validates a call, ships the columns to a worker once (then the
 * worker's cache serves them), runs one isolate per part in that worker, parses each part's JSON.
 *
 * Calling convention (the compiler's, src/queries/kernel-abi.ts): the source defines
 *   function kernel(cols, nulls, start, end, params) { …; return partialAggregate }
 * cols[j] is column j's typed array, nulls[j] its null bitmap (bit i set ⇔ row i is null) or
 * null; both arrays are frozen and read shared memory. params is a structured clone (typed
 * arrays allowed). The return value must be JSON-serialisable; it leaves as JSON text.
 */
import { serialize } from "node:v8";
import { SandboxError } from "./errors.ts";
import { layoutColumns, removeTransferFile, writeTransferFile, type ColumnInput } from "./column-transfer.ts";
import type { KernelResponse } from "./protocol.ts";
import type { SandboxPool } from "./pool.ts";
import { WORKER_DEADLINE_SLACK_MS } from "./limits.ts";
import { checkInt, checkSource } from "./checks.ts";

export interface KernelPart {
  rowStart: number;
  rowEnd: number;
  params?: unknown;
}

export interface KernelLimits {
  /** Limit per isolate call (default 10 s). */
  timeoutMs?: number;
  /** Heap per isolate, on top of the shared columns (default 128 MB). */
  memoryLimitMb?: number;
  /** Longest result JSON, in characters (default 1,000,000). */
  maxResultChars?: number;
  /** Host wall deadline; default: timeout + slack + transfer allowance. */
  hostDeadlineMs?: number;
}

export interface KernelCall extends KernelLimits {
  source: string;
  columns: readonly ColumnInput[];
  /** Names this exact column set (e.g. dataset version + chunks + columns) so workers cache it. */
  columnsKey?: string | null;
  parts: readonly KernelPart[];
  /**
   * The source is generated (never buyer code) and keeps no state between calls: workers keep
   * its compiled kernel warm in a locked-down context across jobs (warm-kernels.ts). Default
   * false: a fresh isolate per part.
   */
  reuse?: boolean;
}

export interface Metering {
  /** Rows the kernel was asked to scan, summed over parts. */
  rows: number;
  /** Isolate CPU time, summed over parts. */
  cpuMs: number;
  /** Host wall time from dispatch to answer (queue wait excluded). */
  wallMs: number;
}

export const KERNEL_DEFAULTS = { timeoutMs: 10_000, memoryLimitMb: 128, maxResultChars: 1_000_000 } as const;

/** Splits [start, end) into at most n contiguous non-empty parts (one when the range is empty). */
export function splitRows(start: number, end: number, n: number): Array<{ rowStart: number; rowEnd: number }> {
  const count = Math.max(1, Math.min(Math.floor(n), end - start));
  const parts: Array<{ rowStart: number; rowEnd: number }> = [];
  for (let p = 0; p < count; p++) {
    parts.push({
      rowStart: start + Math.floor(((end - start) * p) / count),
      rowEnd: start + Math.floor(((end - start) * (p + 1)) / count),
    });
  }
  return parts;
}

export async function runKernelCall(pool: SandboxPool, call: KernelCall): Promise<{ partials: unknown[]; metering: Metering }> {
  checkSource(call.source);
  if (!Array.isArray(call.columns)) throw new SandboxError("INVALID_REQUEST", "columns must be an array");
  const layout = layoutColumns(call.columns);
  const rowCount = call.columns.length === 0 ? 0 : call.columns[0]!.values.length;
  call.columns.forEach((c, j) => {
    if (c.values.length !== rowCount)
      throw new SandboxError("INVALID_REQUEST", `columns[${j}].values has ${c.values.length} rows, columns[0] has ${rowCount}`);
    if (c.nulls && c.nulls.length < Math.ceil(rowCount / 8))
      throw new SandboxError("INVALID_REQUEST", `columns[${j}].nulls is shorter than its column`);
  });
  if (!Array.isArray(call.parts) || call.parts.length === 0 || call.parts.length > 256) {
    throw new SandboxError("INVALID_REQUEST", "parts must hold 1 to 256 parts");
  }
  const parts = call.parts.map((p, i) => {
    const rowStart = checkInt(p.rowStart, `parts[${i}].rowStart`, 0, rowCount);
    const rowEnd = checkInt(p.rowEnd, `parts[${i}].rowEnd`, rowStart, rowCount);
    try {
      serialize(p.params); // what the IPC channel will do; SharedArrayBuffers and functions fail here
    } catch {
      throw new SandboxError("INVALID_REQUEST", `parts[${i}].params cannot be cloned to a worker`);
    }
    return { rowStart, rowEnd, params: p.params };
  });
  const timeoutMs = checkInt(call.timeoutMs ?? KERNEL_DEFAULTS.timeoutMs, "timeoutMs", 1, 600_000);
  const memoryLimitMb = checkInt(call.memoryLimitMb ?? KERNEL_DEFAULTS.memoryLimitMb, "memoryLimitMb", 8, 16_384);
  const maxResultChars = checkInt(call.maxResultChars ?? KERNEL_DEFAULTS.maxResultChars, "maxResultChars", 2, 256 * 1024 * 1024);
  const key = call.columnsKey ?? null;
  if (key !== null && (typeof key !== "string" || key.length === 0 || key.length > 512)) {
    throw new SandboxError("INVALID_REQUEST", "columnsKey must be a string of 1 to 512 characters");
  }
  // transfer allowance: 50 MB/s is far below tmpfs speed, so only a stuck worker misses it
  const hostDeadlineMs = call.hostDeadlineMs ?? timeoutMs + WORKER_DEADLINE_SLACK_MS + 2000 + Math.ceil(layout.totalBytes / 50_000);
  checkInt(hostDeadlineMs, "hostDeadlineMs", 1, 3_600_000);

  const files: string[] = [];
  let started = 0;
  try {
    const response = (await pool.run({
      deadlineMs: hostDeadlineMs,
      affinityKey: key,
      request: async (cached) => {
        started = performance.now();
        let file: string | null = null;
        if (key === null || !cached.has(key)) {
          file = await writeTransferFile(pool.transferDir, layout);
          files.push(file);
        }
        return {
          kind: "kernel",
          source: call.source,
          columns: { key, file, buffers: layout.buffers, values: layout.values, nulls: layout.nulls },
          parts,
          timeoutMs,
          memoryLimitMb,
          maxResultChars,
          reuse: call.reuse === true,
        };
      },
    })) as KernelResponse;
    const partials = response.results.map((json) => JSON.parse(json) as unknown);
    return {
      partials,
      metering: {
        rows: parts.reduce((n, p) => n + (p.rowEnd - p.rowStart), 0),
        cpuMs: response.cpuNs / 1e6,
        wallMs: performance.now() - started,
      },
    };
  } finally {
    await Promise.all(files.map(removeTransferFile));
  }
}
