/** The public face of src/runs: other modules import from here only. */
export type { Quote, QuotedGroupThreshold, QuotedStatistic, QueryRequest, QueryAnswer } from "./query-runs.ts";
export { QueryService } from "./query-runs.ts";
export { AnalysisRunService } from "./analysis-runs.ts";
export { ColumnLoader } from "./columns.ts";
export { SparkEngine } from "./cluster/spark-engine.ts";
export type { ClusterEngineConfig } from "./query-engine.ts";
export { DEFAULT_ANALYSIS_RELEASE, DEFAULT_QUERY_RELEASE } from "./release-slot.ts";
export { RunPath, type RunPlan, type RunOutcome } from "./run-path.ts";
export { RunRecords, type RunRecord, type RunState } from "./run-record.ts";
export { RecoverySweeper } from "./recovery-sweeper.ts";
export { PolicyProfiler, PROFILE_EPSILON_DEFAULT, PROFILE_EPSILON_MAX, type BoundsSuggestion } from "./policy-profile.ts";
export { CRASH_POINTS, crashHookFrom, type CrashPoint } from "./crash-points.ts";

import type { QueryService } from "./query-runs.ts";
import type { AnalysisRunService } from "./analysis-runs.ts";
import type { PolicyProfiler } from "./policy-profile.ts";

declare module "../graphql/context.ts" {
  interface ExchangeServices {
    /** Quotes and runs aggregate queries. */
    queries: QueryService;
    /** Quotes and runs approved analyses. */
    analysisRuns: AnalysisRunService;
    /** DP contribution profiles and the bounds suggested from them (issue #16). */
    profiler: PolicyProfiler;
  }
}
