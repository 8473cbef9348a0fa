/**
 * Quote and run aggregate queries over real HTTP, on every store adapter: a real upload, a real
 * policy and listing, real credit, the real sandbox. The answer is noised, priced, charged once,
 * budgeted, cached for an identical query, and audited without its values.
 */
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { availableAdapters, startTestExchange, type TestExchange } from "../support/exchange.ts";

const PASSWORD = "Correct-Horse-42";
const DISTRICTS = ["浦东新区", "黄浦区", "徐汇区"];
const gid = (type: string, id: string) => Buffer.from(`${type}:${id}`).toString("base64");

const QUERY = {
  filters: [{ column: "hour", gte: 7, lt: 10 }],
  groupBy: ["district"],
  aggregates: [{ kind: "COUNT_UNITS" }, { kind: "SUM", column: "fare" }, { kind: "AVG", column: "fare" }],
  epsilon: "0.5",
};

const QUOTE = /* GraphQL */ `
  query ($input: QueryInput!) {
    quoteQuery(input: $input) {
      __typename
      ... on QueryQuoteQuerySuccess { data { rowsPriced releaseAfterMs suppressBelowUnits epsilon delta groupThreshold { tau } cached buyerEpsilonRemaining price { amount currency } statistics { kind column epsilon expectedStdDev } } }
      ... on PolicyViolation { rule path message }
      ... on DomainError { code message }
    }
  }`;

const RUN = /* GraphQL */ `
  mutation ($input: RunQueryInput!) {
    runQuery(input: $input) {
      __typename
      ... on MutationRunQuerySuccess { data { queryId cached charged { amount currency } groups { suppressed key { column value } values { kind value } } } }
      ... on PolicyViolation { rule path message }
      ... on DomainError { code message }
    }
  }`;

describe.each(availableAdapters())("queries over HTTP on %s", (adapter) => {
  let ex: TestExchange;
  let listingGid: string;
  let datasetId: string;
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};

  async function account(name: string, roles: Array<"OWNER" | "BUYER" | "ADMIN">) {
    const a = await ex.services.accounts.createAccount(`${name}@query.test`, PASSWORD, roles);
    ids[name] = a._id;
    tokens[name] = (await ex.services.accounts.createApiKey(a._id, name)).secret;
  }

  beforeAll(async () => {
    ex = await startTestExchange(adapter);
    await account("owner", ["OWNER"]);
    await account("buyer", ["BUYER"]);
    await account("stranger", ["BUYER"]);
    await account("broke", ["BUYER"]);
    await account("admin", ["ADMIN"]);
    // 40 vehicles, 400 trips; fares up to 900 (the policy clamps at 500).
    const lines = ["vehicle_id,district,hour,fare"];
    for (let i = 0; i < 400; i++) lines.push(`车${i % 40},${DISTRICTS[i % 3]},${i % 24},${((i * 37) % 900) + 0.5}`);
    const ds = await ex.services.datasets.createDataset(ids.owner!, { name: "taxi trips" });
    datasetId = ds._id;
    await ex.services.datasets.uploadVersion(ids.owner!, ds._id, {
      source: Readable.from([Buffer.from(lines.join("\n") + "\n")]),
      format: "csv",
      filename: "trips.csv",
    });
    await ex.services.policies.declare(ids.owner!, {
      datasetId,
      privacyUnit: "vehicle_id",
      dimensions: [
        { column: "district", keys: DISTRICTS },
        { column: "hour", edges: [0, 7, 10, 24] },
      ],
      measures: [{ column: "fare", lo: 0, hi: 500 }],
      aggregates: ["COUNT_UNITS", "COUNT_ROWS", "SUM", "AVG"],
      epsilonPerQuery: 0.5,
      buyerEpsilonBudget: 1,
      datasetEpsilonBudget: 5,
    });
    const listing = await ex.services.catalog.createListing(ids.owner!, {
      datasetId,
      title: { zh: "出租车行程", en: "Taxi trips" },
      description: { zh: "上海出租车", en: "Shanghai taxis" },
      category: "TRANSPORT",
      licence: "CC BY-NC 4.0",
      permittedUse: "研究",
      pricePlan: { perQueryFee: 100, pricePerEpsilon: 1000 },
      instantAccess: true,
    });
    await ex.services.catalog.publish(ids.owner!, listing._id, false);
    listingGid = gid("Listing", listing._id);
    for (const b of ["buyer", "broke"]) await ex.services.access.request(ids[b]!, { listingId: listing._id, purpose: "交通研究 traffic research" });
    await ex.services.billing.grantCredit(ids.admin!, ids.buyer!, { amount: 10_000, idempotencyKey: "grant-buyer" });
  });

  afterAll(async () => {
    await ex?.stop();
  });

  it("quotes rows, ε per statistic, expected noise and price before anything runs", async () => {
    const q = await ex.gql(QUOTE, { input: { listingId: listingGid, ...QUERY } }, tokens.buyer);
    const data = q.body.data?.quoteQuery.data;
    expect(data, JSON.stringify(q.body)).toBeDefined();
    // No size declared: no rows priced; the release moment uses the operator's assumed size.
    expect(data).toMatchObject({ rowsPriced: 0, epsilon: 0.5, cached: false, buyerEpsilonRemaining: 1, suppressBelowUnits: 10 });
    expect(data.releaseAfterMs).toBeGreaterThan(0);
    // Public keys only: pure ε-DP, no release threshold.
    expect(data).toMatchObject({ delta: 0, groupThreshold: null });
    expect(data.statistics.map((s: { kind: string }) => s.kind)).toEqual(["COUNT_UNITS", "SUM", "AVG", "AVG:COUNT"]);
    expect(data.statistics.every((s: { epsilon: number; expectedStdDev: number }) => s.epsilon === 0.125 && s.expectedStdDev > 0)).toBe(true);
    expect(data.price).toEqual({ amount: 100 + 500, currency: "cny" });
  });

  it("runs the query: every public key, noised, charged the quoted price, ε spent, audited without values", async () => {
    const r = await ex.gql(RUN, { input: { query: { listingId: listingGid, ...QUERY }, idempotencyKey: "first" } }, tokens.buyer);
    const data = r.body.data?.runQuery.data;
    expect(data, JSON.stringify(r.body)).toBeDefined();
    expect(data.cached).toBe(false);
    expect(data.charged).toEqual({ amount: 600, currency: "cny" });
    expect(data.groups.map((g: { key: Array<{ value: string }> }) => g.key[0]!.value)).toEqual(DISTRICTS);
    for (const g of data.groups) {
      const units = g.values.find((v: { kind: string }) => v.kind === "COUNT_UNITS").value;
      // k applies on the noisy count: a group below it keeps its key and shows no values.
      if (g.suppressed) expect(g.values.every((v: { value: unknown }) => v.value === null)).toBe(true);
      else expect(Number.isInteger(units) && units >= 10).toBe(true);
    }
    expect((await ex.services.billing.credit(ids.buyer!)).available).toBe(10_000 - 600);
    const budget = await ex.services.privacyBudget.remaining({ buyerId: ids.buyer!, datasetId }, null);
    expect(budget.buyer.spentMicro).toBe(500_000);
    const events = await ex.services.audit.findEntries({ action: "query.executed" }, 10);
    expect(events.items).toHaveLength(1);
    const entry = events.items[0]!.entry;
    expect(entry).toContain("resultDigest");
    expect(entry).not.toContain("车"); // no unit ids, no raw values
  });

  it("answers an identical query from cache: same numbers, no ε, no charge", async () => {
    const first = await ex.gql(RUN, { input: { query: { listingId: listingGid, ...QUERY } } }, tokens.buyer);
    const again = first.body.data.runQuery.data;
    expect(again.cached).toBe(true);
    expect(again.charged).toBeNull();
    const budget = await ex.services.privacyBudget.remaining({ buyerId: ids.buyer!, datasetId }, null);
    expect(budget.buyer.spentMicro).toBe(500_000);
    expect((await ex.services.billing.credit(ids.buyer!)).available).toBe(10_000 - 600);
  });

  it("refuses with the rule: no entitlement, column not allowed, budget too small, no credit — and changes nothing", async () => {
    const stranger = await ex.gql(RUN, { input: { query: { listingId: listingGid, ...QUERY } } }, tokens.stranger);
    expect(stranger.body.data.runQuery).toMatchObject({ __typename: "PolicyViolation", rule: "NO_ENTITLEMENT" });
    const badColumn = await ex.gql(QUOTE, { input: { listingId: listingGid, ...QUERY, groupBy: ["vehicle_id"] } }, tokens.buyer);
    expect(badColumn.body.data.quoteQuery).toMatchObject({ rule: "COLUMN_NOT_ALLOWED", path: "input.groupBy[0]" });
    const broke = await ex.gql(RUN, { input: { query: { listingId: listingGid, ...QUERY } } }, tokens.broke);
    expect(broke.body.data.runQuery.__typename).toBe("InsufficientCredit");
    const brokeBudget = await ex.services.privacyBudget.remaining({ buyerId: ids.broke!, datasetId }, null);
    expect(brokeBudget.buyer.spentMicro).toBe(0);
    // The buyer's cap is 1: one more 0.5 query fits, the next does not.
    const second = await ex.gql(RUN, { input: { query: { listingId: listingGid, ...QUERY, epsilon: "0.5", groupBy: [] } } }, tokens.buyer);
    expect(second.body.data.runQuery.__typename, JSON.stringify(second.body)).toBe("MutationRunQuerySuccess");
    const third = await ex.gql(RUN, { input: { query: { listingId: listingGid, ...QUERY, epsilon: "0.25", groupBy: [] } } }, tokens.buyer);
    expect(third.body.data.runQuery).toMatchObject({ rule: "BUDGET_TOO_SMALL" });
    expect((await ex.services.billing.credit(ids.buyer!)).available).toBe(10_000 - 1200);
  });
});
