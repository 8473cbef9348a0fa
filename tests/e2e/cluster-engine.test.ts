/**
 * The cluster engine through the whole service: with SPARK_CONNECT_URL set, a buyer's quote and
 * run over a listing whose declared size reaches CLUSTER_MIN_ROWS is computed by Spark (over the
 * version's Parquet copy), released on the cluster's slot, charged and logged like any run; a
 * listing below the threshold stays on the in-process kernel. When the engine cannot be reached,
 * the run fails without a charge or an answer, with a message that names no data (that part
 * needs no Spark). The rest needs SPARK_CONNECT_URL (bash .ci/run starts Spark Connect).
 */
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { SparkConnectClient } from "../../spark-connect/index.ts";
import { copyPath } from "../../src/runs/cluster/parquet-copy.ts";
import { startTestExchange, type TestExchange } from "../support/exchange.ts";

const URL = process.env.SPARK_CONNECT_URL;
if (!URL) console.warn("\n!!! SKIPPING the cluster engine's end-to-end test: SPARK_CONNECT_URL is not set.\n");

const PASSWORD = "Correct-Horse-42";
const gid = (type: string, id: string) => Buffer.from(`${type}:${id}`).toString("base64");
// The run is stopped at 4× the slot: room for a loaded 2-core CI machine running other suites.
const CLUSTER_SLOT_MS = 6_000;

/** 80 riders, 1–30 rides each, in three districts (declared as "up to 10 000 rows" or exactly). */
function rows(): string[] {
  const lines: string[] = [];
  for (let u = 0; u < 80; u++)
    for (let r = 0; r < 1 + ((u * 7) % 30); r++) lines.push(`p${u},${"ABC"[(u + r) % 3]},${(u + r) % 24},${5 + ((u * 13 + r) % 60)}`);
  return lines;
}

const RUN = /* GraphQL */ `
  mutation ($input: RunQueryInput!) {
    runQuery(input: $input) {
      __typename
      ... on MutationRunQuerySuccess {
        data { queryId charged { amount currency } quote { rowsPriced releaseAfterMs }
               groups { suppressed key { column value } values { kind value } } }
      }
      ... on DomainError { code message }
    }
  }`;

interface Setup {
  ex: TestExchange;
  ids: Record<string, string>;
  tokens: Record<string, string>;
  listings: Record<"big" | "small", string>;
}

/** An exchange with an owner, a buyer with credit, and the same rides published at two declared sizes. */
async function setUp(sparkUrl: string, slotMs: number): Promise<Setup> {
  const ids: Record<string, string> = {};
  const tokens: Record<string, string> = {};
  const listings: Record<"big" | "small", string> = { big: "", small: "" };
  const rideRows = rows();
  const ex = await startTestExchange("sqlite", {
    SPARK_CONNECT_URL: sparkUrl,
    CLUSTER_MIN_ROWS: "5000",
    CLUSTER_RELEASE_BASE_MS: String(slotMs),
    CLUSTER_RELEASE_MS_PER_1000_ROWS: "0",
  });
  for (const [name, roles] of [
    ["owner", ["OWNER"]],
    ["buyer", ["BUYER"]],
    ["admin", ["ADMIN"]],
  ] as const) {
    const a = await ex.services.accounts.createAccount(`${name}@cluster.test`, PASSWORD, [...roles]);
    ids[name] = a._id;
    tokens[name] = (await ex.services.accounts.createApiKey(a._id, name)).secret;
  }
  await ex.services.billing.grantCredit(ids.admin!, ids.buyer!, { amount: 1_000_000, idempotencyKey: "grant-cluster" });
  // The same rows, declared at two public sizes: one at the cluster threshold, one below it.
  for (const [which, size] of [
    ["big", { bucket: "UP_TO_10K" }],
    ["small", { exactRows: rideRows.length }],
  ] as const) {
    const ds = await ex.services.datasets.createDataset(ids.owner!, { name: `rides ${which}` });
    await ex.services.datasets.uploadVersion(ids.owner!, ds._id, {
      source: Readable.from([Buffer.from(["person,district,hour,fare", ...rideRows].join("\n") + "\n")]),
      format: "csv",
      filename: "rides.csv",
    });
    const declared = await ex.gql(
      /* GraphQL */ `mutation ($input: DeclarePrivacyPolicyInput!) { declarePrivacyPolicy(input: $input) { __typename ... on InvalidInput { issues { path message } } } }`,
      {
        input: {
          datasetId: gid("Dataset", ds._id),
          privacyUnit: "person",
          dimensions: [
            { column: "district", keys: ["A", "B", "C"] },
            { column: "hour", edges: [0, 12, 24] },
          ],
          measures: [{ column: "fare", lo: 0, hi: 50 }],
          aggregates: ["COUNT_UNITS", "COUNT_ROWS", "SUM"],
          minGroupSize: 2,
          epsilonPerQuery: 1,
          buyerEpsilonBudget: 50,
          datasetEpsilonBudget: 100,
          maxRowsPerUnit: 5,
          publicFacts: { size },
        },
      },
      tokens.owner,
    );
    expect(declared.body.data.declarePrivacyPolicy.__typename, JSON.stringify(declared.body)).toBe("MutationDeclarePrivacyPolicySuccess");
    const listing = await ex.services.catalog.createListing(ids.owner!, {
      datasetId: ds._id,
      title: { zh: "出行", en: `Rides ${which}` },
      description: { zh: "出行记录", en: "Rides" },
      category: "TRANSPORT",
      licence: "CC BY 4.0",
      permittedUse: "research",
      pricePlan: { perQueryFee: 10, pricePerEpsilon: 100, pricePerMillionRows: 0 },
      instantAccess: true,
    });
    await ex.services.catalog.publish(ids.owner!, listing._id, false);
    await ex.services.access.request(ids.buyer!, { listingId: listing._id, purpose: "cluster test" });
    listings[which] = listing._id;
  }
  return { ex, ids, tokens, listings };
}

const input = (listingId: string, key: string) => ({
  idempotencyKey: key,
  query: {
    listingId: gid("Listing", listingId),
    groupBy: ["district"],
    aggregates: [{ kind: "COUNT_UNITS" }, { kind: "COUNT_ROWS" }, { kind: "SUM", column: "fare" }],
  },
});

for (const url of URL ? [URL] : []) {
  describe("queries on the cluster engine (Spark), end to end on sqlite", () => {
    let s: Setup;
    const rideRows = rows();
    beforeAll(async () => {
      // A fresh Spark compiles its first window plan slowly (seconds on 2 cores): warm it first,
      // as an operator's first query would, so the run below measures the service, not the JVM.
      const warm = new SparkConnectClient(url);
      await warm.sql("SELECT sum(r) FROM (SELECT row_number() OVER (PARTITION BY id % 13 ORDER BY hash(id)) AS r FROM range(100000)) WHERE r < 5");
      await warm.close();
      s = await setUp(url, CLUSTER_SLOT_MS);
    }, 120_000);
    afterAll(async () => {
      await s?.ex.stop();
    });

    async function engineRuns(): Promise<Record<string, number>> {
      const text = await (await fetch(`${s.ex.url}/metrics`)).text();
      const out: Record<string, number> = {};
      for (const m of text.matchAll(/^exchange_query_engine_runs_total\{engine="(\w+)"\} (\d+)/gm)) out[m[1]!] = Number(m[2]);
      return out;
    }

    it("writes the cluster's copy of a listing's version when it is published, before any run", async () => {
      const dir = s.ex.config.cluster!.dataDir;
      const big = (await s.ex.services.catalog.queryable(s.listings.big)).version;
      const small = (await s.ex.services.catalog.queryable(s.listings.small)).version;
      await vi.waitFor(() => expect(existsSync(copyPath(dir, big._id))).toBe(true), { timeout: 60_000, interval: 100 });
      expect(existsSync(copyPath(dir, small._id))).toBe(false); // below the threshold: the kernel's, no copy
      expect((await engineRuns())["cluster"] ?? 0).toBe(0);
    });

    it("runs a listing at the threshold on Spark: answered on the cluster's slot, charged and logged", async () => {
      const started = performance.now();
      const res = await s.ex.gql(RUN, { input: input(s.listings.big, "cluster-1") }, s.tokens.buyer);
      const elapsed = performance.now() - started;
      const run = res.body.data?.runQuery;
      expect(run.__typename, JSON.stringify(res.body)).toBe("MutationRunQuerySuccess");
      expect(run.data.quote).toEqual({ rowsPriced: 10_000, releaseAfterMs: CLUSTER_SLOT_MS });
      expect(run.data.groups.map((g: any) => g.key[0].value).sort()).toEqual(["A", "B", "C"]);
      expect(run.data.charged.amount).toBeGreaterThan(0);
      expect(elapsed).toBeGreaterThanOrEqual(CLUSTER_SLOT_MS - 5); // never before its public moment
      expect((await engineRuns())["cluster"]).toBe(1);
      const executed = await s.ex.services.audit.findEntries({ action: "query.executed" }, 10);
      const settled = await s.ex.services.audit.findEntries({ action: "trade.settled" }, 10);
      expect(executed.items).toHaveLength(1);
      expect(settled.items).toHaveLength(1);
      expect(rideRows.length).toBeLessThan(10_000);
    });

    it("keeps a listing below the threshold on the in-process kernel", async () => {
      const res = await s.ex.gql(RUN, { input: input(s.listings.small, "kernel-1") }, s.tokens.buyer);
      expect(res.body.data.runQuery.__typename, JSON.stringify(res.body)).toBe("MutationRunQuerySuccess");
      expect(res.body.data.runQuery.data.quote.releaseAfterMs).toBeLessThan(CLUSTER_SLOT_MS);
      expect(await engineRuns()).toMatchObject({ cluster: 1, kernel: 1 });
    });
  });
}

describe("queries on an unreachable cluster engine", () => {
  let s: Setup;
  beforeAll(async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", () => r()));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    s = await setUp(`sc://127.0.0.1:${port}`, 300); // a failed run still leaves at its (fallback) moment
  });
  afterAll(async () => {
    await s?.ex.stop();
  });

  it("refuses the run with ENGINE_UNAVAILABLE, charges nothing and releases no answer", async () => {
    const before = await s.ex.services.billing.credit(s.ids.buyer!);
    const res = await s.ex.gql(RUN, { input: input(s.listings.big, "down-1") }, s.tokens.buyer);
    expect(res.body.data.runQuery).toMatchObject({ __typename: "EngineUnavailable", code: "ENGINE_UNAVAILABLE" });
    expect(res.body.data.runQuery.message).not.toMatch(/127\.0\.0\.1|sc:\/\//);
    expect((await s.ex.services.billing.credit(s.ids.buyer!)).available).toBe(before.available);
    expect((await s.ex.services.audit.findEntries({ action: "query.executed" }, 10)).items).toHaveLength(0);
    // The kernel listing still answers.
    const ok = await s.ex.gql(RUN, { input: input(s.listings.small, "up-1") }, s.tokens.buyer);
    expect(ok.body.data.runQuery.__typename).toBe("MutationRunQuerySuccess");
  });
});
