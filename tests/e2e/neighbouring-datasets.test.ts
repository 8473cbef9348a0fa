/**
 * The guard of the privacy surface: two datasets that differ in ONE privacy unit — a heavy unit
 * with thousands of rows, odd values (floats in a column that is otherwise whole numbers, an
 * empty value) — published with the same policy, the same declared facts and the same price plan.
 * For every operation a buyer or an anonymous caller can make (catalog and listing reads, quotes,
 * runs, receipts, refusals), everything outside the DP outputs must be byte-identical, and runs
 * must leave in the same public release slot. A new buyer-visible field that depends on the rows
 * fails here.
 *
 * Also here: a policy change never serves an answer computed under the old policy.
 */
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { availableAdapters, startTestExchange, type TestExchange } from "../support/exchange.ts";

const PASSWORD = "Correct-Horse-42";
const gid = (type: string, id: string) => Buffer.from(`${type}:${id}`).toString("base64");
const SLOT_MS = 1_000; // long enough that a cold sandbox on a loaded CI machine still answers inside it

/** Base rows: 60 units × 3 rows, whole-number fares, no empty value. */
function baseRows(): string[] {
  const lines: string[] = [];
  for (let u = 0; u < 60; u++) {
    for (let r = 0; r < 3; r++) lines.push(`p${u},${"ABC"[u % 3]},${(u + r) % 24},${10 + ((u * 7 + r) % 50)},note ${u}`);
  }
  return lines;
}

/** The neighbour's extra unit: 2 000 rows, fractional and huge fares, one empty note. */
function heavyUnit(): string[] {
  return Array.from({ length: 2_000 }, (_, r) => `heavy,A,${r % 24},${r % 2 === 0 ? 1e6 + 0.5 : 12.25},${r === 0 ? "" : "x"}`);
}

const POLICY = {
  privacyUnit: "person",
  dimensions: [
    { column: "district", keys: ["A", "B", "C"] },
    { column: "hour", edges: [0, 6, 12, 18, 24] },
  ],
  measures: [{ column: "fare", lo: 0, hi: 100 }],
  aggregates: ["COUNT_UNITS", "COUNT_ROWS", "SUM", "AVG"],
  minGroupSize: 5,
  epsilonPerQuery: 1,
  buyerEpsilonBudget: 20,
  datasetEpsilonBudget: 50,
  maxRowsPerUnit: 10,
  // The owner declares what buyers may see: not the fare's type (it differs between the two).
  publicFacts: {
    columns: [
      { name: "person", type: "STRING", nullable: false, description: "rider" },
      { name: "district", type: "STRING", nullable: false, description: "区" },
      { name: "hour", type: "INT", nullable: false, description: "hour of day" },
    ],
    size: { bucket: "UP_TO_10K" },
  },
};

const LISTING = /* GraphQL */ `
  query ($id: ID!) {
    listing(id: $id) {
      __typename
      ... on QueryListingSuccess {
        data {
          id status title { zh en } tags category licence permittedUse indicativeQueryPrice free instantAccess datasetVersion
          pricePlan { currency perQueryFee pricePerEpsilon pricePerMillionRows }
          columns { name type nullable description role }
          publicSize { exactRows bucket minRows maxRows }
          sampleRows { synthetic cells { column value } }
          policy { version privacyUnit minGroupSize maxRowsPerUnit epsilonPerQuery measures { column lo hi } dimensions { column kind keys edges }
                   publicFacts { columns { name type nullable description } size { bucket maxRows } } }
        }
      }
    }
  }`;

const SEARCH = /* GraphQL */ `
  query {
    searchListings(first: 10, query: "neighbour") {
      edges { node { id title { en } indicativeQueryPrice publicSize { bucket maxRows } columns { name type nullable } } }
    }
  }`;

const QUOTE = /* GraphQL */ `
  query ($input: QueryInput!) {
    quoteQuery(input: $input) {
      __typename
      ... on QueryQuoteQuerySuccess {
        data { quoteId queryHash datasetVersion rowsPriced releaseAfterMs suppressBelowUnits epsilon cached delta
               statistics { kind aggregateIndex column epsilon expectedStdDev } price { amount currency }
               buyerEpsilonRemaining datasetEpsilonRemaining }
      }
      ... on PolicyViolation { rule path message }
      ... on DomainError { code message }
    }
  }`;

const RUN = /* GraphQL */ `
  mutation ($input: RunQueryInput!) {
    runQuery(input: $input) {
      __typename
      ... on MutationRunQuerySuccess {
        data { queryId cached delta charged { amount currency }
               quote { rowsPriced releaseAfterMs epsilon price { amount } }
               groups { suppressed key { column value } values { aggregateIndex kind column value interval { lo hi } } } }
      }
      ... on PolicyViolation { rule path message }
      ... on DomainError { code message }
    }
  }`;

const RECEIPTS = /* GraphQL */ `
  query { receipts(first: 50) { edges { node { id listingId quoteId currency quoted price epsilon rowsPriced } } } }`;

/** Fields that name an object (ids differ between the twins) and DP outputs (noise differs). */
const NAMES = new Set(["id", "quoteId", "queryHash", "queryId", "listingId", "datasetId"]);
const DP_OUTPUTS = new Set(["value", "interval", "suppressed"]);

/** Masks names and DP outputs; what remains must be identical between the twins. */
function publicPart(x: unknown, inDp = false): unknown {
  if (Array.isArray(x)) return x.map((v) => publicPart(v, inDp));
  if (x && typeof x === "object") {
    return Object.fromEntries(
      Object.entries(x).map(([k, v]) => {
        if (NAMES.has(k)) return [k, typeof v];
        // The caller's own rate-limit bucket refills with time between the twin calls (the cost itself is compared).
        if (k === "remaining" && typeof v === "number") return [k, "<time>"];
        // groups[].values and sampleRows[].cells are DP (or synthetic) outputs; their keys are public.
        if (inDp && DP_OUTPUTS.has(k)) return [k, "<dp>"];
        return [k, publicPart(v, inDp || k === "groups" || k === "cells")];
      }),
    );
  }
  return x;
}

describe.each(availableAdapters())("neighbouring datasets look the same to buyers on %s", (adapter) => {
  let ex: TestExchange;
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};
  const twins: Array<{ name: string; datasetId: string; listingId: string; listingGid: string }> = [];

  async function raw(query: string, variables: Record<string, unknown>, token?: string) {
    const started = performance.now();
    const res = await fetch(`${ex.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as any;
    const elapsed = performance.now() - started;
    // Headers a buyer sees, minus the date and the length (the noisy digits change it).
    const headers = [...res.headers.entries()].filter(([k]) => !["date", "content-length", "x-request-id"].includes(k)).sort();
    return { status: res.status, headers, body, elapsed };
  }

  /** Runs `op` against both twins; asserts the public parts are identical; returns both. */
  type Response = Awaited<ReturnType<typeof raw>>;
  async function same(op: (t: (typeof twins)[number]) => Promise<Response>) {
    const [a, b] = [await op(twins[0]!), await op(twins[1]!)];
    expect(a.status).toBe(b.status);
    expect(a.headers).toEqual(b.headers);
    expect(publicPart(a.body)).toEqual(publicPart(b.body));
    expect(JSON.stringify(publicPart(a.body))).toBe(JSON.stringify(publicPart(b.body)));
    return [a, b] as const;
  }

  beforeAll(async () => {
    ex = await startTestExchange(adapter, { QUERY_RELEASE_BASE_MS: String(SLOT_MS), QUERY_RELEASE_MS_PER_1000_ROWS: "0" });
    for (const [name, roles] of [
      ["owner", ["OWNER"]],
      ["buyer", ["BUYER"]],
      ["admin", ["ADMIN"]],
    ] as const) {
      const a = await ex.services.accounts.createAccount(`${name}@twins.test`, PASSWORD, [...roles]);
      ids[name] = a._id;
      tokens[name] = (await ex.services.accounts.createApiKey(a._id, name)).secret;
    }
    await ex.services.billing.grantCredit(ids.admin!, ids.buyer!, { amount: 1_000_000, idempotencyKey: "grant-twins" });
    for (const [name, rows] of [
      ["without", baseRows()],
      ["with heavy unit", [...baseRows(), ...heavyUnit()]],
    ] as const) {
      const ds = await ex.services.datasets.createDataset(ids.owner!, { name: `rides ${name}` });
      await ex.services.datasets.uploadVersion(ids.owner!, ds._id, {
        source: Readable.from([Buffer.from(["person,district,hour,fare,note", ...rows].join("\n") + "\n")]),
        format: "csv",
        filename: "rides.csv",
      });
      const declared = await ex.gql(
        /* GraphQL */ `mutation ($input: DeclarePrivacyPolicyInput!) { declarePrivacyPolicy(input: $input) { __typename ... on InvalidInput { issues { path message } } } }`,
        { input: { datasetId: gid("Dataset", ds._id), ...POLICY } },
        tokens.owner,
      );
      expect(declared.body.data.declarePrivacyPolicy.__typename, JSON.stringify(declared.body)).toBe("MutationDeclarePrivacyPolicySuccess");
      const listing = await ex.services.catalog.createListing(ids.owner!, {
        datasetId: ds._id,
        title: { zh: "出行", en: "Rides neighbour" },
        description: { zh: "出行记录", en: "Rides" },
        category: "TRANSPORT",
        licence: "CC BY 4.0",
        permittedUse: "research",
        pricePlan: { perQueryFee: 10, pricePerEpsilon: 100, pricePerMillionRows: 10_000 },
        instantAccess: true,
      });
      await ex.services.catalog.publish(ids.owner!, listing._id, false);
      await ex.services.access.request(ids.buyer!, { listingId: listing._id, purpose: "neighbouring-dataset test" });
      twins.push({ name, datasetId: ds._id, listingId: listing._id, listingGid: gid("Listing", listing._id) });
    }
    // The twins really differ in what an inferred schema or an exact count would show.
    const versions = await Promise.all(twins.map((t) => ex.services.datasets.getVersion(t.datasetId, 1)));
    expect(versions.map((v) => v!.rowCount)).toEqual([180, 2180]);
    expect(versions.map((v) => v!.schema.columns.find((c) => c.name === "fare")!.type)).toEqual(["int", "float"]);
    expect(versions.map((v) => v!.schema.columns.find((c) => c.name === "note")!.nullable)).toEqual([false, true]);
  });

  afterAll(async () => {
    await ex?.stop();
  });

  it("listing views, anonymous and signed in, show only declared facts", async () => {
    for (const token of [undefined, tokens.buyer]) {
      const [a] = await same((t) => raw(LISTING, { id: t.listingGid }, token));
      const view = a.body.data.listing.data;
      expect(view.publicSize).toEqual({ exactRows: null, bucket: "UP_TO_10K", minRows: 0, maxRows: 10_000 });
      expect(view.columns.find((c: { name: string }) => c.name === "fare")).toMatchObject({ type: null, nullable: null, role: "MEASURE" });
      expect(view.columns.find((c: { name: string }) => c.name === "hour")).toMatchObject({ type: "int", nullable: false });
      // 10 + 100 × 0.1 + 10 000 per million × the bucket's bound of 10 000.
      expect(view.indicativeQueryPrice).toBe(120);
    }
    const [s] = await same(() => raw(SEARCH, {}));
    expect(s.body.data.searchListings.edges).toHaveLength(2);
  });

  const grouped = {
    groupBy: ["district", "hour"],
    aggregates: [{ kind: "COUNT_ROWS" }, { kind: "SUM", column: "fare" }, { kind: "AVG", column: "fare" }],
  };
  const total = { aggregates: [{ kind: "COUNT_UNITS" }, { kind: "SUM", column: "fare" }] };

  it("quotes: the same price, ε, noise, rows priced and release moment", async () => {
    for (const q of [grouped, total]) {
      const [a] = await same((t) => raw(QUOTE, { input: { listingId: t.listingGid, ...q } }, tokens.buyer));
      const quote = a.body.data.quoteQuery.data;
      expect(quote).toMatchObject({ rowsPriced: 10_000, releaseAfterMs: SLOT_MS, suppressBelowUnits: 5 });
      // No COUNT_UNITS in `grouped`: k's suppression count is a statistic of its own.
      if (q === grouped) expect(quote.statistics.map((s: { kind: string }) => s.kind)).toContain("GROUP_SUPPRESSION");
    }
  });

  it("runs: the same charge, keys and shape, released in the same public slot; receipts alike", async () => {
    for (const q of [grouped, total]) {
      const [a, b] = await same((t) => raw(RUN, { input: { query: { listingId: t.listingGid, ...q } } }, tokens.buyer));
      const data = a.body.data.runQuery.data;
      expect(data.charged.amount).toBe(data.quote.price.amount);
      for (const r of [a, b]) {
        expect(r.elapsed).toBeGreaterThanOrEqual(SLOT_MS);
        // Within the slot, not the 4× fallback: the latency depends on the declared facts only.
        expect(r.elapsed).toBeLessThan(4 * SLOT_MS);
      }
    }
    const receipts = await raw(RECEIPTS, {}, tokens.buyer);
    const byListing = twins.map((t) =>
      receipts.body.data.receipts.edges
        .map((e: { node: Record<string, unknown> }) => e.node)
        .filter((n: { listingId: string }) => n.listingId === t.listingGid),
    );
    expect(byListing[0]).toHaveLength(2);
    expect(JSON.stringify(publicPart(byListing[0]))).toBe(JSON.stringify(publicPart(byListing[1])));
    expect(byListing[0]!.map((n: { rowsPriced: number }) => n.rowsPriced)).toEqual([10_000, 10_000]);
  });

  it("refusals: the same rule and message, before anything is spent", async () => {
    const before = await raw(QUOTE, { input: { listingId: twins[0]!.listingGid, ...total } }, tokens.buyer);
    for (const bad of [
      { groupBy: ["note"], aggregates: [{ kind: "COUNT_ROWS" }] },
      { groupBy: ["district"], aggregates: [{ kind: "SUM", column: "note" }] },
      { aggregates: [{ kind: "COUNT_ROWS" }], epsilon: "5" },
    ]) {
      const [a] = await same((t) => raw(RUN, { input: { query: { listingId: t.listingGid, ...bad } } }, tokens.buyer));
      expect(a.body.data.runQuery.__typename).toBe("PolicyViolation");
    }
    const after = await raw(QUOTE, { input: { listingId: twins[0]!.listingGid, ...total } }, tokens.buyer);
    expect(after.body.data.quoteQuery.data.buyerEpsilonRemaining).toBe(before.body.data.quoteQuery.data.buyerEpsilonRemaining);
  });

  it("a policy change never serves an answer computed under the old policy", async () => {
    const t = twins[0]!;
    const q = { listingId: t.listingGid, groupBy: ["district"], aggregates: [{ kind: "COUNT_ROWS" }] };
    const first = await ex.gql(RUN, { input: { query: q } }, tokens.buyer);
    const again = await ex.gql(RUN, { input: { query: q } }, tokens.buyer);
    expect(again.body.data.runQuery.data).toMatchObject({ cached: true, charged: null });
    expect(first.body.data.runQuery.data.cached).toBe(false);
    const changed = await ex.gql(
      /* GraphQL */ `mutation ($input: DeclarePrivacyPolicyInput!) { declarePrivacyPolicy(input: $input) { __typename } }`,
      { input: { datasetId: gid("Dataset", t.datasetId), ...POLICY, maxRowsPerUnit: 2 } },
      tokens.owner,
    );
    expect(changed.body.data.declarePrivacyPolicy.__typename).toBe("MutationDeclarePrivacyPolicySuccess");
    const quote = await ex.gql(QUOTE, { input: q }, tokens.buyer);
    expect(quote.body.data.quoteQuery.data.cached).toBe(false);
    const after = await ex.gql(RUN, { input: { query: q } }, tokens.buyer);
    expect(after.body.data.runQuery.data.cached).toBe(false);
    expect(after.body.data.runQuery.data.charged.amount).toBeGreaterThan(0);
  });
});
