/**
 * Spark Connect's connection string: `sc://host[:port][/;param=value;…]`, the form every Spark
 * Connect client accepts. Parameters understood here: `token` (bearer token; implies TLS),
 * `use_ssl` (true/false), `user_id`, `session_id` (a UUID to reuse a server session).
 */
import { SparkConnectError } from "./errors.ts";

export interface SparkConnectUrl {
  host: string;
  port: number;
  useSsl: boolean;
  token: string | null;
  userId: string;
  sessionId: string | null;
}

/** Spark Connect's default port. */
export const DEFAULT_PORT = 15002;

export function parseSparkConnectUrl(url: string): SparkConnectUrl {
  const m = /^sc:\/\/(\[[^\]]+\]|[^:/;]+)(?::(\d+))?(?:\/(.*))?$/.exec(url.trim());
  if (!m) throw new SparkConnectError("BAD_URL", "the Spark Connect URL must look like sc://host:port (optionally /;token=…;use_ssl=true)");
  const port = m[2] ? Number(m[2]) : DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new SparkConnectError("BAD_URL", "the Spark Connect URL's port must be 1–65535");
  const params = new Map<string, string>();
  for (const part of (m[3] ?? "").split(";")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    if (eq <= 0) throw new SparkConnectError("BAD_URL", "each Spark Connect URL parameter must be name=value");
    params.set(part.slice(0, eq), decodeURIComponent(part.slice(eq + 1)));
  }
  const known = new Set(["token", "use_ssl", "user_id", "session_id"]);
  for (const name of params.keys())
    if (!known.has(name)) throw new SparkConnectError("BAD_URL", `unknown Spark Connect URL parameter "${name}" (known: ${[...known].join(", ")})`);
  const token = params.get("token") ?? null;
  const sessionId = params.get("session_id") ?? null;
  if (sessionId !== null && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(sessionId))
    throw new SparkConnectError("BAD_URL", "the Spark Connect URL's session_id must be a UUID");
  return {
    host: m[1]!.replace(/^\[|\]$/g, ""),
    port,
    useSsl: token !== null || params.get("use_ssl") === "true",
    token,
    userId: params.get("user_id") ?? "data-exchange",
    sessionId,
  };
}
