/**
 * Issue #16: bounds suggested from the data under DP, through the real HTTP API on every store.
 * The owner spends ε on a contribution profile (suggestPolicyBounds): the dataset's budget shows
 * it, the audit log records it, the profile stays with the policy so the next quote states the bias
 * of bounding; a buyer cannot ask; a bad ε or a budget that cannot cover it changes nothing; a
 * policy declared against a new dataset version drops the profile (it describes one version).
 */
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { availableAdapters, startTestExchange, type TestExchange } from "../support/exchange.ts";

const PASSWORD = "Correct-Horse-42";
const DISTRICTS = ["浦东新区", "黄浦区", "徐汇区"];
const gid = (type: string, id: string) => Buffer.from(`${type}:${id}`).toString("base64");

const SUGGEST = /* GraphQL */ `
  mutation ($datasetId: ID!, $epsilon: Epsilon) {
    suggestPolicyBounds(datasetId: $datasetId, epsilon: $epsilon) {
      __typename
      ... on MutationSuggestPolicyBoundsSuccess {
        data {
          profileId datasetVersion epsilonSpent datasetEpsilonRemaining epsilonPerQuery note
          suggested { maxGroupsPerUnit maxRowsPerUnit measures { column lo hi } expectedRelError }
          current { maxGroupsPerUnit maxRowsPerUnit measures { column lo hi } expectedRelError }
          typicalQueries { groupBy kind column suggested { maxRowsPerUnit expectedRelBias expectedRelNoise } current { expectedRelBias expectedRelNoise } }
          tradeoffs { maxRowsPerUnit expectedRelError }
          policy { version contributionProfile { profileId datasetVersion epsilon reason } }
        }
      }
      ... on InvalidInput { issues { path message } }
      ... on BudgetExhausted { cap }
      ... on DomainError { code message }
    }
  }`;

const QUOTE = /* GraphQL */ `
  query ($input: QueryInput!) {
    quoteQuery(input: $input) {
      __typename
      ... on QueryQuoteQuerySuccess { data { expectedErrors { kind expectedRelBias expectedRelNoise relErrorInterval { lo hi } } } }
      ... on DomainError { code message }
    }
  }`;

const OWNER_BUDGET = /* GraphQL */ `
  query ($datasetId: ID!) {
    datasetPrivacyBudget(datasetId: $datasetId) {
      ... on QueryDatasetPrivacyBudgetSuccess { data { epsilonSpent epsilonRemaining } }
    }
  }`;

const OWNER_SPEND = /* GraphQL */ `
  query ($datasetId: ID!) {
    datasetPrivacyBudget(datasetId: $datasetId) {
      ... on QueryDatasetPrivacyBudgetSuccess { data { ownerEpsilonSpent buyers spentByBuyer(first: 5) { buyerId } } }
    }
  }`;

const POLICY = /* GraphQL */ `
  query ($datasetId: ID!) {
    privacyPolicy(datasetId: $datasetId) {
      ... on QueryPrivacyPolicySuccess { data { version maxRowsPerUnit contributionProfile { profileId datasetVersion } } }
    }
  }`;

/** 1500 vehicles: most with a few trips, every 10th with 40 (a heavy tail the default 1 × 100 bounds cut). */
function trips(): { csv: string; rows: number } {
  const lines = ["vehicle_id,district,hour,fare"];
  for (let v = 0; v < 1500; v++) {
    const n = v % 10 === 0 ? 40 : 1 + (v % 4);
    for (let j = 0; j < n; j++) lines.push(`车${v},${DISTRICTS[(v + j) % 3]},${(v * 7 + j) % 24},${((v * 37 + j * 11) % 300) + 0.5}`);
  }
  return { csv: `${lines.join("\n")}\n`, rows: lines.length - 1 };
}

describe.each(availableAdapters())("suggested policy bounds over HTTP on %s", (adapter) => {
  let ex: TestExchange;
  let datasetId: string;
  let listingGid: string;
  let rows: number;
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};
  const policyRules = () => ({
    datasetId,
    privacyUnit: "vehicle_id",
    dimensions: [
      { column: "district", keys: DISTRICTS },
      { column: "hour", edges: [0, 7, 10, 24] },
    ],
    measures: [{ column: "fare", lo: 0, hi: 1000 }],
    aggregates: ["COUNT_UNITS", "COUNT_ROWS", "SUM", "AVG"] as Array<"COUNT_UNITS" | "COUNT_ROWS" | "SUM" | "AVG">,
    epsilonPerQuery: 0.5,
    buyerEpsilonBudget: 1,
    datasetEpsilonBudget: 1.5,
    publicFacts: { columns: [], size: { exactRows: rows } },
  });

  async function account(name: string, roles: Array<"OWNER" | "BUYER" | "ADMIN">) {
    const a = await ex.services.accounts.createAccount(`${name}@profile.test`, PASSWORD, roles);
    ids[name] = a._id;
    tokens[name] = (await ex.services.accounts.createApiKey(a._id, name)).secret;
  }

  const quote = async () => {
    const input = {
      listingId: listingGid,
      groupBy: ["district"],
      aggregates: [{ kind: "COUNT_ROWS" }, { kind: "SUM", column: "fare" }],
      epsilon: "0.5",
    };
    const r = await ex.gql(QUOTE, { input }, tokens.buyer);
    const data = r.body.data?.quoteQuery.data;
    expect(data, JSON.stringify(r.body)).toBeDefined();
    return data.expectedErrors as Array<{ kind: string; expectedRelBias: number | null; relErrorInterval: { lo: number; hi: number } | null }>;
  };
  const spent = async () => (await ex.gql(OWNER_BUDGET, { datasetId: gid("Dataset", datasetId) }, tokens.owner)).body.data.datasetPrivacyBudget.data;
  const policy = async () => (await ex.gql(POLICY, { datasetId: gid("Dataset", datasetId) }, tokens.owner)).body.data.privacyPolicy.data;

  beforeAll(async () => {
    ex = await startTestExchange(adapter);
    await account("owner", ["OWNER"]);
    await account("other", ["OWNER"]);
    await account("buyer", ["BUYER"]);
    const t = trips();
    rows = t.rows;
    const ds = await ex.services.datasets.createDataset(ids.owner!, { name: "heavy-tailed trips" });
    datasetId = ds._id;
    await ex.services.datasets.uploadVersion(ids.owner!, datasetId, {
      source: Readable.from([Buffer.from(t.csv)]),
      format: "csv",
      filename: "trips.csv",
    });
    await ex.services.policies.declare(ids.owner!, policyRules());
    const listing = await ex.services.catalog.createListing(ids.owner!, {
      datasetId,
      title: { zh: "行程", en: "Trips" },
      description: { zh: "出租车行程", en: "Taxi trips" },
      category: "TRANSPORT",
      licence: "CC BY-NC 4.0",
      permittedUse: "研究",
      pricePlan: { perQueryFee: 0, pricePerEpsilon: 0 },
      instantAccess: true,
    });
    await ex.services.catalog.publish(ids.owner!, listing._id, false);
    listingGid = gid("Listing", listing._id);
    await ex.services.access.request(ids.buyer!, { listingId: listing._id, purpose: "交通研究 traffic research" });
  });

  afterAll(async () => {
    await ex?.stop();
  });

  it("quotes no bias before any profile", async () => {
    expect((await quote()).map((e) => e.expectedRelBias)).toEqual([null, null]);
  });

  it("refuses a buyer and another owner, spending nothing", async () => {
    const asBuyer = await ex.gql(SUGGEST, { datasetId: gid("Dataset", datasetId), epsilon: 0.1 }, tokens.buyer);
    expect(asBuyer.body.data?.suggestPolicyBounds ?? null).toBeNull();
    expect(asBuyer.body.errors?.length).toBeGreaterThan(0);
    const asOther = await ex.gql(SUGGEST, { datasetId: gid("Dataset", datasetId), epsilon: 0.1 }, tokens.other);
    expect(asOther.body.data.suggestPolicyBounds).toMatchObject({ __typename: "NotFound" });
    expect(await spent()).toEqual({ epsilonSpent: 0, epsilonRemaining: 1.5 });
  });

  it("refuses an ε above the profile limit with an error naming it, changing nothing", async () => {
    const r = await ex.gql(SUGGEST, { datasetId: gid("Dataset", datasetId), epsilon: 2 }, tokens.owner);
    expect(r.body.data.suggestPolicyBounds.__typename).toBe("InvalidInput");
    expect(r.body.data.suggestPolicyBounds.issues[0]).toMatchObject({ path: "epsilon" });
    expect(r.body.data.suggestPolicyBounds.issues[0].message).toMatch(/at most ε 1/);
    expect(await spent()).toEqual({ epsilonSpent: 0, epsilonRemaining: 1.5 });
    expect((await policy()).version).toBe(1);
    expect(await ex.services.audit.findEntries({ action: "policy.profiled" }, 10)).toMatchObject({ items: [] });
  });

  it("spends the ε (budget and audit log), keeps the profile with the policy and suggests bounds with their trade-off", async () => {
    const r = await ex.gql(SUGGEST, { datasetId: gid("Dataset", datasetId), epsilon: 1 }, tokens.owner);
    const s = r.body.data?.suggestPolicyBounds.data;
    expect(s, JSON.stringify(r.body)).toBeDefined();
    expect(s).toMatchObject({ datasetVersion: 1, epsilonSpent: 1, datasetEpsilonRemaining: 0.5, epsilonPerQuery: 0.5, note: null });
    expect(s.policy).toMatchObject({
      version: 2,
      contributionProfile: { profileId: s.profileId, datasetVersion: 1, epsilon: 1, reason: "SUGGESTED" },
    });
    expect(s.current).toMatchObject({ maxGroupsPerUnit: 1, maxRowsPerUnit: 100 });
    expect(s.suggested.maxGroupsPerUnit).toBeGreaterThanOrEqual(1);
    expect(s.suggested.measures[0].column).toBe("fare");
    expect(s.typicalQueries.length).toBeGreaterThan(0);
    for (const q of s.typicalQueries) {
      expect(Number.isFinite(q.suggested.expectedRelBias) && Number.isFinite(q.suggested.expectedRelNoise)).toBe(true);
      expect(q.current).not.toBeNull();
    }
    // The suggestion is never worse than the current caps on the typical queries (it minimises the same figure).
    expect(s.suggested.expectedRelError).toBeLessThanOrEqual(s.current.expectedRelError + 1e-9);
    expect(await spent()).toEqual({ epsilonSpent: 1, epsilonRemaining: 0.5 });
    // The owner's own spend is shown apart: not a buyer, not in the per-buyer list.
    const own = await ex.gql(OWNER_SPEND, { datasetId: gid("Dataset", datasetId) }, tokens.owner);
    expect(own.body.data.datasetPrivacyBudget.data).toEqual({ ownerEpsilonSpent: 1, buyers: 0, spentByBuyer: [] });
    const profiled = await ex.services.audit.findEntries({ action: "policy.profiled" }, 10);
    expect(profiled.items).toHaveLength(1);
    expect(profiled.items[0]!.entry).toContain(s.profileId);
    expect(profiled.items[0]!.entry).not.toContain("车");
    const debits = await ex.services.audit.findEntries({ action: "privacy.budget_debited" }, 10);
    expect(debits.items.some((e) => e.entry.includes(s.profileId))).toBe(true);
  });

  it("states the bias of bounding in the next quote", async () => {
    const errors = await quote();
    for (const e of errors) {
      expect(e.expectedRelBias, JSON.stringify(errors)).not.toBeNull();
      expect(e.relErrorInterval).not.toBeNull();
    }
  });

  it("refuses a profile the dataset's budget cannot cover, spending nothing", async () => {
    const r = await ex.gql(SUGGEST, { datasetId: gid("Dataset", datasetId), epsilon: 1 }, tokens.owner);
    expect(r.body.data.suggestPolicyBounds).toMatchObject({ __typename: "BudgetExhausted", cap: "DATASET" });
    expect(r.body.data.suggestPolicyBounds.message).toMatch(/the profile needs ε 1/);
    expect(await spent()).toEqual({ epsilonSpent: 1, epsilonRemaining: 0.5 });
    expect((await policy()).version).toBe(2);
  });

  it("keeps the profile when the owner accepts the suggestion on the same version", async () => {
    const before = await policy();
    // The owner's ε 1 on the profile is the dataset's spend, not a buyer's: the per-buyer cap may go below it.
    await ex.services.policies.declare(ids.owner!, { ...policyRules(), buyerEpsilonBudget: 0.5, maxRowsPerUnit: 40, maxGroupsPerUnit: 3 });
    const after = await policy();
    expect(after).toMatchObject({ version: 3, maxRowsPerUnit: 40, contributionProfile: before.contributionProfile });
    expect((await quote()).every((e) => e.expectedRelBias !== null)).toBe(true);
  });

  it("drops the profile once the policy is declared against a new version", async () => {
    const t = trips();
    await ex.services.datasets.uploadVersion(ids.owner!, datasetId, {
      source: Readable.from([Buffer.from(t.csv)]),
      format: "csv",
      filename: "trips2.csv",
    });
    await ex.services.policies.declare(ids.owner!, { ...policyRules(), checkAgainstVersion: 2 });
    expect(await policy()).toMatchObject({ version: 4, contributionProfile: null });
    expect((await quote()).map((e) => e.expectedRelBias)).toEqual([null, null]);
  });
});

const PUBLISH = /* GraphQL */ `
  mutation ($id: ID!) {
    publishListing(id: $id) {
      __typename
      ... on MutationPublishListingSuccess { data { status boundsAtPublish { outcome maxGroupsPerUnit maxRowsPerUnit epsilonSpent policyVersion note } } }
      ... on DomainError { code message }
    }
  }`;

describe.each(availableAdapters())("bounds chosen at publish on %s", (adapter) => {
  let ex: TestExchange;
  let ownerId: string;
  let token: string;

  beforeAll(async () => {
    ex = await startTestExchange(adapter, { PROFILE_AT_PUBLISH: "true", PROFILE_EPSILON: "0.5" });
    const a = await ex.services.accounts.createAccount("owner@publish-profile.test", PASSWORD, ["OWNER"]);
    ownerId = a._id;
    token = (await ex.services.accounts.createApiKey(a._id, "owner")).secret;
  });

  afterAll(async () => {
    await ex?.stop();
  });

  /** A dataset with a policy whose bounds are left at their defaults, and a draft listing of it. */
  async function draft(name: string, budgets: { epsilonPerQuery: number; buyerEpsilonBudget: number; datasetEpsilonBudget: number }) {
    const t = trips();
    const ds = await ex.services.datasets.createDataset(ownerId, { name });
    await ex.services.datasets.uploadVersion(ownerId, ds._id, { source: Readable.from([Buffer.from(t.csv)]), format: "csv", filename: "t.csv" });
    await ex.services.policies.declare(ownerId, {
      datasetId: ds._id,
      privacyUnit: "vehicle_id",
      dimensions: [{ column: "district", keys: DISTRICTS }],
      measures: [{ column: "fare", lo: 0, hi: 1000 }],
      aggregates: ["COUNT_ROWS", "SUM"],
      ...budgets,
      publicFacts: { columns: [], size: { exactRows: t.rows } },
    });
    const listing = await ex.services.catalog.createListing(ownerId, {
      datasetId: ds._id,
      title: { zh: name, en: name },
      description: { zh: "行程", en: "Trips" },
      category: "TRANSPORT",
      licence: "CC BY-NC 4.0",
      permittedUse: "研究",
      pricePlan: { perQueryFee: 0, pricePerEpsilon: 0 },
    });
    return { datasetId: ds._id, listingGid: gid("Listing", listing._id) };
  }

  it("profiles a policy left at default bounds, declares the suggested caps and says so", async () => {
    const { datasetId, listingGid } = await draft("profiled at publish", { epsilonPerQuery: 0.5, buyerEpsilonBudget: 1, datasetEpsilonBudget: 3 });
    const r = await ex.gql(PUBLISH, { id: listingGid }, token);
    const data = r.body.data?.publishListing.data;
    expect(data, JSON.stringify(r.body)).toBeDefined();
    expect(data.status).toBe("PUBLISHED");
    expect(data.boundsAtPublish).toMatchObject({ outcome: "PROFILED", epsilonSpent: 0.5 });
    const policy = (await ex.services.policies.current(datasetId))!;
    expect(policy.version).toBe(data.boundsAtPublish.policyVersion);
    expect(policy).toMatchObject({ maxGroupsPerUnit: data.boundsAtPublish.maxGroupsPerUnit, maxRowsPerUnit: data.boundsAtPublish.maxRowsPerUnit });
    expect(policy.contributionProfile).toMatchObject({ datasetVersion: 1, reason: "PUBLISH", epsilon: "0.5" });
    expect((await ex.services.privacyBudget.globalRemaining(datasetId)).spentMicro).toBe(500_000);
    const profiled = await ex.services.audit.findEntries({ action: "policy.profiled" }, 10);
    expect(profiled.items.some((e) => e.entry.includes(datasetId))).toBe(true);
  });

  it("keeps the fixed defaults, spending nothing, when the budget cannot cover the profile", async () => {
    const { datasetId, listingGid } = await draft("too small a budget", { epsilonPerQuery: 0.1, buyerEpsilonBudget: 0.2, datasetEpsilonBudget: 0.2 });
    const r = await ex.gql(PUBLISH, { id: listingGid }, token);
    const data = r.body.data?.publishListing.data;
    expect(data, JSON.stringify(r.body)).toBeDefined();
    expect(data.status).toBe("PUBLISHED");
    expect(data.boundsAtPublish).toMatchObject({
      outcome: "DEFAULTS",
      maxGroupsPerUnit: 1,
      maxRowsPerUnit: 100,
      epsilonSpent: null,
      policyVersion: 1,
    });
    expect(data.boundsAtPublish.note).toMatch(/fixed default bounds.*needs ε 0\.5/);
    expect((await ex.services.privacyBudget.globalRemaining(datasetId)).spentMicro).toBe(0);
    expect((await ex.services.policies.current(datasetId))!.version).toBe(1);
  });
});
