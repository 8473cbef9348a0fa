/** sandbox/: runs kernels and approved buyer code in isolated-vm. Imports nothing from src/. */
export { Sandbox, type KernelJob, type ParallelKernelJob, type SandboxOptions } from "./sandbox.ts";
export { SandboxPool, type SandboxPoolOptions, type SandboxPoolStats } from "./pool.ts";
export { SandboxError, SANDBOX_ERROR_CODES, type SandboxErrorCode } from "./errors.ts";
export { splitRows, KERNEL_DEFAULTS, type KernelPart, type KernelLimits, type Metering } from "./kernel-jobs.ts";
export type { PerUnitCall, PerUnitResult, PrivacyUnit, UnitBatches } from "./per-unit-jobs.ts";
export type { ColumnInput } from "./column-transfer.ts";
export type { ColumnArray, TypedArrayName } from "./typed-arrays.ts";
