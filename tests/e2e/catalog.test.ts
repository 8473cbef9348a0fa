/**
 * Policies, listings, search and access requests through the real HTTP GraphQL API, on every
 * store adapter, over a dataset really uploaded through ingestion. Tried as the issue's users
 * would: an owner declares a policy and publishes; a buyer (and anyone) finds the listing by a
 * Chinese word, reads its schema, policy and synthetic samples — never a real row or a real
 * extreme value — requests access and is approved. Other owners, buyers and anonymous callers
 * get NotFound or NOT_AUTHORIZED where they have no business.
 */
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { availableAdapters, startTestExchange, type TestExchange } from "../support/exchange.ts";

const PASSWORD = "Correct-Horse-42";
const DISTRICTS = ["浦东新区", "徐汇区", "静安区", "黄浦区"];

/** 400 deterministic taxi trips; fares are cents-precise floats, so real extremes are specific numbers. */
function taxiCsv(): { csv: string; rows: Array<{ vehicle_id: string; district: string; hour: number; fare: number }> } {
  const rows = [];
  let x = 12345;
  const next = () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let i = 0; i < 400; i++) {
    rows.push({
      vehicle_id: `沪A${String(10000 + Math.floor(next() * 40)).padStart(5, "0")}`,
      district: DISTRICTS[Math.floor(next() * DISTRICTS.length)]!,
      hour: Math.floor(next() * 24),
      fare: Math.round((14 + next() * 180) * 100) / 100 + 0.01,
    });
  }
  const csv = ["vehicle_id,district,hour,fare", ...rows.map((r) => `${r.vehicle_id},${r.district},${r.hour},${r.fare.toFixed(2)}`)].join("\n") + "\n";
  return { csv, rows };
}

const POLICY = {
  privacyUnit: "vehicle_id",
  dimensions: [
    { column: "district", keys: DISTRICTS },
    { column: "hour", edges: [0, 6, 12, 18, 24] },
  ],
  measures: [{ column: "fare", lo: 0, hi: 500 }],
  aggregates: ["COUNT_UNITS", "COUNT_ROWS", "SUM", "AVG"],
};

const DECLARE = /* GraphQL */ `
  mutation ($input: DeclarePrivacyPolicyInput!) {
    declarePrivacyPolicy(input: $input) {
      __typename
      ... on MutationDeclarePrivacyPolicySuccess { data { id version minGroupSize epsilonPerQuery buyerEpsilonBudget datasetEpsilonBudget } }
      ... on InvalidInput { issues { path message } }
      ... on DomainError { code message }
    }
  }`;

const CREATE_LISTING = /* GraphQL */ `
  mutation ($input: CreateListingInput!) {
    createListing(input: $input) {
      __typename
      ... on MutationCreateListingSuccess { data { id status indicativeQueryPrice pricePlan { currency perQueryFee pricePerEpsilon } } }
      ... on InvalidInput { issues { path message } }
      ... on DomainError { code message }
    }
  }`;

const PUBLISH = /* GraphQL */ `
  mutation ($id: ID!) {
    publishListing(id: $id) {
      __typename
      ... on MutationPublishListingSuccess { data { id status } }
      ... on DomainError { code message }
    }
  }`;

const SUSPEND = /* GraphQL */ `
  mutation ($id: ID!, $reason: String!) {
    suspendListing(id: $id, reason: $reason) {
      __typename
      ... on MutationSuspendListingSuccess { data { status statusHistory { from to byAdmin reason } } }
      ... on DomainError { code message }
    }
  }`;

const LISTING = /* GraphQL */ `
  query ($id: ID!) {
    listing(id: $id) {
      __typename
      ... on QueryListingSuccess { data { id status title { zh en } } }
      ... on DomainError { code }
    }
  }`;

const SEARCH = /* GraphQL */ `
  query ($query: String, $filter: ListingSearchFilter, $first: Int, $after: String) {
    searchListings(query: $query, filter: $filter, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges {
        score
        node {
          id title { zh en } tags category licence permittedUse status
          pricePlan { currency perQueryFee pricePerEpsilon }
          columns { name type role }
          policy { privacyUnit minGroupSize epsilonPerQuery dimensions { column kind keys edges } measures { column lo hi } aggregates note }
          publicSize { exactRows bucket }
          sampleRows { synthetic cells { column value } }
          statusHistory { to }
          viewerAccess { status }
        }
      }
    }
  }`;

const REQUEST_ACCESS = /* GraphQL */ `
  mutation ($input: RequestAccessInput!) {
    requestAccess(input: $input) {
      __typename
      ... on MutationRequestAccessSuccess { data { id status purpose } }
      ... on InvalidInput { issues { path message } }
      ... on DomainError { code message }
    }
  }`;

const DECIDE = /* GraphQL */ `
  mutation ($input: DecideAccessRequestInput!) {
    decideAccessRequest(input: $input) {
      __typename
      ... on MutationDecideAccessRequestSuccess { data { id status decision { reason bySystem at } } }
      ... on InvalidInput { issues { path message } }
      ... on DomainError { code message }
    }
  }`;

describe.each(availableAdapters())("catalog over HTTP on %s", (adapter) => {
  let ex: TestExchange;
  let owner: { token: string; id: string };
  let otherOwner: { token: string; id: string };
  let buyer: { token: string; id: string };
  let admin: { token: string; id: string };
  let datasetGid: string;
  let datasetId: string;
  let listingGid: string;
  const data = taxiCsv();

  async function signUp(email: string, roles: string[]) {
    const r = await ex.gql(
      `mutation ($input: SignUpInput!) { signUp(input: $input) { ... on MutationSignUpSuccess { data { token account { id } } } } }`,
      { input: { email, password: PASSWORD, roles } },
    );
    const d = r.body.data.signUp.data;
    return { token: d.token as string, id: d.account.id as string };
  }

  beforeAll(async () => {
    ex = await startTestExchange(adapter);
    owner = await signUp("owner@example.com", ["OWNER"]);
    otherOwner = await signUp("other@example.com", ["OWNER", "BUYER"]);
    buyer = await signUp("buyer@example.com", ["BUYER"]);
    await ex.services.accounts.createAccount("admin@example.com", PASSWORD, ["ADMIN"]);
    const signedIn = await ex.gql(
      `mutation { signIn(input: {email: "admin@example.com", password: "${PASSWORD}"}) { ... on MutationSignInSuccess { data { token account { id } } } } }`,
    );
    admin = { token: signedIn.body.data.signIn.data.token, id: signedIn.body.data.signIn.data.account.id };

    const ownerAccountId = (await ex.services.accounts.authenticate(owner.token)).account._id;
    const ds = await ex.services.datasets.createDataset(ownerAccountId, { name: "taxi trips" });
    await ex.services.datasets.uploadVersion(ownerAccountId, ds._id, {
      source: Readable.from([Buffer.from(data.csv)]),
      format: "csv",
      filename: "taxi.csv",
    });
    datasetId = ds._id;
    datasetGid = Buffer.from(`Dataset:${ds._id}`).toString("base64");
  });

  afterAll(async () => {
    await ex?.stop();
  });

  it("lets only the dataset's owner declare its policy; bad input names field and rule and changes nothing", async () => {
    const bad = await ex.gql(
      DECLARE,
      { input: { datasetId: datasetGid, ...POLICY, measures: [{ column: "fare", lo: 10, hi: 5 }], minGroupSize: 1 } },
      owner.token,
    );
    expect(bad.body.data.declarePrivacyPolicy.__typename).toBe("InvalidInput");
    expect(bad.body.data.declarePrivacyPolicy.issues).toEqual(
      expect.arrayContaining([
        { path: "input.measures.0.hi", message: "hi must be greater than lo" },
        { path: "input.minGroupSize", message: "must be at least 2" },
      ]),
    );
    const unknownColumn = await ex.gql(DECLARE, { input: { datasetId: datasetGid, ...POLICY, privacyUnit: "driver" } }, owner.token);
    expect(unknownColumn.body.data.declarePrivacyPolicy.issues).toEqual([
      { path: "input.privacyUnit", message: 'no column named "driver" in dataset version 1' },
    ]);
    expect(await ex.services.policies.current(datasetId)).toBeNull();

    const other = await ex.gql(DECLARE, { input: { datasetId: datasetGid, ...POLICY } }, otherOwner.token);
    const missing = await ex.gql(DECLARE, { input: { datasetId: Buffer.from("Dataset:ds_nope").toString("base64"), ...POLICY } }, otherOwner.token);
    expect(other.body.data.declarePrivacyPolicy).toEqual(missing.body.data.declarePrivacyPolicy);
    expect(other.body.data.declarePrivacyPolicy.__typename).toBe("NotFound");
    for (const token of [buyer.token, undefined]) {
      const r = await ex.gql(DECLARE, { input: { datasetId: datasetGid, ...POLICY } }, token);
      expect(r.body.errors[0].extensions.code).toBe("NOT_AUTHORIZED");
    }

    const ok = await ex.gql(DECLARE, { input: { datasetId: datasetGid, ...POLICY } }, owner.token);
    expect(ok.body.data.declarePrivacyPolicy.data).toMatchObject({
      version: 1,
      minGroupSize: 10,
      epsilonPerQuery: 0.1,
      buyerEpsilonBudget: 2,
      datasetEpsilonBudget: 10,
    });
    const history = await ex.gql(
      `query ($id: ID!) { privacyPolicyHistory(datasetId: $id) { edges { node { version } } } }`,
      { id: datasetGid },
      otherOwner.token,
    );
    expect(history.body.data.privacyPolicyHistory.edges).toEqual([]);
  });

  it("creates a draft only anyone but its owner and admins cannot see, then publishes it", async () => {
    const input = {
      datasetId: datasetGid,
      title: { zh: "上海出租车行程", en: "Shanghai taxi trips" },
      description: { zh: "按区和小时统计出租车行程。", en: "Trips by district and hour." },
      tags: ["交通", "Taxi"],
      category: "TRANSPORT",
      licence: "CC BY-NC 4.0",
      permittedUse: "城市规划研究",
      pricePlan: { perQueryFee: 200, pricePerEpsilon: 1000 },
    };
    const byBuyer = await ex.gql(CREATE_LISTING, { input }, buyer.token);
    expect(byBuyer.body.errors[0].extensions.code).toBe("NOT_AUTHORIZED");
    const byOther = await ex.gql(CREATE_LISTING, { input }, otherOwner.token);
    expect(byOther.body.data.createListing.__typename).toBe("NotFound");
    const badPrice = await ex.gql(CREATE_LISTING, { input: { ...input, pricePlan: { perQueryFee: -1 } } }, owner.token);
    expect(badPrice.body.data.createListing.issues[0]).toMatchObject({ path: "input.pricePlan.perQueryFee" });

    const created = await ex.gql(CREATE_LISTING, { input }, owner.token);
    const listing = created.body.data.createListing.data;
    expect(listing).toMatchObject({
      status: "DRAFT",
      indicativeQueryPrice: 300,
      pricePlan: { currency: "cny", perQueryFee: 200, pricePerEpsilon: 1000 },
    });
    listingGid = listing.id;

    for (const token of [undefined, buyer.token, otherOwner.token]) {
      const r = await ex.gql(LISTING, { id: listingGid }, token);
      expect(r.body.data.listing.__typename).toBe("NotFound");
    }
    expect((await ex.gql(LISTING, { id: listingGid }, admin.token)).body.data.listing.__typename).toBe("QueryListingSuccess");
    expect((await ex.gql(PUBLISH, { id: listingGid }, otherOwner.token)).body.data.publishListing.__typename).toBe("NotFound");
    const published = await ex.gql(PUBLISH, { id: listingGid }, owner.token);
    expect(published.body.data.publishListing.data.status).toBe("PUBLISHED");
  });

  it("lets anyone find it by a Chinese word in its title and see no real row or real extreme value", async () => {
    const found = await ex.gql(SEARCH, { query: "出租车", first: 5 });
    expect(found.body.errors, JSON.stringify(found.body.errors)).toBeUndefined();
    const hit = found.body.data.searchListings.edges.find((e: { node: { id: string } }) => e.node.id === listingGid);
    expect(hit).toBeDefined();
    const node = hit.node;
    expect(node.title).toEqual({ zh: "上海出租车行程", en: "Shanghai taxi trips" });
    // No public facts declared: names and roles only, never a type inferred from the values.
    expect(node.columns).toEqual([
      { name: "vehicle_id", type: null, role: "PRIVACY_UNIT" },
      { name: "district", type: null, role: "DIMENSION" },
      { name: "hour", type: null, role: "DIMENSION" },
      { name: "fare", type: null, role: "MEASURE" },
    ]);
    expect(node.policy).toMatchObject({ privacyUnit: "vehicle_id", minGroupSize: 10, measures: [{ column: "fare", lo: 0, hi: 500 }], note: null });
    expect(node.publicSize).toBeNull();
    expect(node.statusHistory).toBeNull();
    expect(node.viewerAccess).toBeNull();

    // The synthetic samples against the real data: no real row, no real id, no real extreme.
    const fares = data.rows.map((r) => r.fare);
    const realMin = Math.min(...fares);
    const realMax = Math.max(...fares);
    const realRows = new Set(data.rows.map((r) => JSON.stringify([r.vehicle_id, r.district, String(r.hour), r.fare.toFixed(2)])));
    const realIds = new Set(data.rows.map((r) => r.vehicle_id));
    expect(node.sampleRows.length).toBe(5);
    for (const row of node.sampleRows) {
      expect(row.synthetic).toBe(true);
      const v = Object.fromEntries(row.cells.map((c: { column: string; value: string }) => [c.column, c.value]));
      expect(realRows.has(JSON.stringify([v.vehicle_id, v.district, v.hour, Number(v.fare).toFixed(2)]))).toBe(false);
      expect(realIds.has(v.vehicle_id)).toBe(false);
      expect(DISTRICTS).toContain(v.district);
      expect(Number(v.fare)).not.toBe(realMin);
      expect(Number(v.fare)).not.toBe(realMax);
    }
    const body = JSON.stringify(found.body);
    expect(body).not.toContain(realMin.toFixed(2));
    expect(body).not.toContain(realMax.toFixed(2));
    for (const id of realIds) expect(body).not.toContain(id);

    const english = await ex.gql(SEARCH, { query: "taxi", filter: { category: "TRANSPORT", maxPrice: 300 }, first: 5 }, buyer.token);
    expect(english.body.data.searchListings.edges.map((e: { node: { id: string } }) => e.node.id)).toContain(listingGid);
    const tooCheap = await ex.gql(SEARCH, { query: "taxi", filter: { maxPrice: 299 }, first: 5 });
    expect(tooCheap.body.data.searchListings.totalCount).toBe(0);
    const badPaging = await ex.gql(SEARCH, { query: "taxi", after: "not-a-cursor", first: 5 });
    expect(badPaging.body.errors[0].extensions.code).toBe("BAD_USER_INPUT");
  });

  it("runs the access request flow with who/when/why, visible to the buyer and the listing's owner only", async () => {
    const anon = await ex.gql(REQUEST_ACCESS, { input: { listingId: listingGid, purpose: "Demand study for new taxi stands." } });
    expect(anon.body.errors[0].extensions.code).toBe("NOT_AUTHORIZED");
    const short = await ex.gql(REQUEST_ACCESS, { input: { listingId: listingGid, purpose: "hi" } }, buyer.token);
    expect(short.body.data.requestAccess.issues[0].path).toBe("input.purpose");

    const req = await ex.gql(REQUEST_ACCESS, { input: { listingId: listingGid, purpose: "Demand study for new taxi stands." } }, buyer.token);
    const request = req.body.data.requestAccess.data;
    expect(request).toMatchObject({ status: "PENDING", purpose: "Demand study for new taxi stands." });
    const again = await ex.gql(REQUEST_ACCESS, { input: { listingId: listingGid, purpose: "Demand study for new taxi stands." } }, buyer.token);
    expect(again.body.data.requestAccess).toMatchObject({ __typename: "AccessRequestConflict", code: "ACCESS_REQUEST_CONFLICT" });

    const ownerView = await ex.gql(
      `{ accessRequestsForMyListings(status: PENDING) { edges { node { id purpose listing { id } } } } }`,
      {},
      owner.token,
    );
    expect(ownerView.body.data.accessRequestsForMyListings.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([request.id]);
    const otherView = await ex.gql(`{ accessRequestsForMyListings { edges { node { id } } } }`, {}, otherOwner.token);
    expect(otherView.body.data.accessRequestsForMyListings.edges).toEqual([]);
    const peek = await ex.gql(`query ($id: ID!) { accessRequest(id: $id) { __typename } }`, { id: request.id }, otherOwner.token);
    expect(peek.body.data.accessRequest.__typename).toBe("NotFound");

    expect((await ex.gql(DECIDE, { input: { requestId: request.id, decision: "APPROVE" } }, buyer.token)).body.errors[0].extensions.code).toBe(
      "NOT_AUTHORIZED",
    );
    expect(
      (await ex.gql(DECIDE, { input: { requestId: request.id, decision: "APPROVE" } }, otherOwner.token)).body.data.decideAccessRequest.__typename,
    ).toBe("NotFound");
    const noReason = await ex.gql(DECIDE, { input: { requestId: request.id, decision: "DENY" } }, owner.token);
    expect(noReason.body.data.decideAccessRequest.issues[0].path).toBe("input.reason");

    const ownerAccountId = (await ex.services.accounts.authenticate(owner.token)).account._id;
    const buyerAccountId = (await ex.services.accounts.authenticate(buyer.token)).account._id;
    const listingId = Buffer.from(listingGid, "base64").toString().split(":")[1]!;
    expect(await ex.services.access.hasEntitlement(buyerAccountId, { listingId })).toBe(false);
    const approved = await ex.gql(DECIDE, { input: { requestId: request.id, decision: "APPROVE", reason: "clear purpose" } }, owner.token);
    expect(approved.body.data.decideAccessRequest.data).toMatchObject({ status: "APPROVED", decision: { reason: "clear purpose", bySystem: false } });
    expect(await ex.services.access.hasEntitlement(buyerAccountId, { listingId })).toBe(true);
    expect(await ex.services.access.hasEntitlement(buyerAccountId, { datasetId })).toBe(true);

    const mine = await ex.gql(`{ myAccessRequests { edges { node { status decision { reason } listing { title { zh } } } } } }`, {}, buyer.token);
    expect(mine.body.data.myAccessRequests.edges[0].node).toEqual({
      status: "APPROVED",
      decision: { reason: "clear purpose" },
      listing: { title: { zh: "上海出租车行程" } },
    });
    const seen = await ex.gql(SEARCH, { query: "出租车", first: 5 }, buyer.token);
    expect(seen.body.data.searchListings.edges[0].node.viewerAccess).toEqual({ status: "APPROVED" });

    const events = await ex.services.audit.findEntries({ action: "access.decided", "subject.listingId": listingId }, 10);
    expect(events.items.map((e) => [e.actor, JSON.parse(e.entry).data.decision])).toEqual([[ownerAccountId, "approved"]]);
  });

  it("lets an admin suspend a listing, which only an admin can reinstate", async () => {
    const byBuyer = await ex.gql(SUSPEND, { id: listingGid, reason: "no" }, buyer.token);
    expect(byBuyer.body.errors[0].extensions.code).toBe("NOT_AUTHORIZED");
    const suspended = await ex.gql(SUSPEND, { id: listingGid, reason: "under review" }, admin.token);
    expect(suspended.body.data.suspendListing.data).toMatchObject({ status: "SUSPENDED" });
    expect(suspended.body.data.suspendListing.data.statusHistory.at(-1)).toEqual({
      from: "PUBLISHED",
      to: "SUSPENDED",
      byAdmin: true,
      reason: "under review",
    });
    expect((await ex.gql(LISTING, { id: listingGid })).body.data.listing.__typename).toBe("NotFound");
    expect((await ex.gql(SEARCH, { query: "出租车", first: 5 })).body.data.searchListings.totalCount).toBe(0);
    const byOwner = await ex.gql(PUBLISH, { id: listingGid }, owner.token);
    expect(byOwner.body.data.publishListing).toMatchObject({ __typename: "ListingStatusConflict", code: "LISTING_STATUS_CONFLICT" });
    const byAdmin = await ex.gql(PUBLISH, { id: listingGid }, admin.token);
    expect(byAdmin.body.data.publishListing.data.status).toBe("PUBLISHED");
  });
});
