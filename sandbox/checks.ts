/** Argument checks for the host API: a bad call is INVALID_REQUEST naming the argument. */
import { SandboxError } from "./errors.ts";

export function checkInt(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new SandboxError("INVALID_REQUEST", `${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}

/** Source text of generated kernels or approved buyer code: a non-empty string up to 1 MB. */
export function checkSource(source: unknown): asserts source is string {
  if (typeof source !== "string" || source.length === 0 || source.length > 1_000_000) {
    throw new SandboxError("INVALID_REQUEST", "source must be a non-empty string of at most 1,000,000 characters");
  }
}
