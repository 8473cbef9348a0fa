/**
 * The privacy budget through the real HTTP GraphQL API, on every store adapter, over a dataset
 * really uploaded, with a real policy and a published listing. The query engine is not there yet,
 * so queries are charged the way it will charge them: `services.privacyBudget.answerOnce` with
 * the caps of the current policy. Buyers read only their own budget; owners only their datasets'.
 */
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { availableAdapters, startTestExchange, type TestExchange } from "../support/exchange.ts";
import { canonicalQueryHash, policyCaps } from "../../src/privacy/budget/index.ts";

const PASSWORD = "Correct-Horse-42";

const BUYER_BUDGET = /* GraphQL */ `
  query ($datasetId: ID, $listingId: ID) {
    privacyBudget(datasetId: $datasetId, listingId: $listingId) {
      __typename
      ... on QueryPrivacyBudgetSuccess {
        data { datasetId epsilonPerQuery epsilonBudget epsilonSpent epsilonRemaining datasetEpsilonRemaining queriesRemaining queriesCharged }
      }
      ... on InvalidInput { issues { path message } }
      ... on DomainError { code message }
    }
  }`;

const OWNER_BUDGET = /* GraphQL */ `
  query ($datasetId: ID!) {
    datasetPrivacyBudget(datasetId: $datasetId) {
      __typename
      ... on QueryDatasetPrivacyBudgetSuccess { data { datasetId epsilonBudget epsilonSpent epsilonRemaining buyerEpsilonBudget buyers queriesCharged } }
      ... on DomainError { code message }
    }
  }`;

const gid = (type: string, id: string) => Buffer.from(`${type}:${id}`).toString("base64");

describe.each(availableAdapters())("privacy budget over HTTP on %s", (adapter) => {
  let ex: TestExchange;
  const who: Record<"owner" | "otherOwner" | "buyer" | "otherBuyer", { token: string; id: string }> = {} as never;
  let datasetId: string;
  let listingId: string;

  async function signUp(email: string, roles: string[]) {
    const r = await ex.gql(`mutation ($input: SignUpInput!) { signUp(input: $input) { ... on MutationSignUpSuccess { data { token } } } }`, {
      input: { email, password: PASSWORD, roles },
    });
    const token = r.body.data.signUp.data.token as string;
    return { token, id: (await ex.services.accounts.authenticate(token)).account._id };
  }

  /** Charges one query as the query engine will: cached answer, or claim → debit → run → store. */
  async function query(buyerId: string, n: number, queryId: string) {
    const policy = (await ex.services.policies.current(datasetId))!;
    const caps = policyCaps(policy);
    return ex.services.privacyBudget.answerOnce(
      {
        queryId,
        buyerId,
        datasetId,
        datasetVersionId: `${datasetId}@1`,
        canonicalQueryHash: canonicalQueryHash({ count: "units", where: { hour: n } }),
        epsilonMicro: caps.perQueryMicro,
        buyerCapMicro: caps.buyerCapMicro,
        globalCapMicro: caps.globalCapMicro,
      },
      async () => ({ count: 40 + n }),
    );
  }

  beforeAll(async () => {
    ex = await startTestExchange(adapter);
    who.owner = await signUp("owner@budget.test", ["OWNER"]);
    who.otherOwner = await signUp("other-owner@budget.test", ["OWNER"]);
    who.buyer = await signUp("buyer@budget.test", ["BUYER"]);
    who.otherBuyer = await signUp("other-buyer@budget.test", ["BUYER"]);
    const csv = ["vehicle_id,district,hour", ...Array.from({ length: 60 }, (_, i) => `v${i % 12},浦东新区,${i % 24}`)].join("\n") + "\n";
    const ds = await ex.services.datasets.createDataset(who.owner.id, { name: "taxi" });
    await ex.services.datasets.uploadVersion(who.owner.id, ds._id, {
      source: Readable.from([Buffer.from(csv)]),
      format: "csv",
      filename: "taxi.csv",
    });
    datasetId = ds._id;
    await ex.services.policies.declare(who.owner.id, {
      datasetId,
      privacyUnit: "vehicle_id",
      dimensions: [{ column: "district", keys: ["浦东新区"] }],
      measures: [],
      aggregates: ["COUNT_UNITS"],
      epsilonPerQuery: 0.25,
      buyerEpsilonBudget: 1,
      datasetEpsilonBudget: 1.5,
    });
    const listing = await ex.services.catalog.createListing(who.owner.id, {
      datasetId,
      title: { zh: "出租车", en: "Taxi" },
      description: { zh: "出租车行程", en: "Taxi trips" },
      category: "TRANSPORT",
      licence: "CC BY-NC 4.0",
      permittedUse: "研究",
      pricePlan: { perQueryFee: 100, pricePerEpsilon: 1000 },
    });
    await ex.services.catalog.publish(who.owner.id, listing._id, false);
    listingId = listing._id;
  });

  afterAll(async () => {
    await ex?.stop();
  });

  it("shows a buyer its full budget before any query, by dataset or by listing", async () => {
    const byDataset = await ex.gql(BUYER_BUDGET, { datasetId: gid("Dataset", datasetId) }, who.buyer.token);
    expect(byDataset.body.data?.privacyBudget.data, JSON.stringify(byDataset.body)).toEqual({
      datasetId: gid("Dataset", datasetId),
      epsilonPerQuery: 0.25,
      epsilonBudget: 1,
      epsilonSpent: 0,
      epsilonRemaining: 1,
      datasetEpsilonRemaining: 1.5,
      queriesRemaining: 4,
      queriesCharged: 0,
    });
    const byListing = await ex.gql(BUYER_BUDGET, { listingId: gid("Listing", listingId) }, who.buyer.token);
    expect(byListing.body.data.privacyBudget).toEqual(byDataset.body.data.privacyBudget);
  });

  it("counts each buyer's queries against its own cap and everyone's against the global cap; repeats are free", async () => {
    expect(await query(who.buyer.id, 1, "b-1")).toMatchObject({ cached: false });
    expect(await query(who.buyer.id, 1, "b-2")).toMatchObject({ cached: true }); // the same question: no ε
    await query(who.buyer.id, 2, "b-3");
    await query(who.buyer.id, 3, "b-4");
    await query(who.otherBuyer.id, 1, "o-1"); // another buyer's identical query is its own
    await query(who.otherBuyer.id, 2, "o-2");

    const mine = await ex.gql(BUYER_BUDGET, { datasetId: gid("Dataset", datasetId) }, who.buyer.token);
    expect(mine.body.data.privacyBudget.data).toMatchObject({
      epsilonSpent: 0.75,
      epsilonRemaining: 0.25,
      datasetEpsilonRemaining: 0.25,
      queriesRemaining: 1,
      queriesCharged: 3,
    });
    const theirs = await ex.gql(BUYER_BUDGET, { datasetId: gid("Dataset", datasetId) }, who.otherBuyer.token);
    expect(theirs.body.data.privacyBudget.data).toMatchObject({ epsilonSpent: 0.5, epsilonRemaining: 0.5, queriesRemaining: 1 });

    // The last 0.25 of the global budget goes to whoever asks first; then both are refused.
    await query(who.otherBuyer.id, 3, "o-3");
    await expect(query(who.buyer.id, 4, "b-5")).rejects.toMatchObject({ code: "BUDGET_EXHAUSTED", cap: "DATASET", remainingMicro: 0 });
    const after = await ex.gql(BUYER_BUDGET, { datasetId: gid("Dataset", datasetId) }, who.buyer.token);
    expect(after.body.data.privacyBudget.data).toMatchObject({ epsilonRemaining: 0.25, datasetEpsilonRemaining: 0, queriesRemaining: 0 });

    const owner = await ex.gql(OWNER_BUDGET, { datasetId: gid("Dataset", datasetId) }, who.owner.token);
    expect(owner.body.data.datasetPrivacyBudget.data).toEqual({
      datasetId: gid("Dataset", datasetId),
      epsilonBudget: 1.5,
      epsilonSpent: 1.5,
      epsilonRemaining: 0,
      buyerEpsilonBudget: 1,
      buyers: 2,
      queriesCharged: 6,
    });
  });

  it("shows the owner what each buyer spent, largest first, and nobody else", async () => {
    const SPENT_BY_BUYER = /* GraphQL */ `
      query ($datasetId: ID!, $first: Int) {
        datasetPrivacyBudget(datasetId: $datasetId) {
          __typename
          ... on QueryDatasetPrivacyBudgetSuccess { data { spentByBuyer(first: $first) { buyerId epsilonSpent queriesCharged } } }
          ... on DomainError { code }
        }
      }`;
    const owner = await ex.gql(SPENT_BY_BUYER, { datasetId: gid("Dataset", datasetId) }, who.owner.token);
    const rows = owner.body.data.datasetPrivacyBudget.data.spentByBuyer as Array<{ buyerId: string; epsilonSpent: number; queriesCharged: number }>;
    // Each spent 0.75 over three charged queries; the order among equals is not specified.
    expect([...rows].sort((a, b) => a.buyerId.localeCompare(b.buyerId))).toEqual(
      [
        { buyerId: gid("Account", who.buyer.id), epsilonSpent: 0.75, queriesCharged: 3 },
        { buyerId: gid("Account", who.otherBuyer.id), epsilonSpent: 0.75, queriesCharged: 3 },
      ].sort((a, b) => a.buyerId.localeCompare(b.buyerId)),
    );
    const one = await ex.gql(SPENT_BY_BUYER, { datasetId: gid("Dataset", datasetId), first: 1 }, who.owner.token);
    expect(one.body.data.datasetPrivacyBudget.data.spentByBuyer).toHaveLength(1);
    // Another owner gets the same NotFound as for a dataset that does not exist; a buyer is refused.
    const other = await ex.gql(SPENT_BY_BUYER, { datasetId: gid("Dataset", datasetId) }, who.otherOwner.token);
    expect(other.body.data.datasetPrivacyBudget).toEqual({ __typename: "NotFound", code: "NOT_FOUND" });
    const buyer = await ex.gql(SPENT_BY_BUYER, { datasetId: gid("Dataset", datasetId) }, who.buyer.token);
    expect(buyer.body.errors[0].extensions.code).toBe("NOT_AUTHORIZED");
  });

  it("refuses to lower a policy budget below what was spent (the policy reads the ledger)", async () => {
    await expect(
      ex.services.policies.declare(who.owner.id, {
        datasetId,
        privacyUnit: "vehicle_id",
        dimensions: [{ column: "district", keys: ["浦东新区"] }],
        measures: [],
        aggregates: ["COUNT_UNITS"],
        epsilonPerQuery: 0.25,
        buyerEpsilonBudget: 0.5,
        datasetEpsilonBudget: 1.5,
      }),
    ).rejects.toMatchObject({ code: "BUDGET_BELOW_SPENT", field: "buyerEpsilonBudget", spent: 0.75 });
  });

  it("gives NotFound for datasets that are not on sale, listings that do not exist and other owners' datasets", async () => {
    const unknown = await ex.gql(BUYER_BUDGET, { datasetId: gid("Dataset", "ds_nope") }, who.buyer.token);
    expect(unknown.body.data.privacyBudget).toMatchObject({ __typename: "NotFound", code: "NOT_FOUND" });
    const wrongType = await ex.gql(BUYER_BUDGET, { datasetId: gid("Listing", listingId) }, who.buyer.token);
    expect(wrongType.body.data.privacyBudget.__typename).toBe("NotFound");
    const noListing = await ex.gql(BUYER_BUDGET, { listingId: gid("Listing", "lst_nope") }, who.buyer.token);
    expect(noListing.body.data.privacyBudget.__typename).toBe("NotFound");
    const both = await ex.gql(BUYER_BUDGET, { datasetId: gid("Dataset", datasetId), listingId: gid("Listing", listingId) }, who.buyer.token);
    expect(both.body.data.privacyBudget).toMatchObject({
      __typename: "InvalidInput",
      issues: [{ path: "datasetId", message: "give exactly one of datasetId and listingId" }],
    });
    const none = await ex.gql(BUYER_BUDGET, {}, who.buyer.token);
    expect(none.body.data.privacyBudget.__typename).toBe("InvalidInput");

    const other = await ex.gql(OWNER_BUDGET, { datasetId: gid("Dataset", datasetId) }, who.otherOwner.token);
    const missing = await ex.gql(OWNER_BUDGET, { datasetId: gid("Dataset", "ds_nope") }, who.otherOwner.token);
    expect(other.body.data.datasetPrivacyBudget).toEqual(missing.body.data.datasetPrivacyBudget);
    expect(other.body.data.datasetPrivacyBudget.__typename).toBe("NotFound");
  });

  it("keeps buyers out of the owner's view and owners out of the buyer's", async () => {
    const buyerAsOwner = await ex.gql(OWNER_BUDGET, { datasetId: gid("Dataset", datasetId) }, who.buyer.token);
    expect(buyerAsOwner.body.errors[0].extensions.code).toBe("NOT_AUTHORIZED");
    const ownerAsBuyer = await ex.gql(BUYER_BUDGET, { datasetId: gid("Dataset", datasetId) }, who.owner.token);
    expect(ownerAsBuyer.body.errors[0].extensions.code).toBe("NOT_AUTHORIZED");
    const anonymous = await ex.gql(BUYER_BUDGET, { datasetId: gid("Dataset", datasetId) });
    expect(anonymous.body.errors[0].extensions.code).toBe("NOT_AUTHORIZED");
  });

  it("publishes BudgetExhausted for the query API to return", async () => {
    const r = await ex.gql(`{ __type(name: "BudgetExhausted") { fields { name } interfaces { name } } }`);
    expect(r.body.data.__type.fields.map((f: { name: string }) => f.name).sort()).toEqual([
      "cap",
      "code",
      "epsilonRemaining",
      "epsilonRequested",
      "message",
    ]);
    expect(r.body.data.__type.interfaces).toEqual([{ name: "DomainError" }]);
  });
});
