/** The native path's entry points, loaded on demand (DuckDB is a native addon). */
export { NativeDeclined, nativeIngest } from "./native-path.ts";
export { csvPlan, parquetPlan } from "./native-plan.ts";
