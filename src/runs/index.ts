/** The public face of src/runs: other modules import from here only. */
export type { Quote, QuotedGroupThreshold, QuotedStatistic, QueryRequest, QueryAnswer } from "./query-runs.ts";
export { QueryService } from "./query-runs.ts";
export { AnalysisRunService } from "./analysis-runs.ts";
export { ColumnLoader } from "./columns.ts";
export { DEFAULT_ANALYSIS_RELEASE, DEFAULT_QUERY_RELEASE } from "./release-slot.ts";
export { RunPath, type RunPlan, type RunOutcome } from "./run-path.ts";
export { RunRecords, type RunRecord, type RunState } from "./run-record.ts";
export { RecoverySweeper } from "./recovery-sweeper.ts";
export { CRASH_POINTS, crashHookFrom, type CrashPoint } from "./crash-points.ts";

import type { QueryService } from "./query-runs.ts";
import type { AnalysisRunService } from "./analysis-runs.ts";

declare module "../graphql/context.ts" {
  interface ExchangeServices {
    /** Quotes and runs aggregate queries. */
    queries: QueryService;
    /** Quotes and runs approved analyses. */
    analysisRuns: AnalysisRunService;
  }
}
