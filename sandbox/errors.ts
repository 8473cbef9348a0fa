/**
 * Every failure the sandbox reports is one of these codes with a fixed message. Nothing a job
 * produced (an exception's message, a stack, a value) is ever carried: it could hold row values.
 */
export const SANDBOX_ERROR_CODES = {
  TIMEOUT: "the job ran past its time limit",
  MEMORY_LIMIT: "the job ran past its memory limit",
  SANDBOX_CRASHED: "the sandbox worker process died during the job",
  KERNEL_THREW: "the code threw an exception",
  KERNEL_INVALID: "the code does not compile or does not define the expected function",
  BAD_RESULT: "the result is not a JSON value",
  RESULT_TOO_LARGE: "the result is larger than the cap",
  QUEUE_FULL: "the sandbox queue is full",
  POOL_CLOSED: "the sandbox pool is closed",
  TOO_MANY_CRASHES: "too many units crashed or stalled the sandbox",
  INVALID_REQUEST: "the request to the sandbox is malformed",
  SANDBOX_ERROR: "the sandbox failed",
  SANDBOX_UNAVAILABLE: "no sandbox worker process could be started",
} as const;

export type SandboxErrorCode = keyof typeof SANDBOX_ERROR_CODES;

export class SandboxError extends Error {
  readonly code: SandboxErrorCode;
  /** Only for INVALID_REQUEST: which argument of the call was wrong (caller's data, never job data). */
  readonly detail: string | null;
  constructor(code: SandboxErrorCode, detail: string | null = null) {
    super(detail === null ? SANDBOX_ERROR_CODES[code] : `${SANDBOX_ERROR_CODES[code]}: ${detail}`);
    this.name = "SandboxError";
    this.code = code;
    this.detail = detail;
  }
}

export function isSandboxErrorCode(value: unknown): value is SandboxErrorCode {
  return typeof value === "string" && Object.hasOwn(SANDBOX_ERROR_CODES, value);
}
