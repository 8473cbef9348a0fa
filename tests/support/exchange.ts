/**
 * Starts a real exchange (real Koa server on 127.0.0.1, real store) for HTTP tests, on SQLite
 * in a temp dir or on the MongoDB-wire server from MONGODB_URI in a fresh database.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { loadConfig, type Config } from "../../src/config.ts";
import { createLogger } from "../../src/logger.ts";
import { startExchange, type RunningExchange, type StartOptions } from "../../src/exchange/index.ts";
import type { MongoStore } from "../../src/store/mongo.ts";

export type AdapterName = "sqlite" | "mongodb";

/** The adapters this run can use: SQLite always, MongoDB when MONGODB_URI is set. */
export function availableAdapters(): AdapterName[] {
  return process.env.MONGODB_URI ? ["sqlite", "mongodb"] : ["sqlite"];
}

export interface TestExchange extends RunningExchange {
  config: Config;
  /** POSTs a GraphQL operation; returns the parsed body and the HTTP status. */
  gql<T = any>(query: string, variables?: Record<string, unknown>, token?: string): Promise<{ status: number; body: T }>;
  stop(): Promise<void>;
}

export async function startTestExchange(adapter: AdapterName, env: Record<string, string> = {}, options: StartOptions = {}): Promise<TestExchange> {
  const dataDir = await mkdtemp(join(tmpdir(), "exchange-test-"));
  const dbName = `test_${process.pid}_${randomBytes(4).toString("hex")}`;
  const config = loadConfig({
    NODE_ENV: "test",
    PORT: "0",
    DATA_DIR: dataDir,
    SEED_DEMO: "false",
    LOG_LEVEL: "silent",
    // Publishing does not profile unless a test asks (it spends ε and adds a policy version; tests/e2e/policy-profile.test.ts covers it).
    PROFILE_AT_PUBLISH: "false",
    ...(adapter === "mongodb" ? { MONGODB_URI: requireMongoUri(), MONGODB_DB: dbName } : {}),
    ...env,
  });
  const running = await startExchange(config, createLogger(config.logLevel), options);
  return {
    ...running,
    get closed() {
      return running.closed;
    },
    config,
    async gql(query, variables = {}, token) {
      const res = await fetch(`${running.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      return { status: res.status, body: (await res.json()) as any };
    },
    async stop() {
      const db = adapter === "mongodb" ? (running.services.store as MongoStore).db : null;
      if (db) await db.dropDatabase().catch(() => undefined);
      await running.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

function requireMongoUri(): string {
  const uri = process.env.MONGODB_URI;
  if (!uri) throw new Error("MONGODB_URI is not set");
  return uri;
}
