/**
 * Inputs a careless client sends are refused with the rule in the message, before anything
 * changes: a malformed paging cursor, an unknown currency code, text holding NUL or an unpaired
 * surrogate (in variables or in the document), and an empty or overlong idempotency key.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestExchange, type TestExchange } from "../support/exchange.ts";

let ex: TestExchange;
let key: string;
beforeAll(async () => {
  ex = await startTestExchange("sqlite");
  const buyer = await ex.services.accounts.createAccount("careless@input.test", "Correct-Horse-42-battery", ["BUYER", "OWNER"]);
  key = (await ex.services.accounts.createApiKey(buyer._id, "k")).secret;
});
afterAll(async () => {
  await ex?.stop();
});

const code = (body: any) => body.errors?.[0]?.extensions?.code;

describe("careless input", () => {
  it("refuses a malformed cursor with BAD_USER_INPUT, not an internal error", async () => {
    const r = await ex.gql(`{ queryHolds(first: 5, after: "not-a-cursor!!") { edges { cursor } } }`, {}, key);
    expect(code(r.body)).toBe("BAD_USER_INPUT");
    expect(r.body.errors[0].message).toMatch(/after: is not a cursor/);
    const junk = await ex.gql(`{ queryHolds(first: 5, after: "${Buffer.from("{}").toString("base64url")}") { edges { cursor } } }`, {}, key);
    expect(code(junk.body)).toBe("BAD_USER_INPUT");
  });

  it("refuses an unknown currency code and accepts a real one in any case", async () => {
    const bad = await ex.gql(`{ credit(currency: "xyz") { balance } }`, {}, key);
    expect(code(bad.body)).toBe("BAD_USER_INPUT");
    expect(bad.body.errors[0].message).toMatch(/not an ISO 4217 currency code/);
    const ok = await ex.gql(`{ credit(currency: "USD") { currency balance } }`, {}, key);
    expect(ok.body.data.credit).toEqual({ currency: "usd", balance: 0 });
  });

  it("refuses text with NUL or an unpaired surrogate, in variables and in the document, and creates nothing", async () => {
    const create = `mutation ($n: String!) { createDataset(input: { name: $n }) { __typename } }`;
    for (const n of ["bad\u0000name", "bad\ud800name"]) {
      const r = await ex.gql(create, { n }, key);
      expect(code(r.body)).toBe("BAD_USER_INPUT");
      expect(r.body.errors[0].message).toMatch(/variables\.n: text may not contain NUL characters or unpaired UTF-16 surrogates/);
    }
    const literal = await ex.gql(`mutation { createDataset(input: { name: "bad\\u0000name" }) { __typename } }`, {}, key);
    expect(code(literal.body)).toBe("BAD_USER_INPUT");
    const mine = await ex.gql(`{ datasets(first: 10) { edges { node { name } } } }`, {}, key);
    expect(mine.body.errors).toBeUndefined();
    expect(mine.body.data.datasets.edges).toEqual([]);
  });

  it("refuses an empty, overlong or control-character idempotency key with INVALID_INPUT", async () => {
    const listing = Buffer.from("Listing:lst_x").toString("base64");
    const run = `mutation ($k: String) { runQuery(input: { query: { listingId: "${listing}", aggregates: [{ kind: COUNT_UNITS }] }, idempotencyKey: $k }) { __typename ... on InvalidInput { issues { path message } } ... on DomainError { code } } }`;
    for (const k of ["", "x".repeat(256), "a\u0001b"]) {
      const r = await ex.gql(run, { k }, key);
      expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
      expect(r.body.data.runQuery.__typename, JSON.stringify(r.body)).toBe("InvalidInput");
      expect(r.body.data.runQuery.issues[0].path).toBe("input.idempotencyKey");
    }
  });
});
