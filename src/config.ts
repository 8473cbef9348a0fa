/**
 * Environment → typed, validated configuration. The one place that reads process.env.
 * A bad value stops the process at start with a message naming the variable.
 */
import { resolve } from "node:path";
import { z } from "zod";
import { parseWitnessKeys } from "./audit/witness.ts";
import { billingConfigFrom, billingEnv, type BillingConfig } from "./billing/config.ts";
import { DEFAULT_QUERY_RELEASE } from "./runs/release-slot.ts";

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"], { message: "must be true or false" })
  .transform((v) => v === "true" || v === "1" || v === "yes");

const schema = z.object({
  NODE_ENV: z.enum(["development", "test", "production"], { message: "must be development, test or production" }).default("development"),
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: z.coerce.number({ message: "must be a port number" }).int("must be an integer").min(0).max(65535).default(4000),
  DATA_DIR: z.string().min(1).default("./data"),
  MONGODB_URI: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\/\S+$/, "must start with mongodb:// or mongodb+srv://")
    .optional(),
  MONGODB_DB: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,63}$/, "must be 1-63 letters, digits, _ or -")
    .default("exchange"),
  SESSION_TTL_HOURS: z.coerce
    .number({ message: "must be a number of hours" })
    .int("must be an integer")
    .min(1)
    .max(24 * 90)
    .default(24),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  GRAPHIQL: bool.optional(),
  SEED_DEMO: bool.optional(),
  INTROSPECTION: bool.optional(),
  METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  GRAPHQL_MAX_COST: z.coerce.number({ message: "must be a number" }).int("must be an integer").min(10).max(1_000_000).default(5_000),
  RATE_LIMIT_CAPACITY: z.coerce.number({ message: "must be a number" }).int("must be an integer").min(10).default(20_000),
  RATE_LIMIT_PER_SECOND: z.coerce.number({ message: "must be a number" }).positive("must be positive").default(1000),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number({ message: "must be milliseconds" }).int().min(0).max(600_000).default(10_000),
  UPLOAD_MAX_BYTES: z.coerce
    .number({ message: "must be a number of bytes" })
    .int("must be an integer")
    .min(1)
    .max(Number.MAX_SAFE_INTEGER)
    .default(5 * 1024 ** 3),
  ANALYSIS_RELEASE_BASE_MS: z.coerce.number({ message: "must be milliseconds" }).int("must be an integer").min(0).max(600_000).default(2_000),
  ANALYSIS_RELEASE_MS_PER_1000_ROWS: z.coerce.number({ message: "must be milliseconds" }).int("must be an integer").min(0).max(600_000).default(50),
  ANALYSIS_RELEASE_ASSUMED_ROWS: z.coerce.number({ message: "must be a number of rows" }).int("must be an integer").min(0).max(1e12).default(100_000),
  // defaults measured and explained in runs/release-slot.ts
  QUERY_RELEASE_BASE_MS: z.coerce
    .number({ message: "must be milliseconds" })
    .int("must be an integer")
    .min(0)
    .max(600_000)
    .default(DEFAULT_QUERY_RELEASE.baseMs),
  QUERY_RELEASE_MS_PER_1000_ROWS: z.coerce
    .number({ message: "must be milliseconds" })
    .min(0)
    .max(600_000)
    .default(DEFAULT_QUERY_RELEASE.perThousandRowsMs),
  QUERY_RELEASE_ASSUMED_ROWS: z.coerce.number({ message: "must be a number of rows" }).int("must be an integer").min(0).max(1e12).default(1_000_000),
  PROFILE_EPSILON: z.coerce.number({ message: "must be an ε such as 0.1" }).gt(0, "must be greater than 0").max(1, "must be at most 1").default(0.1),
  PROFILE_AT_PUBLISH: bool.default(true),
  PLATFORM_FEE_BPS: z.coerce
    .number({ message: "must be basis points (1 bp = 0.01 %)" })
    .int("must be a whole number of basis points")
    .min(0, "must be 0–10000 basis points")
    .max(10_000, "must be 0–10000 basis points")
    .default(0),
  SPARK_CONNECT_URL: z
    .string()
    .regex(/^sc:\/\/[^\s]+$/, "must be a Spark Connect URL such as sc://spark.internal:15002")
    .optional(),
  CLUSTER_DATA_DIR: z.string().min(1).optional(),
  CLUSTER_MIN_ROWS: z.coerce.number({ message: "must be a number of rows" }).int("must be an integer").min(0).max(1e13).default(50_000_000),
  CLUSTER_RELEASE_BASE_MS: z.coerce.number({ message: "must be milliseconds" }).int("must be an integer").min(0).max(600_000).default(5_000),
  CLUSTER_RELEASE_MS_PER_1000_ROWS: z.coerce.number({ message: "must be milliseconds" }).min(0).max(600_000).default(1),
  RECOVERY_INTERVAL_MS: z.coerce.number({ message: "must be milliseconds" }).int("must be an integer").min(100).max(600_000).default(5_000),
  RUN_LEASE_MS: z.coerce.number({ message: "must be milliseconds" }).int("must be an integer").min(1_000).max(3_600_000).default(30_000),
  EXCHANGE_CRASH_AT: z
    .string()
    .regex(/^[a-z-]+(:(query|analysis))?$/, "must be a crash point such as after-stage or after-stage:query")
    .optional(),
  AUDIT_ORIGIN: z
    .string()
    .regex(/^[^\s+]{1,200}$/, "must be one word with no spaces or '+', e.g. exchange.example.com/audit")
    .default("data-exchange.local/audit"),
  AUDIT_SIGNING_KEY_FILE: z.string().min(1).optional(),
  AUDIT_WITNESS_KEYS: z
    .string()
    .regex(/^[^\s,]+(,[^\s,]+)*$/, "must be comma-separated verifier keys <name>+<key id>+<base64 key>")
    .superRefine((v, ctx) => {
      try {
        parseWitnessKeys(v.split(","));
      } catch (e) {
        ctx.addIssue({ code: "custom", message: (e as Error).message.replace(/^AUDIT_WITNESS_KEYS: /, "") });
      }
    })
    .optional(),
  ...billingEnv,
});

export interface Config {
  env: "development" | "test" | "production";
  host: string;
  port: number;
  dataDir: string;
  mongo: { uri: string; db: string } | null;
  sessionTtlMs: number;
  logLevel: string;
  /** GraphiQL is served in development unless turned off, in production only when turned on. */
  graphiql: boolean;
  /** Seed demo accounts into an empty store; never in production. */
  seedDemo: boolean;
  shutdownTimeoutMs: number;
  /** Largest dataset upload accepted, in bytes (UPLOAD_MAX_BYTES). */
  uploadMaxBytes: number;
  /** Schema introspection: on in development, off in production unless turned on. */
  introspection: boolean;
  /** Static cost limit per operation, and each caller's leaky bucket of cost. */
  graphqlMaxCost: number;
  rateLimit: { capacity: number; perSecond: number };
  /** When set, /metrics requires it as a bearer token. */
  metricsToken: string | null;
  /** The audit log's checkpoint origin, signing key (PEM file; default DATA_DIR/audit-signing-key.pem) and trusted witnesses. */
  audit: { origin: string; signingKeyFile: string | null; witnessKeys: string[] };
  /** Payment rail (Stripe / offline demo), payout threshold, hold lifetime: see src/billing/config.ts. */
  billing: BillingConfig;
  /**
   * When answers are released (src/runs/release-slot.ts): base + per 1 000 rows of the declared
   * public size, or of the assumed size where the owner declares none (ANALYSIS_RELEASE_BASE_MS,
   * ANALYSIS_RELEASE_MS_PER_1000_ROWS, ANALYSIS_RELEASE_ASSUMED_ROWS; QUERY_RELEASE_… likewise).
   */
  analysisRelease: { baseMs: number; perThousandRowsMs: number; assumedRows: number };
  queryRelease: { baseMs: number; perThousandRowsMs: number; assumedRows: number };
  /**
   * The cluster engine (issue #18), when SPARK_CONNECT_URL is set: queries over listings whose
   * declared public size is at least CLUSTER_MIN_ROWS run their bounded aggregation on Spark,
   * over Parquet copies in CLUSTER_DATA_DIR (default DATA_DIR/cluster; Spark must read it under
   * the same path), released on their own slot (CLUSTER_RELEASE_BASE_MS + …_MS_PER_1000_ROWS).
   */
  cluster: { sparkConnectUrl: string; dataDir: string; minRows: number; release: { baseMs: number; perThousandRowsMs: number } } | null;
  /**
   * Contribution profiles (issue #16): the ε one spends when the owner names none, and at publish
   * (PROFILE_EPSILON); whether publishing a listing whose policy has no profile and default
   * bounds computes one (PROFILE_AT_PUBLISH).
   */
  profile: { epsilon: number; atPublish: boolean };
  /** The exchange's share of each charge, in basis points (PLATFORM_FEE_BPS), posted to its revenue account. */
  platformFeeBasisPoints: number;
  /** How often the one recovery sweeper runs (RECOVERY_INTERVAL_MS), and how long a run may go silent (RUN_LEASE_MS). */
  recovery: { intervalMs: number; runLeaseMs: number };
  /** Test only: a run-path crash point to die at (EXCHANGE_CRASH_AT); refused in production. */
  crashAt: string | null;
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/** Parses an environment (process.env by default); throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings mean "unset", as in most shells' `VAR= cmd`.
  const raw = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => {
        const name = String(i.path[0] ?? "environment");
        const got = raw[name];
        const secret = name.includes("URI") || /SECRET|TOKEN|_URL$/.test(name);
        const shown = got === undefined ? "" : ` (got ${JSON.stringify(secret ? "<redacted>" : got)})`;
        return `${name}: ${i.message}${shown}`;
      }),
    );
  }
  const c = parsed.data;
  if (c.NODE_ENV === "production" && c.SEED_DEMO === true) {
    throw new ConfigError(["SEED_DEMO: demo accounts are refused when NODE_ENV=production"]);
  }
  if (c.NODE_ENV === "production" && c.EXCHANGE_CRASH_AT) {
    throw new ConfigError(["EXCHANGE_CRASH_AT: crash points are for tests and are refused when NODE_ENV=production"]);
  }
  const billing = billingConfigFrom(c);
  if (billing.problems.length > 0) throw new ConfigError(billing.problems);
  return {
    env: c.NODE_ENV,
    host: c.HOST,
    port: c.PORT,
    dataDir: resolve(c.DATA_DIR),
    mongo: c.MONGODB_URI ? { uri: c.MONGODB_URI, db: c.MONGODB_DB } : null,
    sessionTtlMs: c.SESSION_TTL_HOURS * 3_600_000,
    logLevel: c.LOG_LEVEL,
    graphiql: c.GRAPHIQL ?? c.NODE_ENV !== "production",
    seedDemo: c.SEED_DEMO ?? c.NODE_ENV !== "production",
    shutdownTimeoutMs: c.SHUTDOWN_TIMEOUT_MS,
    uploadMaxBytes: c.UPLOAD_MAX_BYTES,
    introspection: c.INTROSPECTION ?? c.NODE_ENV !== "production",
    graphqlMaxCost: c.GRAPHQL_MAX_COST,
    rateLimit: { capacity: c.RATE_LIMIT_CAPACITY, perSecond: c.RATE_LIMIT_PER_SECOND },
    metricsToken: c.METRICS_TOKEN ?? null,
    audit: {
      origin: c.AUDIT_ORIGIN,
      signingKeyFile: c.AUDIT_SIGNING_KEY_FILE ? resolve(c.AUDIT_SIGNING_KEY_FILE) : null,
      witnessKeys: c.AUDIT_WITNESS_KEYS ? c.AUDIT_WITNESS_KEYS.split(",") : [],
    },
    billing: billing.config,
    analysisRelease: {
      baseMs: c.ANALYSIS_RELEASE_BASE_MS,
      perThousandRowsMs: c.ANALYSIS_RELEASE_MS_PER_1000_ROWS,
      assumedRows: c.ANALYSIS_RELEASE_ASSUMED_ROWS,
    },
    queryRelease: { baseMs: c.QUERY_RELEASE_BASE_MS, perThousandRowsMs: c.QUERY_RELEASE_MS_PER_1000_ROWS, assumedRows: c.QUERY_RELEASE_ASSUMED_ROWS },
    cluster: c.SPARK_CONNECT_URL
      ? {
          sparkConnectUrl: c.SPARK_CONNECT_URL,
          dataDir: resolve(c.CLUSTER_DATA_DIR ?? `${c.DATA_DIR}/cluster`),
          minRows: c.CLUSTER_MIN_ROWS,
          release: { baseMs: c.CLUSTER_RELEASE_BASE_MS, perThousandRowsMs: c.CLUSTER_RELEASE_MS_PER_1000_ROWS },
        }
      : null,
    platformFeeBasisPoints: c.PLATFORM_FEE_BPS,
    profile: { epsilon: c.PROFILE_EPSILON, atPublish: c.PROFILE_AT_PUBLISH },
    recovery: { intervalMs: c.RECOVERY_INTERVAL_MS, runLeaseMs: c.RUN_LEASE_MS },
    crashAt: c.EXCHANGE_CRASH_AT ?? null,
  };
}
