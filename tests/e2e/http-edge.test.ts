/**
 * The HTTP edge: one error body `{ error: { code, message, requestId } }` on every non-GraphQL
 * route, 415 for a body of the wrong type, 413 for one too large, 405 for a wrong method, 404 for
 * an unknown route, and one 401 for a bad credential whichever route it reaches.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestExchange, type TestExchange } from "../support/exchange.ts";

let ex: TestExchange;
beforeAll(async () => {
  ex = await startTestExchange("sqlite");
});
afterAll(async () => {
  await ex?.stop();
});

async function call(path: string, init: RequestInit = {}) {
  const res = await fetch(`${ex.url}${path}`, init);
  const text = await res.text();
  let body: any = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body, headers: res.headers };
}

const oneShape = (code: string) => ({ error: { code, message: expect.any(String), requestId: expect.any(String) } });

describe("the HTTP edge", () => {
  it("refuses an XML body POSTed to /graphql with 415, naming the accepted types", async () => {
    const r = await call("/graphql", { method: "POST", headers: { "content-type": "application/xml" }, body: "<query>{ viewer { email } }</query>" });
    expect(r.status).toBe(415);
    expect(r.body).toEqual(oneShape("UNSUPPORTED_MEDIA_TYPE"));
    expect(r.body.error.message).toMatch(/application\/json/);
  });

  it("answers 405 with Allow for a wrong method, and 404 for an unknown route, in the one body", async () => {
    const del = await call("/graphql", { method: "DELETE" });
    expect(del.status).toBe(405);
    expect(del.body).toEqual(oneShape("METHOD_NOT_ALLOWED"));
    expect(del.headers.get("allow")).toMatch(/POST/);
    const missing = await call("/no/such/route");
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual(oneShape("NOT_FOUND"));
  });

  it("answers 413 for a witness cosignature body over its limit, and 415 for one that is not text", async () => {
    const big = await call("/audit/cosignatures", { method: "POST", headers: { "content-type": "text/plain" }, body: "x".repeat(70 * 1024) });
    expect(big.status).toBe(413);
    expect(big.body).toEqual(oneShape("PAYLOAD_TOO_LARGE"));
    const json = await call("/audit/cosignatures", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(json.status).toBe(415);
  });

  it("gives one 401 for a bad credential on GraphQL, exports and uploads, each in its route's shape", async () => {
    const auth = { authorization: "Bearer dxk_not_a_real_key_at_all_000000000000" };
    const gql = await call("/graphql", {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ query: "{ viewer { email } }" }),
    });
    expect(gql.status).toBe(401);
    expect(gql.body.errors[0].extensions.code).toBe("UNAUTHENTICATED");
    const exp = await call("/audit/export.ndjson", { headers: auth });
    expect(exp.status).toBe(401);
    expect(exp.body).toEqual(oneShape("UNAUTHENTICATED"));
    expect(exp.body.error.message).toBe(gql.body.errors[0].message);
    const up = await call("/datasets/ds_x/versions", { method: "PUT", headers: auth, body: "a,b\n1,2\n" });
    expect(up.status).toBe(401);
    expect(up.body).toEqual(oneShape("UNAUTHENTICATED"));
  });

  it("refuses an anonymous export with 401 and a buyer's with 403, in the one body", async () => {
    expect((await call("/audit/export.csv")).body).toEqual(oneShape("UNAUTHENTICATED"));
    const buyer = await ex.services.accounts.createAccount("edge-buyer@edge.test", "Correct-Horse-42-battery", ["BUYER"]);
    const key = (await ex.services.accounts.createApiKey(buyer._id, "k")).secret;
    const r = await call("/audit/export.csv", { headers: { authorization: `Bearer ${key}` } });
    expect(r.status).toBe(403);
    expect(r.body).toEqual(oneShape("NOT_AUTHORIZED"));
  });
});

describe("a tampered audit log", () => {
  it("makes /ready fail with the reason instead of serving on", async () => {
    const tampered = await startTestExchange("sqlite");
    try {
      for (let i = 0; i < 3; i++) await tampered.services.accounts.createAccount(`t${i}@edge.test`, "Correct-Horse-42-battery", ["BUYER"]);
      await tampered.services.audit.checkpoint();
      expect((await fetch(`${tampered.url}/ready`)).status).toBe(200);
      const entries = await tampered.services.store.collection("audit_entries", []);
      await entries.deleteMany({ seq: 1 });
      await tampered.services.audit.selfCheck();
      const r = await fetch(`${tampered.url}/ready`);
      expect(r.status).toBe(503);
      const body = (await r.json()) as { ready: boolean; error: { code: string; message: string } };
      expect(body.ready).toBe(false);
      expect(body.error.code).toBe("NOT_READY");
      expect(body.error.message).toMatch(/audit log integrity: audit entry 1 is missing/);
    } finally {
      await tampered.stop();
    }
  });
});
