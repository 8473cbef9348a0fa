/**
 * The privacy gate over real HTTP GraphQL, on every store adapter: a policy with data-derived
 * keys and maxRowsPerUnit declared through the API, groups released only above the threshold
 * (k − 1 units never, exactly k units not in practice, big groups yes, mixed with public keys),
 * and a tracker / differencing pair of queries that is noised, charged per query, cached when
 * repeated, charged again when changed, and refused once the buyer's cap is reached.
 */
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { availableAdapters, startTestExchange, type TestExchange } from "../support/exchange.ts";

const PASSWORD = "Correct-Horse-42";
const gid = (type: string, id: string) => Buffer.from(`${type}:${id}`).toString("base64");

const K = 5;
const BIG = "大商户";
const EXACTLY_K = "五个单位的店";
const K_MINUS_1 = "四个单位的店";

const DECLARE = /* GraphQL */ `
  mutation ($input: DeclarePrivacyPolicyInput!) {
    declarePrivacyPolicy(input: $input) {
      __typename
      ... on MutationDeclarePrivacyPolicySuccess { data { version maxRowsPerUnit dimensions { column kind derivedKeys keys } } }
      ... on InvalidInput { issues { path message } }
      ... on DomainError { code message }
    }
  }`;

const POLICY_READ = /* GraphQL */ `
  query ($id: ID!) { privacyPolicy(datasetId: $id) { ... on QueryPrivacyPolicySuccess { data { version maxRowsPerUnit dimensions { column kind derivedKeys } } } } }`;

const QUOTE = /* GraphQL */ `
  query ($input: QueryInput!) {
    quoteQuery(input: $input) {
      __typename
      ... on QueryQuoteQuerySuccess {
        data { epsilon delta statistics { kind aggregateIndex epsilon expectedStdDev } groupThreshold { minGroupSize tau delta deltaPerGroup epsilon expectedStdDev } }
      }
      ... on PolicyViolation { rule path message }
      ... on DomainError { code message }
    }
  }`;

const RUN = /* GraphQL */ `
  mutation ($input: RunQueryInput!) {
    runQuery(input: $input) {
      __typename
      ... on MutationRunQuerySuccess { data { queryId cached delta charged { amount } quote { epsilon buyerEpsilonRemaining } groups { key { column value } values { kind value } } } }
      ... on PolicyViolation { rule path message }
      ... on DomainError { code message }
    }
  }`;

describe.each(availableAdapters())("the privacy gate over HTTP on %s", (adapter) => {
  let ex: TestExchange;
  let datasetId: string;
  let listingGid: string;
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};

  async function account(name: string, roles: Array<"OWNER" | "BUYER" | "ADMIN">) {
    const a = await ex.services.accounts.createAccount(`${name}@gate.test`, PASSWORD, roles);
    ids[name] = a._id;
    tokens[name] = (await ex.services.accounts.createApiKey(a._id, name)).secret;
  }

  const run = (query: Record<string, unknown>, who = "analyst", idempotencyKey?: string) =>
    ex.gql(RUN, { input: { query: { listingId: listingGid, ...query }, ...(idempotencyKey ? { idempotencyKey } : {}) } }, tokens[who]);

  beforeAll(async () => {
    ex = await startTestExchange(adapter);
    await account("owner", ["OWNER"]);
    await account("analyst", ["BUYER"]);
    await account("tracker", ["BUYER"]);
    await account("admin", ["ADMIN"]);
    // Units: 200 shop at BIG (districts A/B alternating), exactly k at EXACTLY_K (A), k − 1 at
    // K_MINUS_1 (B), and one target, the only unit in district C. Two rows per unit.
    const lines = ["person,district,merchant,amount"];
    const unit = (id: string, district: string, merchant: string) => {
      for (let r = 0; r < 2; r++) lines.push(`${id},${district},${merchant},${10 + r}`);
    };
    for (let i = 0; i < 200; i++) unit(`p${i}`, i % 2 === 0 ? "A" : "B", BIG);
    for (let i = 0; i < K; i++) unit(`k${i}`, "A", EXACTLY_K);
    for (let i = 0; i < K - 1; i++) unit(`km${i}`, "B", K_MINUS_1);
    unit("target", "C", BIG);
    const ds = await ex.services.datasets.createDataset(ids.owner!, { name: "shop visits" });
    datasetId = ds._id;
    await ex.services.datasets.uploadVersion(ids.owner!, ds._id, {
      source: Readable.from([Buffer.from(lines.join("\n") + "\n")]),
      format: "csv",
      filename: "visits.csv",
    });
    const listing = await ex.services.catalog.createListing(ids.owner!, {
      datasetId,
      title: { zh: "商户到访", en: "Shop visits" },
      description: { zh: "按商户统计到访", en: "Visits by shop" },
      category: "RETAIL",
      licence: "CC BY-NC 4.0",
      permittedUse: "研究",
      pricePlan: { perQueryFee: 10, pricePerEpsilon: 100 },
      instantAccess: true,
    });
    // The policy is declared through the API (below) before the listing is published.
    const declared = await ex.gql(
      DECLARE,
      {
        input: {
          datasetId: gid("Dataset", datasetId),
          privacyUnit: "person",
          dimensions: [
            { column: "district", keys: ["A", "B", "C"] },
            { column: "merchant", derivedKeys: true },
          ],
          measures: [{ column: "amount", lo: 0, hi: 100 }],
          aggregates: ["COUNT_UNITS", "COUNT_ROWS", "SUM"],
          minGroupSize: K,
          epsilonPerQuery: 1,
          buyerEpsilonBudget: 3,
          datasetEpsilonBudget: 50,
          maxRowsPerUnit: 5,
        },
      },
      tokens.owner,
    );
    expect(declared.body.data?.declarePrivacyPolicy.__typename, JSON.stringify(declared.body)).toBe("MutationDeclarePrivacyPolicySuccess");
    await ex.services.catalog.publish(ids.owner!, listing._id, false);
    listingGid = gid("Listing", listing._id);
    for (const b of ["analyst", "tracker"]) {
      await ex.services.access.request(ids[b]!, { listingId: listing._id, purpose: "消费研究 retail research" });
      await ex.services.billing.grantCredit(ids.admin!, ids[b]!, { amount: 100_000, idempotencyKey: `grant-${b}` });
    }
  });

  afterAll(async () => {
    await ex?.stop();
  });

  it("declares derived keys and maxRowsPerUnit through the API, validated, and reads them back", async () => {
    const read = await ex.gql(POLICY_READ, { id: gid("Dataset", datasetId) }, tokens.owner);
    expect(read.body.data.privacyPolicy.data).toEqual({
      version: 1,
      maxRowsPerUnit: 5,
      dimensions: [
        { column: "district", kind: "KEYS", derivedKeys: false },
        { column: "merchant", kind: "DERIVED_KEYS", derivedKeys: true },
      ],
    });
    const bad = await ex.gql(
      DECLARE,
      {
        input: {
          datasetId: gid("Dataset", datasetId),
          privacyUnit: "person",
          dimensions: [
            { column: "amount", derivedKeys: true },
            { column: "merchant", derivedKeys: true, keys: ["x"] },
          ],
          measures: [],
          aggregates: ["COUNT_UNITS"],
          maxRowsPerUnit: 0,
        },
      },
      tokens.owner,
    );
    const result = bad.body.data.declarePrivacyPolicy;
    expect(result.__typename).toBe("InvalidInput");
    expect(result.issues.map((i: { path: string }) => i.path).sort()).toEqual(["input.dimensions.1", "input.maxRowsPerUnit"]);
    const typeOnly = await ex.gql(
      DECLARE,
      {
        input: {
          datasetId: gid("Dataset", datasetId),
          privacyUnit: "person",
          dimensions: [{ column: "amount", derivedKeys: true }],
          measures: [],
          aggregates: ["COUNT_UNITS"],
        },
      },
      tokens.owner,
    );
    expect(typeOnly.body.data.declarePrivacyPolicy.issues).toEqual([
      { path: "input.dimensions.0.derivedKeys", message: "data-derived keys are for string columns; amount is int: declare edges instead" },
    ]);
    expect((await ex.services.policies.current(datasetId))!.version).toBe(1); // nothing changed
  });

  it("quotes the threshold: its own ε share, τ and δ ≤ 1e-7", async () => {
    const q = await ex.gql(
      QUOTE,
      { input: { listingId: listingGid, groupBy: ["merchant"], aggregates: [{ kind: "COUNT_UNITS" }], epsilon: "1" } },
      tokens.analyst,
    );
    const data = q.body.data?.quoteQuery.data;
    expect(data, JSON.stringify(q.body)).toBeDefined();
    expect(data.statistics.map((s: { kind: string }) => s.kind)).toEqual(["COUNT_UNITS", "GROUP_THRESHOLD"]);
    expect(data.statistics.map((s: { epsilon: number }) => s.epsilon)).toEqual([0.5, 0.5]);
    expect(data.delta).toBe(1e-7);
    // t = Δ/ε = 1/0.5 = 2; τ = k + ⌈2·ln(1/1e-7)⌉ = 5 + 33
    expect(data.groupThreshold).toMatchObject({
      minGroupSize: K,
      tau: K + Math.ceil(2 * Math.log(1e7)),
      delta: 1e-7,
      deltaPerGroup: 1e-7,
      epsilon: 0.5,
    });
    const publicOnly = await ex.gql(
      QUOTE,
      { input: { listingId: listingGid, groupBy: ["district"], aggregates: [{ kind: "COUNT_UNITS" }] } },
      tokens.analyst,
    );
    expect(publicOnly.body.data.quoteQuery.data).toMatchObject({ delta: 0, groupThreshold: null });
  });

  it("releases derived groups only above the threshold: k − 1 never, exactly k not in practice, big always", async () => {
    // Five runs at different ε (each a new query, fresh noise): the budget is per buyer, so two buyers.
    // At ε 0.5 (t = 4, τ = 5 + 65) BIG's 201 units are still far above τ.
    const seen: string[][] = [];
    for (const [who, epsilon] of [
      ["analyst", "1"],
      ["analyst", "0.9"],
      ["analyst", "0.8"],
      ["tracker", "0.6"],
      ["tracker", "0.5"],
    ] as const) {
      const r = await run({ groupBy: ["merchant"], aggregates: [{ kind: "COUNT_UNITS" }], epsilon }, who);
      const data = r.body.data?.runQuery.data;
      expect(data, JSON.stringify(r.body)).toBeDefined();
      expect(data.delta).toBe(1e-7);
      seen.push(data.groups.map((g: { key: Array<{ value: string }> }) => g.key[0]!.value));
      for (const g of data.groups) expect(Number.isInteger(g.values[0].value)).toBe(true);
    }
    // K_MINUS_1 can never appear; EXACTLY_K could, with probability ≤ 1e-7 per run.
    expect(seen).toEqual([[BIG], [BIG], [BIG], [BIG], [BIG]]);
  });

  it("mixes public and derived keys, and accepts any string (but only strings) in an `in` filter on a derived-keys column", async () => {
    const mixed = await run(
      { groupBy: ["district", "merchant"], aggregates: [{ kind: "COUNT_UNITS" }, { kind: "SUM", column: "amount" }], epsilon: "1" },
      "tracker",
    );
    const data = mixed.body.data?.runQuery.data;
    expect(data, JSON.stringify(mixed.body)).toBeDefined();
    // (A, BIG) and (B, BIG) have 100 units each; (C, BIG) is the lone target; the small shops stay hidden.
    expect(data.groups.map((g: { key: Array<{ value: string }> }) => g.key.map((k) => k.value))).toEqual([
      ["A", BIG],
      ["B", BIG],
    ]);
    expect(data.groups[0].values.map((v: { kind: string }) => v.kind)).toEqual(["COUNT_UNITS", "SUM"]);

    const filtered = await ex.gql(
      QUOTE,
      {
        input: {
          listingId: listingGid,
          filters: [{ column: "merchant", in: ["没有这个商户", BIG] }],
          aggregates: [{ kind: "COUNT_UNITS" }],
          epsilon: "0.1",
        },
      },
      tokens.analyst,
    );
    expect(filtered.body.data.quoteQuery.__typename, JSON.stringify(filtered.body)).toBe("QueryQuoteQuerySuccess");
    const ran = await run(
      { filters: [{ column: "merchant", in: ["没有这个商户", BIG] }], aggregates: [{ kind: "COUNT_UNITS" }], epsilon: "0.1" },
      "tracker",
    );
    expect(ran.body.data?.runQuery.__typename, JSON.stringify(ran.body)).toBe("MutationRunQuerySuccess");
    // The audit log keeps the query, but the buyer's strings for a derived-keys column only as a hash.
    const events = await ex.services.audit.findEntries({ action: "query.executed" }, 100);
    const entry = events.items.map((e) => e.entry).find((e) => e.includes(ran.body.data.runQuery.data.queryId))!;
    expect(entry).toContain('"inSha256"');
    expect(entry).not.toContain("没有这个商户");
    const numeric = await ex.gql(
      QUOTE,
      { input: { listingId: listingGid, filters: [{ column: "merchant", in: [3] }], aggregates: [{ kind: "COUNT_UNITS" }] } },
      tokens.analyst,
    );
    expect(numeric.body.data.quoteQuery).toMatchObject({ rule: "BAD_FILTER", path: "input.filters[0].values" });
  });

  it("will not sell a version whose derived-keys column outgrew the limit; the owner is told why, buyers never see the count", async () => {
    // Version 1 fits the policy; version 2 has 1001 distinct shops.
    const small = ["person,merchant", "p1,a", "p2,b"].join("\n") + "\n";
    const large = ["person,merchant", ...Array.from({ length: 1001 }, (_, i) => `p${i},shop-${i}`)].join("\n") + "\n";
    const ds = await ex.services.datasets.createDataset(ids.owner!, { name: "many shops" });
    await ex.services.datasets.uploadVersion(ids.owner!, ds._id, { source: Readable.from([Buffer.from(small)]), format: "csv", filename: "v1.csv" });
    const policy = {
      datasetId: ds._id,
      privacyUnit: "person",
      dimensions: [{ column: "merchant", derivedKeys: true }],
      measures: [],
      aggregates: ["COUNT_UNITS" as const],
      epsilonPerQuery: 1,
    };
    await ex.services.policies.declare(ids.owner!, policy);
    await ex.services.datasets.uploadVersion(ids.owner!, ds._id, { source: Readable.from([Buffer.from(large)]), format: "csv", filename: "v2.csv" });
    const listingOn = (version: number) =>
      ex.services.catalog.createListing(ids.owner!, {
        datasetId: ds._id,
        datasetVersion: version,
        title: { zh: "商户", en: "Shops" },
        description: { zh: "商户", en: "Shops" },
        category: "RETAIL",
        licence: "CC BY-NC 4.0",
        permittedUse: "研究",
        pricePlan: { perQueryFee: 0, pricePerEpsilon: 0 },
        instantAccess: true,
      });
    const tooMany =
      "column merchant has 1001 distinct values in dataset version 2; data-derived keys allow at most 1000: declare a public key set instead";
    // Publishing version 2 is refused, and the owner (who may see the statistics) is told the count.
    const onV2 = await listingOn(2);
    await expect(ex.services.catalog.publish(ids.owner!, onV2._id, false)).rejects.toMatchObject({
      issues: [{ path: "policy.dimensions.0.derivedKeys", message: tooMany }],
    });
    // Version 1 sells; moving the published listing to version 2 is refused the same way.
    const onV1 = await listingOn(1);
    await ex.services.catalog.publish(ids.owner!, onV1._id, false);
    await expect(ex.services.catalog.updateListing(ids.owner!, onV1._id, { datasetVersion: 2 })).rejects.toMatchObject({
      issues: [{ message: tooMany }],
    });
    await account("shopper", ["BUYER"]);
    await ex.services.access.request(ids.shopper!, { listingId: onV1._id, purpose: "研究 research" });
    const quote = (input: Record<string, unknown>) => ex.gql(QUOTE, { input: { listingId: gid("Listing", onV1._id), ...input } }, tokens.shopper);
    const grouped = await quote({ groupBy: ["merchant"], aggregates: [{ kind: "COUNT_UNITS" }] });
    expect(grouped.body.data.quoteQuery.__typename, JSON.stringify(grouped.body)).toBe("QueryQuoteQuerySuccess");
    expect((await quote({ groupBy: ["merchant"], aggregates: [{ kind: "SUM", column: "merchant" }] })).body.data.quoteQuery.rule).toBe(
      "AGGREGATE_NOT_ALLOWED",
    );
    // Re-declaring against version 2 tells the owner too.
    const redeclare = await ex.gql(
      DECLARE,
      {
        input: {
          datasetId: gid("Dataset", ds._id),
          checkAgainstVersion: 2,
          privacyUnit: "person",
          dimensions: [{ column: "merchant", derivedKeys: true }],
          measures: [],
          aggregates: ["COUNT_UNITS"],
        },
      },
      tokens.owner,
    );
    expect(redeclare.body.data.declarePrivacyPolicy.issues).toEqual([{ path: "input.dimensions.0.derivedKeys", message: tooMany }]);
  });

  it("a differencing pair: both noised and charged, the repeat cached for free, a changed repeat charged, then refused at the cap", async () => {
    // A new buyer so the cap arithmetic starts at zero.
    await account("attacker", ["BUYER"]);
    const listingId = Buffer.from(listingGid, "base64").toString().split(":")[1]!;
    await ex.services.access.request(ids.attacker!, { listingId, purpose: "差分攻击 differencing" });
    await ex.services.billing.grantCredit(ids.admin!, ids.attacker!, { amount: 100_000, idempotencyKey: "grant-attacker" });
    const Q1 = { aggregates: [{ kind: "COUNT_UNITS" }], epsilon: "1" };
    const Q2 = { ...Q1, filters: [{ column: "district", in: ["A", "B"] }] }; // excludes exactly the target
    const value = (r: { body: any }) => r.body.data.runQuery.data.groups[0].values[0].value as number;

    const r1 = await run(Q1, "attacker", "q1");
    const r2 = await run(Q2, "attacker", "q2");
    for (const r of [r1, r2]) {
      expect(r.body.data?.runQuery.__typename, JSON.stringify(r.body)).toBe("MutationRunQuerySuccess");
      expect(r.body.data.runQuery.data).toMatchObject({ cached: false, delta: 0 });
      expect(Number.isInteger(value(r))).toBe(true);
    }
    expect(r1.body.data.runQuery.data.charged.amount).toBeGreaterThan(0);
    expect(r2.body.data.runQuery.data.charged.amount).toBeGreaterThan(0);
    // The ledger shows both debits, each at its ε.
    const outcomes = await ex.services.privacyBudget.ledger.outcomes.find({ buyerId: ids.attacker!, datasetId }, { limit: 10 });
    expect(outcomes.items.map((o) => [o.state, o.epsilonMicro]).sort()).toEqual([
      ["debited", 1_000_000],
      ["debited", 1_000_000],
    ]);
    expect(new Set(outcomes.items.map((o) => o.queryId))).toEqual(new Set([r1.body.data.runQuery.data.queryId, r2.body.data.runQuery.data.queryId]));
    // Both queries are in the audit log; a public key filter is kept as asked.
    const events = await ex.services.audit.findEntries({ action: "query.executed" }, 100);
    const q2Entry = events.items.map((e) => e.entry).find((e) => e.includes(r2.body.data.runQuery.data.queryId))!;
    expect(q2Entry).toContain('"in":["A","B"]');

    // The identical repeat is answered from cache: the same number, no ε, no charge.
    const again = await run(Q1, "attacker");
    expect(again.body.data.runQuery.data).toMatchObject({ cached: true, charged: null });
    expect(value(again)).toBe(value(r1));
    expect((await ex.services.privacyBudget.remaining({ buyerId: ids.attacker!, datasetId }, null)).buyer.spentMicro).toBe(2_000_000);

    // A slightly changed repeat (another ε) is a new query: fresh noise, ε charged again.
    const changed = await run({ ...Q2, epsilon: "0.9" }, "attacker");
    expect(changed.body.data.runQuery.data, JSON.stringify(changed.body)).toMatchObject({ cached: false });
    expect((await ex.services.privacyBudget.remaining({ buyerId: ids.attacker!, datasetId }, null)).buyer.spentMicro).toBe(2_900_000);

    // The cap (3) is nearly reached: another pair is refused, nothing is spent or charged.
    const credit = (await ex.services.billing.credit(ids.attacker!)).available;
    const refused1 = await run({ ...Q1, epsilon: "0.5" }, "attacker");
    const refused2 = await run({ ...Q2, epsilon: "0.5" }, "attacker");
    for (const r of [refused1, refused2])
      expect(r.body.data.runQuery).toMatchObject({ __typename: "PolicyViolation", rule: "BUDGET_TOO_SMALL", path: "input.epsilon" });
    expect((await ex.services.privacyBudget.remaining({ buyerId: ids.attacker!, datasetId }, null)).buyer.spentMicro).toBe(2_900_000);
    expect((await ex.services.billing.credit(ids.attacker!)).available).toBe(credit);
    // What was already answered stays answerable from cache, at no ε.
    const cached = await run(Q2, "attacker");
    expect(cached.body.data.runQuery.data).toMatchObject({ cached: true });
    expect(value(cached)).toBe(value(r2));
  });
});
