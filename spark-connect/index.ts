export { SparkConnectClient, type SqlOptions } from "./client.ts";
export type { SqlArgument, SqlScalar, ScalarType } from "./arguments.ts";
export type { SparkColumn, SparkResult } from "./arrow.ts";
export { SparkConnectError, type SparkConnectErrorCode } from "./errors.ts";
export { parseSparkConnectUrl, DEFAULT_PORT, type SparkConnectUrl } from "./url.ts";
