import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.ts";

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("defaults to an embedded development exchange on 127.0.0.1:4000", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ env: "development", host: "127.0.0.1", port: 4000, mongo: null, graphiql: true, seedDemo: true });
    expect(c.sessionTtlMs).toBe(24 * 3_600_000);
  });

  it("names each bad variable and the value it got", () => {
    expect(problems({ PORT: "abc" })).toEqual([expect.stringMatching(/^PORT: .*\(got "abc"\)$/)]);
    expect(problems({ PORT: "70000" })[0]).toMatch(/^PORT:/);
    expect(problems({ NODE_ENV: "staging" })[0]).toMatch(/^NODE_ENV: must be development, test or production/);
    expect(problems({ MONGODB_URI: "postgres://x" })[0]).toMatch(/^MONGODB_URI: must start with mongodb:\/\//);
    expect(problems({ MONGODB_URI: "postgres://secret@x" })[0]).not.toContain("secret");
    expect(
      problems({ GRAPHIQL: "maybe", SESSION_TTL_HOURS: "0" })
        .map((p) => p.split(":")[0])
        .sort(),
    ).toEqual(["GRAPHIQL", "SESSION_TTL_HOURS"]);
  });

  it("turns GraphiQL and the demo seed off in production, and refuses a demo seed there", () => {
    expect(loadConfig({ NODE_ENV: "production" })).toMatchObject({ graphiql: false, seedDemo: false });
    expect(problems({ NODE_ENV: "production", SEED_DEMO: "true" })[0]).toMatch(/^SEED_DEMO: .*refused/);
  });

  it("uses MongoDB when MONGODB_URI is set", () => {
    expect(loadConfig({ MONGODB_URI: "mongodb://h:27017/", MONGODB_DB: "prod" }).mongo).toEqual({ uri: "mongodb://h:27017/", db: "prod" });
  });
});
