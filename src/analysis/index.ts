/** The public face of src/analysis: other modules import from here only. */
export type { AnalysisRevision } from "./model.ts";
export { checkSpec } from "./spec.ts";
export { planOutputs, releaseVector, type PlannedOutput, type ReleasedOutput } from "./release.ts";
export { AnalysisConflict } from "./errors.ts";

export { AnalysisService } from "./service.ts";
import type { AnalysisService as AnalysisServiceType } from "./service.ts";

declare module "../graphql/context.ts" {
  interface ExchangeServices {
    analyses: AnalysisServiceType;
  }
}
