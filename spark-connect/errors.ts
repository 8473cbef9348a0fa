/**
 * The client's closed set of failures. Messages name the failure and, for a failed query, the
 * engine's error class (e.g. DIVIDE_BY_ZERO) and SQLSTATE only: the engine's own message can
 * quote values from the data, so it never leaves this module.
 */
export type SparkConnectErrorCode =
  /** The connection string is malformed. */
  | "BAD_URL"
  /** A typed argument does not fit its type. */
  | "BAD_ARGUMENT"
  /** The engine could not be reached, or dropped the connection and could not be reattached. */
  | "ENGINE_UNREACHABLE"
  /** The engine ran the query and refused or failed it. */
  | "QUERY_FAILED"
  /** The query did not finish by its deadline (it was interrupted on the engine). */
  | "TIMEOUT"
  /** The engine answered with something this client does not understand. */
  | "PROTOCOL";

export class SparkConnectError extends Error {
  override readonly name = "SparkConnectError";
  readonly code: SparkConnectErrorCode;
  /** For QUERY_FAILED: the engine's error class, when it sent one (never its message). */
  readonly errorClass: string | null;
  readonly sqlState: string | null;
  constructor(code: SparkConnectErrorCode, message: string, errorClass: string | null = null, sqlState: string | null = null) {
    super(message);
    this.code = code;
    this.errorClass = errorClass;
    this.sqlState = sqlState;
  }
}

/** gRPC status codes (grpc-js `status`) that mean the engine is not there or went away. */
const UNREACHABLE = new Set([14 /* UNAVAILABLE */, 4 /* DEADLINE_EXCEEDED on connect */, 1 /* CANCELLED by transport */]);

/**
 * A gRPC error as one of ours. The engine's error class is the `[CLASS]` its message starts
 * with; the SQLSTATE the `SQLSTATE: xxxxx` it ends with. Nothing else of the message is kept.
 */
export function fromGrpcError(e: unknown, during: string): SparkConnectError {
  if (e instanceof SparkConnectError) return e;
  const err = e as { code?: number; details?: string };
  const details = typeof err.details === "string" ? err.details : "";
  if (typeof err.code === "number" && UNREACHABLE.has(err.code))
    return new SparkConnectError("ENGINE_UNREACHABLE", `the Spark Connect engine is unreachable (${during})`);
  const errorClass = /^\[([A-Z0-9_.]+)\]/.exec(details)?.[1] ?? null;
  const sqlState = /SQLSTATE: ([0-9A-Z]{5})/.exec(details)?.[1] ?? null;
  return new SparkConnectError(
    "QUERY_FAILED",
    `the Spark engine failed the query (${during}): ${errorClass ?? "no error class"}${sqlState ? `, SQLSTATE ${sqlState}` : ""}`,
    errorClass,
    sqlState,
  );
}
