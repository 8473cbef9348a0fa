/** Abuse limits over real HTTP: depth, aliases, cost, rate, CSRF, introspection, metrics. */
import { afterEach, describe, expect, it } from "vitest";
import { startTestExchange, type TestExchange } from "../support/exchange.ts";

let ex: TestExchange | null = null;
afterEach(async () => {
  await ex?.stop();
  ex = null;
});

async function adminKey(e: TestExchange): Promise<string> {
  const admin = await e.services.accounts.createAccount("root@example.com", "Correct-Horse-42", ["ADMIN"]);
  return (await e.services.accounts.createApiKey(admin._id, "admin")).secret;
}

describe("API abuse limits", () => {
  it("refuses an over-deep query and one with too many aliases", async () => {
    ex = await startTestExchange("sqlite");
    let deep = "email";
    for (let i = 0; i < 14; i++) deep = `f${i} { ${deep} }`;
    const r1 = await ex.gql(`{ ${deep} }`);
    expect(r1.body.errors.map((e: { message: string }) => e.message).join("\n")).toMatch(/depth limit/i);
    const aliases = Array.from({ length: 16 }, (_, i) => `a${i}: viewer { email }`).join(" ");
    const r2 = await ex.gql(`{ ${aliases} }`);
    expect(r2.body.errors[0].message).toMatch(/aliases/i);
  });

  it("refuses an over-cost query with its cost in the error, and reports cost on success", async () => {
    ex = await startTestExchange("sqlite", { GRAPHQL_MAX_COST: "100" });
    const key = await adminKey(ex);
    const over = await ex.gql(`{ accounts(first: 100) { edges { node { email roles } } } }`, {}, key);
    expect(over.body.errors[0].extensions).toEqual({ code: "COST_LIMIT_EXCEEDED", cost: 401, limit: 100 });
    expect(over.body.errors[0].message).toMatch(/cost 401 exceeds the limit of 100/);
    const ok = await ex.gql(`{ accounts(first: 5) { edges { node { email } } } }`, {}, key);
    expect(ok.body.data.accounts.edges).toHaveLength(1);
    expect(ok.body.extensions.cost).toMatchObject({ requested: 16, limit: 100, bucket: { capacity: 20000 } });
  });

  it("rate-limits each caller by cost with 429 and a retry time, per key", async () => {
    ex = await startTestExchange("sqlite", { RATE_LIMIT_CAPACITY: "10", RATE_LIMIT_PER_SECOND: "0.01" });
    const key = await adminKey(ex);
    const q = `{ viewer { email roles } }`; // cost 3
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await ex.gql(q, {}, key)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await ex.gql(q, {}, key);
    expect(limited.body.errors[0].extensions).toMatchObject({ code: "RATE_LIMITED", cost: 3 });
    // Another caller (anonymous, by address) has its own bucket.
    expect((await ex.gql(q)).status).toBe(200);
  });

  it("requires a CSRF header (or a bearer credential) on requests a browser could send cross-site", async () => {
    ex = await startTestExchange("sqlite");
    const url = `${ex.url}/graphql?query=${encodeURIComponent("{ viewer { email } }")}`;
    expect((await fetch(url)).status).toBe(403);
    expect((await fetch(url, { headers: { "x-exchange-csrf": "1" } })).status).toBe(200);
    const form = new FormData();
    form.set("operations", JSON.stringify({ query: "{ viewer { email } }" }));
    form.set("map", "{}");
    expect((await fetch(`${ex.url}/graphql`, { method: "POST", body: form })).status).toBe(403);
  });

  it("turns introspection off in production and keeps it in development", async () => {
    ex = await startTestExchange("sqlite", { NODE_ENV: "production" });
    const prod = await ex.gql(`{ __schema { queryType { name } } }`);
    expect(prod.body.errors[0].message).toMatch(/introspection/i);
    await ex.stop();
    ex = await startTestExchange("sqlite", { NODE_ENV: "development" });
    const dev = await ex.gql(`{ __schema { queryType { name } } }`);
    expect(dev.body.data.__schema.queryType.name).toBe("Query");
  });

  it("serves Prometheus metrics for requests and operations, behind METRICS_TOKEN when set", async () => {
    ex = await startTestExchange("sqlite", { METRICS_TOKEN: "metrics-token-0123456789" });
    await fetch(`${ex.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "query WhoAmI { viewer { email } }", operationName: "WhoAmI" }),
    });
    expect((await fetch(`${ex.url}/metrics`)).status).toBe(401);
    const text = await (await fetch(`${ex.url}/metrics`, { headers: { authorization: "Bearer metrics-token-0123456789" } })).text();
    expect(text).toMatch(/exchange_http_request_duration_seconds_count\{method="POST",route="\/graphql",status="200"\} 1/);
    expect(text).toMatch(/exchange_graphql_operation_duration_seconds_count\{operation="WhoAmI",type="query",outcome="ok"\} 1/);
  });
});
