/**
 * The IPC protocol between the host (pool.ts) and a sandbox worker process (worker.ts): one
 * request, one response, matched by id. Messages travel with Node's "advanced" serialization
 * (structured clone), so kernel params may hold typed arrays. Column bytes do not travel here:
 * they go through a transfer file (column-transfer.ts) once per worker and stay cached there.
 */
import type { SandboxErrorCode } from "./errors.ts";
import type { TypedArrayName } from "./typed-arrays.ts";

/** One buffer (a column's values or its null bitmap) as laid out in a transfer file. */
export interface BufferSpec {
  type: TypedArrayName;
  length: number;
  /** Byte offset in the transfer file (multiple of 8). */
  offset: number;
}

export interface ColumnsMessage {
  /** Cache key of this column set in the worker; null: use for this job only. */
  key: string | null;
  /** Transfer file holding the bytes; null when the host believes the worker has `key` cached. */
  file: string | null;
  buffers: BufferSpec[];
  /** Per kernel column j: index into `buffers` of its values, and of its null bitmap (or null). */
  values: number[];
  nulls: Array<number | null>;
}

export interface KernelPartMessage {
  rowStart: number;
  rowEnd: number;
  params: unknown;
}

export interface KernelRequest {
  id: number;
  kind: "kernel";
  source: string;
  columns: ColumnsMessage;
  parts: KernelPartMessage[];
  timeoutMs: number;
  memoryLimitMb: number;
  maxResultChars: number;
  /** The source is generated and stateless: the worker may keep it warm across jobs (warm-kernels.ts). */
  reuse: boolean;
}

export interface UnitsRequest {
  id: number;
  kind: "units";
  source: string;
  /** Each unit's rows as a JSON string; parsed inside the isolate (a copy, never a reference). */
  units: string[];
  dimension: number;
  ranges: Array<[number, number]>;
  defaultVector: number[];
  /** Per output, a power of two each clamped output is rounded to; null keeps exact values. */
  granularity: number[] | null;
  perUnitTimeoutMs: number;
  memoryLimitMb: number;
  /** Column names as a JSON list when each row is an array of cells in that order; null: rows are objects. */
  columnsJson: string | null;
  /** Units that may share one isolate (each in a fresh context); 1: a fresh isolate per unit. */
  unitsPerIsolate: number;
  /** Epoch ms: no unit starts unless it can end (timeout and slack included) before it; null: none. */
  deadlineAt: number | null;
}

export type WorkerRequest = KernelRequest | UnitsRequest;

interface ResponseBase {
  id: number;
  /** Column set keys the worker holds after this job (the host routes and skips transfers by them). */
  cachedKeys: string[];
  /** The worker wants to be replaced (an isolate hit its memory limit: V8 is not resilient to OOM). */
  recycle: boolean;
}

export interface KernelResponse extends ResponseBase {
  ok: true;
  kind: "kernel";
  /** One JSON string per part, built inside the isolate. */
  results: string[];
  cpuNs: number;
}

export interface UnitsResponse extends ResponseBase {
  ok: true;
  kind: "units";
  /** Sum of the clamped per-unit vectors (defaults for failed units), in unit order. */
  sum: number[];
  failures: number;
  /** Units consumed; fewer than sent when a unit stalled its thread (it is counted as failed) or the deadline came. */
  processed: number;
  /** True when the job stopped because the next unit could not end before the deadline. */
  deadlineReached?: boolean;
  cpuNs: number;
}

export interface FailureResponse extends ResponseBase {
  ok: false;
  code: SandboxErrorCode | "COLUMNS_MISSING";
}

export type WorkerResponse = KernelResponse | UnitsResponse | FailureResponse;

/** First message of a worker: isolated-vm loaded, ready for jobs. */
export interface ReadyMessage {
  ready: true;
}
