import { parse } from "graphql";
import { describe, expect, it } from "vitest";
import { operationCost, DEFAULT_PAGE, LIST_FACTOR, MUTATION_WORK } from "../../src/graphql/cost.ts";
import { buildSchema } from "../../src/server/schema.ts";
import { LeakyBuckets } from "../../src/graphql/rate-limit.ts";
import { loadConfig } from "../../src/config.ts";

const schema = buildSchema();
const cost = (q: string, vars: Record<string, unknown> = {}) => operationCost(schema, parse(q), undefined, vars);

describe("operationCost", () => {
  it("charges one per field, nothing for __typename", () => {
    expect(cost("{ viewer { email roles __typename } }")).toBe(3);
  });

  it("multiplies a connection's selection by first (literal or variable), not again for its edges", () => {
    const q = "query ($n: Int) { accounts(first: $n) { edges { node { email } } } }";
    // accounts 1 + n × (edges 1 + node 1 + email 1)
    expect(cost(q, { n: 50 })).toBe(1 + 50 * 3);
    expect(cost(q, {})).toBe(1 + DEFAULT_PAGE * 3);
    expect(cost("{ accounts(first: 2) { edges { node { email } } } }")).toBe(1 + 2 * 3);
  });

  it("multiplies plain lists by the list factor and expands fragments", () => {
    const q = "fragment K on ApiKey { name prefix } { viewer { apiKeys { ...K } } }";
    expect(cost(q)).toBe(1 + (1 + LIST_FACTOR * 2));
  });

  it("charges a mutation its work once and does not multiply the lists in its payload", () => {
    const q = `mutation ($input: RunQueryInput!) { runQuery(input: $input) { __typename ... on MutationRunQuerySuccess { data { cached groups { key { value } values { value } } } } ... on DomainError { code message } } }`;
    // runQuery MUTATION_WORK + data, cached, groups, key, value, values, value, code, message (1 each)
    expect(cost(q)).toBe(MUTATION_WORK + 9);
  });

  it("lets a default key sustain 20 runQuery per second", () => {
    const q = `mutation ($input: RunQueryInput!) { runQuery(input: $input) { __typename ... on MutationRunQuerySuccess { data { cached groups { key { value } values { value } } } } ... on DomainError { code message } } }`;
    const defaults = loadConfig({ NODE_ENV: "test" } as NodeJS.ProcessEnv).rateLimit;
    expect(defaults.perSecond / cost(q)).toBeGreaterThanOrEqual(20);
  });
});

describe("LeakyBuckets", () => {
  it("admits up to capacity, refuses with a retry time, and drains over time", () => {
    let now = 0;
    const b = new LeakyBuckets({ capacity: 100, drainPerSecond: 10, now: () => now });
    expect(b.take("k", 60)).toMatchObject({ allowed: true, remaining: 40 });
    const refused = b.take("k", 60);
    expect(refused).toMatchObject({ allowed: false, remaining: 40 });
    expect(refused.retryAfterMs).toBe(2000);
    expect(b.take("other", 100).allowed).toBe(true);
    now = 2000;
    expect(b.take("k", 60)).toMatchObject({ allowed: true, remaining: 0 });
    expect(b.take("k", 1000)).toMatchObject({ allowed: false, retryAfterMs: Infinity });
  });
});
