/** The public face of src/queries: other modules import from here only. */
export { derivedKeyColumns, planQuery, type QueryPlan, maxRowsPerUnitOf, requestedEpsilon } from "./plan.ts";
export { mergeTotals, bindParams, runKernelInProcess, type BoundParams } from "./bind.ts";
export type { KernelOutput, KernelProgram, ColumnValues, ColumnView } from "./kernel-abi.ts";
export { releaseAnswer, type ReleasedAnswer } from "./release.ts";
export { PolicyViolation } from "./errors.ts";
export type { AggregateIR, FilterIR, QueryIR } from "./ir.ts";
export { compileClusteredKernel, kernelColumns, kernelShape, ROW_INDEX_COLUMN } from "./compile.ts";
export { SELECTION_HASH_SOURCE, selectionHash } from "./selection-hash.ts";
export type { Literal } from "./ir.ts";
export type { ReleasedGroup } from "./release.ts";
export { quotedErrors, type QuotedError } from "./error-model.ts";
export { computeProfile, profileDims, type ContributionProfile } from "./contribution-profile.ts";
export { suggestBounds, typicalQueryErrors, type SuggestedBounds, type TypicalQueryChoice, type BoundsTradeoff } from "./suggest-bounds.ts";
