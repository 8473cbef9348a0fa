/**
 * One durable commit per run (issue #19): every run asks the store once to make what it wrote
 * durable against power loss (`DocumentStore.sync`, a group commit), and it does so after its
 * charge is posted and its log events are written, before its answer can be read. Concurrent
 * runs share flushes. On every store adapter, over real HTTP.
 */
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { availableAdapters, startTestExchange, type TestExchange } from "../support/exchange.ts";

const PASSWORD = "Correct-Horse-42";
const gid = (type: string, id: string) => Buffer.from(`${type}:${id}`).toString("base64");

const RUN = /* GraphQL */ `
  mutation ($input: RunQueryInput!) {
    runQuery(input: $input) {
      __typename
      ... on MutationRunQuerySuccess { data { queryId cached charged { amount } } }
      ... on DomainError { code message }
    }
  }`;

interface SeenAtSync {
  runId: string;
  state: string;
  holdState: string | null;
  logged: boolean;
  answerStored: boolean;
}

describe.each(availableAdapters())("one durable commit per run on %s", (adapter) => {
  let ex: TestExchange;
  let listingGid: string;
  let buyerToken: string;
  const seen: SeenAtSync[] = [];
  let syncCalls = 0;
  let otherSyncCalls = 0;

  beforeAll(async () => {
    ex = await startTestExchange(adapter);
    const s = ex.services;
    const owner = await s.accounts.createAccount("owner@durable.test", PASSWORD, ["OWNER"]);
    const buyer = await s.accounts.createAccount("buyer@durable.test", PASSWORD, ["BUYER"]);
    const admin = await s.accounts.createAccount("admin@durable.test", PASSWORD, ["ADMIN"]);
    buyerToken = (await s.accounts.createApiKey(buyer._id, "buyer")).secret;
    const lines = ["vehicle_id,district,fare"];
    for (let i = 0; i < 300; i++) lines.push(`车${i % 30},${["浦东新区", "黄浦区"][i % 2]},${(i * 13) % 400}`);
    const ds = await s.datasets.createDataset(owner._id, { name: "trips" });
    await s.datasets.uploadVersion(owner._id, ds._id, {
      source: Readable.from([Buffer.from(`${lines.join("\n")}\n`)]),
      format: "csv",
      filename: "trips.csv",
    });
    await s.policies.declare(owner._id, {
      datasetId: ds._id,
      privacyUnit: "vehicle_id",
      dimensions: [{ column: "district", keys: ["浦东新区", "黄浦区"] }],
      measures: [{ column: "fare", lo: 0, hi: 400 }],
      aggregates: ["COUNT_UNITS", "SUM"],
      epsilonPerQuery: 1,
      buyerEpsilonBudget: 100,
      datasetEpsilonBudget: 100,
    });
    const listing = await s.catalog.createListing(owner._id, {
      datasetId: ds._id,
      title: { zh: "行程", en: "Trips" },
      description: { zh: "行程", en: "trips" },
      category: "TRANSPORT",
      licence: "CC BY 4.0",
      permittedUse: "test",
      pricePlan: { perQueryFee: 10, pricePerEpsilon: 0 },
      instantAccess: true,
    });
    await s.catalog.publish(owner._id, listing._id, false);
    listingGid = gid("Listing", listing._id);
    await s.access.request(buyer._id, { listingId: listing._id, purpose: "durability test" });
    await s.billing.grantCredit(admin._id, buyer._id, { amount: 10_000, idempotencyKey: "grant" });

    // Watch the store's group commit: what does the world look like each time a run asks for it?
    const store = s.store;
    const runs = await store.collection<{ state: string; holdId: string | null }>("runs");
    const holds = await store.collection<{ state: string }>("billing_holds");
    const entries = await store.collection<{ eventId: string }>("audit_entries");
    const intents = await store.collection<object>("audit_intents");
    const answers = await store.collection<{ queryId?: string }>("privacy_answers");
    const sync = store.sync.bind(store);
    store.sync = async () => {
      // The audit log also flushes before it signs a checkpoint (in the background): count the run path's.
      if (!/run-path\.ts/.test(new Error().stack ?? "")) {
        otherSyncCalls += 1;
        return sync();
      }
      syncCalls += 1;
      for (const run of (await runs.find({ state: { $in: ["staged", "released"] } })).items) {
        if (seen.some((x) => x.runId === run._id)) continue;
        const eventId = `query.executed:${run._id}`;
        seen.push({
          runId: run._id,
          state: run.state,
          holdState: run.holdId ? ((await holds.get(run.holdId))?.state ?? null) : null,
          logged: (await entries.findOne({ eventId })) !== null || (await intents.get(eventId)) !== null,
          answerStored: (await answers.findOne({ queryId: run._id })) !== null,
        });
      }
      return sync();
    };
  });

  afterAll(async () => {
    await ex?.stop();
  });

  const run = (epsilon: string) =>
    ex.gql(
      RUN,
      { input: { query: { listingId: listingGid, groupBy: ["district"], aggregates: [{ kind: "SUM", column: "fare" }], epsilon } } },
      buyerToken,
    );

  it("a run flushes once, after its charge is posted and its events logged, before its answer is stored", async () => {
    const before = syncCalls;
    const r = await run("0.5");
    const data = r.body.data?.runQuery.data;
    expect(data, JSON.stringify(r.body)).toMatchObject({ cached: false, charged: { amount: 10 } });
    expect(syncCalls - before).toBe(1);
    expect(seen.find((x) => x.runId === data.queryId)).toEqual({
      runId: data.queryId,
      state: "staged",
      holdState: "posted",
      logged: true,
      answerStored: false,
    });
  });

  it("an answer from the cache costs no flush", async () => {
    const before = syncCalls;
    const r = await run("0.5");
    expect(r.body.data?.runQuery.data.cached).toBe(true);
    expect(syncCalls).toBe(before);
  });

  it("concurrent runs each ask for their flush and share them (group commit)", async () => {
    const flushesBefore = ex.services.store.flushes;
    const [runCallsBefore, otherCallsBefore] = [syncCalls, otherSyncCalls];
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => run((0.1 + i * 0.01).toFixed(2))));
    for (const r of results) expect(r.body.data?.runQuery.data, JSON.stringify(r.body)).toMatchObject({ cached: false, charged: { amount: 10 } });
    const flushes = ex.services.store.flushes - flushesBefore;
    expect(syncCalls - runCallsBefore).toBe(8);
    // Never more flushes than callers (the audit log's checkpoints ask too); usually fewer.
    expect(flushes).toBeGreaterThanOrEqual(1);
    expect(flushes).toBeLessThanOrEqual(8 + otherSyncCalls - otherCallsBefore);
  });
});
