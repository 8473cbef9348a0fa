/**
 * Policies, listings, catalog search and access requests at the service level, on every store
 * adapter pair (SQLite + files, MongoDB + GridFS), with a real audit log and the real
 * DatasetsService: every dataset is a small CSV / NDJSON file uploaded through its ingest path.
 * The HTTP suite (tests/e2e/catalog.test.ts) covers the API end to end.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { useStore } from "../../support/stores.ts";
import { openTestAuditLog } from "../../support/audit.ts";
import { storePairs, uploadCsvDataset, uploadVersion, useDatasetsService, type StorePair } from "../../support/datasets.ts";
import { PrivacyPolicyService } from "../../../src/privacy/policy/service.ts";
import { CatalogService } from "../../../src/catalog/service.ts";
import { AccessService } from "../../../src/access/service.ts";
import { versionsInUse } from "../../../src/exchange/ports.ts";
import type { AuditLog } from "../../../src/audit/service.ts";
import type { DatasetSchema } from "../../../src/datasets/model.ts";
import { InvalidInput, NotFound } from "../../../src/errors.ts";
import { BudgetBelowSpent } from "../../../src/privacy/policy/errors.ts";
import { ListingStatusConflict, PolicyRequired } from "../../../src/catalog/errors.ts";
import { AccessRequestConflict } from "../../../src/access/errors.ts";
import type { CreateListingInput } from "../../../src/catalog/listing-input.ts";
import type { SearchRequest } from "../../../src/catalog/service.ts";

const taxiSchema: DatasetSchema = {
  columns: [
    { name: "vehicle_id", type: "string", nullable: false },
    { name: "district", type: "string", nullable: false },
    { name: "hour", type: "int", nullable: false },
    { name: "fare", type: "float", nullable: false },
  ],
};

const DISTRICTS = ["朝阳", "海淀", "东城"];

/** A taxi-trips CSV of `rows` rows whose inferred schema is taxiSchema (every fare has a fraction, so it is a float). */
function* taxiCsv(rows: number): Generator<string> {
  yield "vehicle_id,district,hour,fare\n";
  for (let i = 0; i < rows; i++) yield `v${String(i % 997).padStart(4, "0")},${DISTRICTS[i % 3]},${i % 24},${(i % 480) + 0.5}\n`;
}

const taxiPolicy = {
  privacyUnit: "vehicle_id",
  dimensions: [
    { column: "district", keys: ["朝阳", "海淀", "东城"] },
    { column: "hour", edges: [0, 6, 12, 18, 24] },
  ],
  measures: [{ column: "fare", lo: 0, hi: 500 }],
  aggregates: ["COUNT_UNITS", "COUNT_ROWS", "SUM", "AVG"] as Array<"COUNT_UNITS" | "COUNT_ROWS" | "SUM" | "AVG">,
};

function listingInput(datasetId: string, over: Partial<CreateListingInput> = {}): CreateListingInput {
  return {
    datasetId,
    title: { zh: "北京出租车行程", en: "Beijing taxi trips" },
    description: { zh: "按区和小时统计的出租车行程。", en: "Taxi trips by district and hour." },
    tags: ["交通", "Taxi"],
    category: "TRANSPORT",
    licence: "CC BY-NC 4.0",
    permittedUse: "城市规划研究 / urban planning research",
    pricePlan: { perQueryFee: 200, pricePerEpsilon: 1000 },
    ...over,
  };
}

/** The event's data, as hashed into the log. */
function dataOf(e: { entry: string }): Record<string, unknown> {
  return (JSON.parse(e.entry) as { data: Record<string, unknown> }).data;
}

async function expectError<E>(p: Promise<unknown>, cls: new (...args: never[]) => E): Promise<E> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(cls);
  return e as E;
}

describe.each(storePairs())("catalog services on $name", (pair: StorePair) => {
  const store = useStore(pair.documents);
  const blobs = useStore(pair.blobs);
  let svc: { policies: PrivacyPolicyService; catalog: CatalogService; access: AccessService };
  let audit: AuditLog;
  const spent = { dataset: 0, maxPerBuyer: 0 };
  const OWNER = "acc_owner";
  const OTHER = "acc_other";
  const BUYER = "acc_buyer";
  const ADMIN = "acc_admin";

  beforeAll(async () => {
    audit = await openTestAuditLog(store());
  });
  const datasets = useDatasetsService(store, blobs, () => audit);
  beforeAll(async () => {
    // The three services as the composition root builds them, with the budget's spend given by the test.
    const policies = await PrivacyPolicyService.open(store(), {
      audit,
      datasets: datasets(),
      spent: { spent: async () => spent },
      versionsInUse: versionsInUse(() => catalog),
    });
    const catalog = await CatalogService.open(store(), { audit, datasets: datasets(), policies });
    const access = await AccessService.open(store(), { audit, catalog });
    svc = { policies, catalog, access };
  });

  /** A dataset of `ownerId` whose version 1 is `rows` taxi trips, uploaded as CSV. */
  async function addTaxiDataset(ownerId: string, rows: number): Promise<{ datasetId: string; version: number }> {
    const { datasetId, version } = await uploadCsvDataset(datasets(), ownerId, taxiCsv(rows));
    expect(version.schema).toEqual(taxiSchema);
    expect(version.rowCount).toBe(rows);
    return { datasetId, version: version.version };
  }

  describe("privacy policies", () => {
    it("declares a policy with defaults, versions every change, and audits each", async () => {
      const { datasetId } = await addTaxiDataset(OWNER, 12_345);
      const v1 = await svc.policies.declare(OWNER, { datasetId, ...taxiPolicy });
      expect(v1).toMatchObject({
        version: 1,
        minGroupSize: 10,
        epsilonPerQuery: 0.1,
        buyerEpsilonBudget: 2,
        datasetEpsilonBudget: 10,
        maxGroupsPerUnit: 1,
      });
      const v2 = await svc.policies.declare(OWNER, { datasetId, ...taxiPolicy, minGroupSize: 20, note: "stricter" });
      expect(v2.version).toBe(2);
      expect((await svc.policies.current(datasetId))!.minGroupSize).toBe(20);
      expect((await svc.policies.version(datasetId, 1))!.minGroupSize).toBe(10);
      const events = await audit.findEntries({ action: "dataset.policy_changed", "subject.datasetId": datasetId }, 10);
      expect(events.items.map((e) => e.subject["policyId"])).toEqual([v1._id, v2._id]);
      expect(dataOf(events.items[0]!)["policyHash"]).toMatch(/^[0-9a-f]{64}$/);
    });

    it("gives another owner the same NotFound as a dataset that does not exist", async () => {
      const { datasetId } = await addTaxiDataset(OWNER, 100);
      const a = await expectError(svc.policies.declare(OTHER, { datasetId, ...taxiPolicy }), NotFound);
      const b = await expectError(svc.policies.declare(OTHER, { datasetId: "ds_nope", ...taxiPolicy }), NotFound);
      expect(a.message).toBe(b.message);
    });

    it("refuses bad input with the field and rule, and changes nothing", async () => {
      const { datasetId } = await addTaxiDataset(OWNER, 100);
      await svc.policies.declare(OWNER, { datasetId, ...taxiPolicy });
      const bad = await expectError(
        svc.policies.declare(OWNER, { datasetId, ...taxiPolicy, measures: [{ column: "fare", lo: 9, hi: 1 }], epsilonPerQuery: 3 }),
        InvalidInput,
      );
      expect(bad.issues).toEqual(
        expect.arrayContaining([
          { path: "input.measures.0.hi", message: "hi must be greater than lo" },
          { path: "input.epsilonPerQuery", message: "must be at most 1" },
        ]),
      );
      const schemaBad = await expectError(svc.policies.declare(OWNER, { datasetId, ...taxiPolicy, privacyUnit: "driver" }), InvalidInput);
      expect(schemaBad.issues[0]).toEqual({ path: "input.privacyUnit", message: 'no column named "driver" in dataset version 1' });
      expect((await svc.policies.current(datasetId))!.version).toBe(1);
    });

    it("never lowers a budget below what was spent", async () => {
      const { datasetId } = await addTaxiDataset(OWNER, 100);
      await svc.policies.declare(OWNER, { datasetId, ...taxiPolicy, buyerEpsilonBudget: 3, datasetEpsilonBudget: 10 });
      spent.maxPerBuyer = 2.5;
      spent.dataset = 7;
      try {
        const buyer = await expectError(svc.policies.declare(OWNER, { datasetId, ...taxiPolicy, buyerEpsilonBudget: 2 }), BudgetBelowSpent);
        expect(buyer).toMatchObject({ field: "buyerEpsilonBudget", requested: 2, spent: 2.5 });
        const global = await expectError(
          svc.policies.declare(OWNER, { datasetId, ...taxiPolicy, buyerEpsilonBudget: 3, datasetEpsilonBudget: 6 }),
          BudgetBelowSpent,
        );
        expect(global).toMatchObject({ field: "datasetEpsilonBudget", spent: 7 });
        expect((await svc.policies.current(datasetId))!.version).toBe(1);
        // Raising (or keeping at or above the spend) is fine.
        expect((await svc.policies.declare(OWNER, { datasetId, ...taxiPolicy, buyerEpsilonBudget: 2.5, datasetEpsilonBudget: 7 })).version).toBe(2);
      } finally {
        spent.maxPerBuyer = 0;
        spent.dataset = 0;
      }
    });

    it("gives concurrent changes distinct versions", async () => {
      const { datasetId } = await addTaxiDataset(OWNER, 100);
      const made = await Promise.all([1, 2, 3, 4].map((k) => svc.policies.declare(OWNER, { datasetId, ...taxiPolicy, minGroupSize: 10 + k })));
      expect(made.map((p) => p.version).sort()).toEqual([1, 2, 3, 4]);
    });
  });

  describe("listings", () => {
    it("creates a draft, refuses to publish without a policy, publishes once one fits", async () => {
      const { datasetId } = await addTaxiDataset(OWNER, 12_345);
      const draft = await svc.catalog.createListing(OWNER, listingInput(datasetId));
      expect(draft).toMatchObject({ status: "DRAFT", datasetVersion: 1, publishedAt: "", free: false });
      expect(draft.pricePlan).toMatchObject({ currency: "cny", perQueryFee: 200, pricePerEpsilon: 1000, pricePerMillionRows: 0 });
      expect(draft.indicativeQueryPrice).toBe(300); // 200 + 1000 × 0.1
      await expectError(svc.catalog.publish(OWNER, draft._id, false), PolicyRequired);
      await svc.policies.declare(OWNER, { datasetId, ...taxiPolicy });
      const published = await svc.catalog.publish(OWNER, draft._id, false);
      expect(published.status).toBe("PUBLISHED");
      expect(published.publishedAt).not.toBe("");
      const view = await svc.catalog.buyerView(published);
      // No size declared: buyers see none (and no type the owner did not declare).
      expect(view.columns.every((c) => c.type === null)).toBe(true);
      expect(view.sampleRows.length).toBe(5);
      const events = await audit.findEntries({ action: "listing.state_changed", "subject.listingId": draft._id }, 10);
      expect(events.items.map((e) => [dataOf(e)["from"], dataOf(e)["to"]])).toEqual([
        [null, "DRAFT"],
        ["DRAFT", "PUBLISHED"],
      ]);
    });

    it("refuses a policy that no longer fits the version a published listing moves to", async () => {
      const { datasetId } = await addTaxiDataset(OWNER, 100);
      await svc.policies.declare(OWNER, { datasetId, ...taxiPolicy });
      const l = await svc.catalog.publish(OWNER, (await svc.catalog.createListing(OWNER, listingInput(datasetId)))._id, false);
      // Version 2 drops the fare column.
      const csv = [
        "vehicle_id,district,hour",
        ...Array.from({ length: 100 }, (_, i) => `v${String(i).padStart(4, "0")},${DISTRICTS[i % 3]},${i % 24}`),
      ].join("\n");
      const uploaded = await uploadVersion(datasets(), OWNER, datasetId, csv);
      expect(uploaded.schema).toEqual({ columns: taxiSchema.columns.filter((c) => c.name !== "fare") });
      const v2 = uploaded.version;
      const e = await expectError(svc.catalog.updateListing(OWNER, l._id, { datasetVersion: v2 }), InvalidInput);
      expect(e.issues[0]).toEqual({ path: "policy.measures.0.column", message: 'no column named "fare" in dataset version 2' });
      expect((await svc.catalog.findListing(l._id))!.datasetVersion).toBe(1);
    });

    it("refuses a policy change that would not fit the version a published listing sells", async () => {
      const { datasetId } = await addTaxiDataset(OWNER, 100);
      await svc.policies.declare(OWNER, { datasetId, ...taxiPolicy });
      await svc.catalog.publish(OWNER, (await svc.catalog.createListing(OWNER, listingInput(datasetId)))._id, false);
      // Version 2 (NDJSON) adds a tip column.
      const ndjson = Array.from({ length: 100 }, (_, i) =>
        JSON.stringify({
          vehicle_id: `v${String(i).padStart(4, "0")}`,
          district: DISTRICTS[i % 3],
          hour: i % 24,
          fare: i + 0.5,
          tip: (i % 10) + 0.25,
        }),
      ).join("\n");
      const v2 = await uploadVersion(datasets(), OWNER, datasetId, ndjson, "ndjson");
      expect(v2).toMatchObject({
        version: 2,
        sourceFormat: "ndjson",
        schema: { columns: [...taxiSchema.columns, { name: "tip", type: "float", nullable: false }] },
      });
      const withTip = { ...taxiPolicy, measures: [...taxiPolicy.measures, { column: "tip", lo: 0, hi: 50 }] };
      const e = await expectError(svc.policies.declare(OWNER, { datasetId, ...withTip }), InvalidInput);
      expect(e.issues[0]).toEqual({
        path: "input.measures.1.column",
        message: 'no column named "tip" in dataset version 1 (a published listing sells version 1)',
      });
      expect((await svc.policies.current(datasetId))!.version).toBe(1);
    });

    it("edits a listing: a new price plan is audited; bad edits change nothing", async () => {
      // Rows are priced at the size the owner declared public, never at the real count.
      const { datasetId } = await addTaxiDataset(OWNER, 1_000);
      const undeclared = await svc.catalog.createListing(OWNER, listingInput(datasetId, { pricePlan: { pricePerMillionRows: 50 } }));
      expect(undeclared.indicativeQueryPrice).toBe(0); // no size declared: no rows to price
      await svc.policies.declare(OWNER, { datasetId, ...taxiPolicy, publicFacts: { size: { bucket: "UP_TO_10K" } } });
      const l = await svc.catalog.createListing(OWNER, listingInput(datasetId, { pricePlan: { pricePerMillionRows: 10_000 } }));
      expect(l.indicativeQueryPrice).toBe(100); // 10 000 per million rows × the bucket's bound of 10 000
      const lying = await expectError(
        svc.policies.declare(OWNER, { datasetId, ...taxiPolicy, publicFacts: { size: { exactRows: 999 } } }),
        InvalidInput,
      );
      // The owner is told the real count (owners may see exact figures); nothing changed.
      expect(lying.issues).toEqual([{ path: "input.publicFacts.size.exactRows", message: "dataset version 1 has 1000 rows" }]);
      expect((await svc.policies.current(datasetId))!.version).toBe(1);
      const bad = await expectError(
        svc.catalog.updateListing(OWNER, l._id, { tags: Array.from({ length: 21 }, (_, i) => `t${i}`), licence: "" }),
        InvalidInput,
      );
      expect(bad.issues.map((i) => i.path).sort()).toEqual(["input.licence", "input.tags"]);
      expect((await svc.catalog.findListing(l._id))!._v).toBe(l._v);
      const edited = await svc.catalog.updateListing(OWNER, l._id, {
        title: { zh: "出租车行程（新）" },
        pricePlan: { perQueryFee: 1000, currency: "CNY" },
      });
      expect(edited).toMatchObject({
        title: { zh: "出租车行程（新）", en: "" },
        indicativeQueryPrice: 1000,
        pricePlan: { currency: "cny", pricePerMillionRows: 0 },
      });
      expect(edited.searchTerms).toContain("新");
      const events = await audit.findEntries({ action: "listing.state_changed", "subject.listingId": l._id }, 10);
      expect(events.items.map((e) => dataOf(e)["priceMinor"])).toEqual([100, 1000]);
    });

    it("refuses bad listing input field by field and creates nothing", async () => {
      const { datasetId } = await addTaxiDataset(OWNER, 100);
      const before = (await svc.catalog.listOwned(OWNER, 100)).items.length;
      const e = await expectError(
        svc.catalog.createListing(
          OWNER,
          listingInput(datasetId, { title: { zh: "", en: "" }, pricePlan: { perQueryFee: 1.5, subscription: { monthlyFee: 0 } } }),
        ),
        InvalidInput,
      );
      expect(e.issues.map((i) => i.path)).toEqual(expect.arrayContaining(["input.title"]));
      const price = await expectError(svc.catalog.createListing(OWNER, listingInput(datasetId, { pricePlan: { perQueryFee: 1.5 } })), InvalidInput);
      expect(price.issues[0]!.path).toBe("input.pricePlan.perQueryFee");
      expect(price.issues[0]!.message).toMatch(/whole number of minor units/);
      expect((await svc.catalog.listOwned(OWNER, 100)).items.length).toBe(before);
    });

    it("shows drafts only to their owner and admins; other owners get NotFound", async () => {
      const { datasetId } = await addTaxiDataset(OWNER, 100);
      const draft = await svc.catalog.createListing(OWNER, listingInput(datasetId));
      await expect(svc.catalog.getListing(draft._id, { accountId: OWNER, admin: false })).resolves.toBeTruthy();
      await expect(svc.catalog.getListing(draft._id, { accountId: ADMIN, admin: true })).resolves.toBeTruthy();
      await expectError(svc.catalog.getListing(draft._id, { accountId: OTHER, admin: false }), NotFound);
      await expectError(svc.catalog.getListing(draft._id, { accountId: null, admin: false }), NotFound);
      await expectError(svc.catalog.updateListing(OTHER, draft._id, { licence: "mine now" }), NotFound);
      await expectError(svc.catalog.publish(OTHER, draft._id, false), NotFound);
      await expectError(svc.catalog.createListing(OTHER, listingInput(datasetId)), NotFound);
    });

    it("lets an admin suspend; then only an admin reinstates", async () => {
      const { datasetId } = await addTaxiDataset(OWNER, 100);
      await svc.policies.declare(OWNER, { datasetId, ...taxiPolicy });
      const l = await svc.catalog.publish(OWNER, (await svc.catalog.createListing(OWNER, listingInput(datasetId)))._id, false);
      await expectError(svc.catalog.suspend(ADMIN, l._id, "  ", true), InvalidInput);
      const s = await svc.catalog.suspend(ADMIN, l._id, "complaint under review", true);
      expect(s.status).toBe("SUSPENDED");
      expect(s.statusHistory.at(-1)).toMatchObject({ from: "PUBLISHED", to: "SUSPENDED", by: ADMIN, as: "ADMIN", reason: "complaint under review" });
      const conflict = await expectError(svc.catalog.publish(OWNER, l._id, false), ListingStatusConflict);
      expect(conflict.message).toMatch(/only an admin can reinstate/);
      await expectError(svc.catalog.getListing(l._id, { accountId: BUYER, admin: false }), NotFound);
      expect((await svc.catalog.publish(ADMIN, l._id, true)).status).toBe("PUBLISHED");
      await expectError(
        svc.catalog.suspend(OWNER, (await svc.catalog.createListing(OWNER, listingInput(datasetId)))._id, "x", false),
        ListingStatusConflict,
      );
    });

    it("applies one of two concurrent status changes", async () => {
      const { datasetId } = await addTaxiDataset(OWNER, 100);
      await svc.policies.declare(OWNER, { datasetId, ...taxiPolicy });
      const l = await svc.catalog.publish(OWNER, (await svc.catalog.createListing(OWNER, listingInput(datasetId)))._id, false);
      const results = await Promise.allSettled([svc.catalog.suspend(OWNER, l._id, "a", false), svc.catalog.suspend(ADMIN, l._id, "b", true)]);
      expect(results.filter((r) => r.status === "fulfilled").length).toBe(1);
      const after = (await svc.catalog.findListing(l._id))!;
      expect(after.statusHistory.filter((c) => c.to === "SUSPENDED").length).toBe(1);
    });
  });

  describe("catalog search", () => {
    const ids: Record<string, string> = {};
    beforeAll(async () => {
      const mk = async (key: string, over: Partial<CreateListingInput>, publish = true) => {
        const { datasetId } = await addTaxiDataset("acc_searchowner", 1000);
        await svc.policies.declare("acc_searchowner", { datasetId, ...taxiPolicy });
        const l = await svc.catalog.createListing("acc_searchowner", listingInput(datasetId, { ...over, tags: [...(over.tags ?? []), "demo-set"] }));
        ids[key] = publish ? (await svc.catalog.publish("acc_searchowner", l._id, false))._id : l._id;
      };
      await mk("air", {
        title: { zh: "城市空气质量监测", en: "City air quality readings" },
        description: { zh: "PM2.5 传感器读数", en: "" },
        category: "ENVIRONMENT",
        tags: ["环境", "sensors"],
        pricePlan: {},
      });
      await mk("taxi", {
        title: { zh: "上海出租车行程", en: "Shanghai taxi trips" },
        description: { zh: "", en: "Trips by district" },
        category: "TRANSPORT",
        tags: ["交通"],
        pricePlan: { perQueryFee: 500 },
      });
      await mk("hospital", {
        title: { zh: "医院门诊就诊", en: "Hospital outpatient visits" },
        description: { zh: "敏感数据，患者为隐私单位", en: "" },
        category: "HEALTH",
        pricePlan: { perQueryFee: 100, freeTier: { queries: 10 } },
      });
      await mk("credit", {
        title: { zh: "企业信用记录", en: "Enterprise credit records" },
        description: { zh: "", en: "Credit and taxi-free records" },
        category: "FINANCE",
        pricePlan: { perQueryFee: 2000 },
      });
      await mk("draftTaxi", { title: { zh: "出租车草稿", en: "Draft taxi" } }, false);
    });

    const search = (req: Omit<SearchRequest, "first"> & { first?: number }) => svc.catalog.search({ ...req, first: req.first ?? 20 });
    const idsOf = (r: Awaited<ReturnType<typeof search>>) => r.hits.map((h) => h.listing._id);

    it("finds a listing by a Chinese word in its title, and not drafts", async () => {
      const r = await search({ query: "出租车" });
      expect(idsOf(r)).toContain(ids["taxi"]);
      expect(idsOf(r)).not.toContain(ids["draftTaxi"]);
      expect(idsOf(r)).not.toContain(ids["air"]);
      expect(idsOf(await search({ query: "空气" }))).toEqual([ids["air"]]);
      expect(idsOf(await search({ query: "门诊" }))).toEqual([ids["hospital"]]);
    });

    it("finds English words case-insensitively, ranking title matches first", async () => {
      const r = await search({ query: "TAXI" });
      expect(idsOf(r)[0]).toBe(ids["taxi"]);
      expect(idsOf(r)).toContain(ids["credit"]); // "taxi-free" in its description
      expect(r.hits[0]!.score).toBeGreaterThan(r.hits.find((h) => h.listing._id === ids["credit"])!.score);
    });

    it("finds by tag and filters by category, tags, price range and free only", async () => {
      expect(idsOf(await search({ query: "sensors" }))).toEqual([ids["air"]]);
      const mine = (r: Awaited<ReturnType<typeof search>>) => idsOf(r).filter((id) => Object.values(ids).includes(id));
      expect(mine(await search({ category: "HEALTH" }))).toEqual([ids["hospital"]]);
      expect(mine(await search({ tags: ["交通"] }))).toEqual([ids["taxi"]]);
      expect(mine(await search({ freeOnly: true }))).toEqual([ids["air"]]);
      expect(mine(await search({ withFreeTier: true }))).toEqual([ids["hospital"]]);
      expect(mine(await search({ minPrice: 100, maxPrice: 600, sort: "PRICE_ASC" }))).toEqual([ids["hospital"], ids["taxi"]]);
      expect(mine(await search({ sort: "PRICE_DESC" })).slice(0, 2)).toEqual([ids["credit"], ids["taxi"]]);
    });

    it("pages with cursors, with and without a text query, and refuses a cursor from another search", async () => {
      for (const query of [null, "Demo-Set"]) {
        const seen: string[] = [];
        let after: string | null = null;
        for (let i = 0; i < 20; i++) {
          const page: Awaited<ReturnType<typeof search>> = await search({ query, first: 1, after, sort: "NEWEST" });
          seen.push(...idsOf(page));
          if (!page.hasNextPage) break;
          after = page.hits.at(-1)!.cursor;
        }
        expect(new Set(seen).size).toBe(seen.length);
        for (const k of ["air", "taxi", "hospital", "credit"]) expect(seen).toContain(ids[k]);
      }
      const first = await search({ query: "taxi", first: 1 });
      await expectError(search({ first: 1, after: first.hits[0]!.cursor, sort: "NEWEST" }), InvalidInput);
      await expectError(search({ first: 1, after: "garbage" }), InvalidInput);
    });
  });

  describe("access requests", () => {
    let listingId: string;
    let instantId: string;
    let datasetId: string;
    beforeAll(async () => {
      datasetId = (await addTaxiDataset(OWNER, 100)).datasetId;
      await svc.policies.declare(OWNER, { datasetId, ...taxiPolicy });
      listingId = (await svc.catalog.publish(OWNER, (await svc.catalog.createListing(OWNER, listingInput(datasetId)))._id, false))._id;
      const instant = await svc.catalog.createListing(OWNER, listingInput(datasetId, { instantAccess: true }));
      instantId = (await svc.catalog.publish(OWNER, instant._id, false))._id;
    });

    it("runs request → deny (with reason) → request again → approve → entitlement → revoke", async () => {
      const purpose = "Studying late-night demand for urban planning.";
      const r1 = await svc.access.request(BUYER, { listingId, purpose });
      expect(r1).toMatchObject({ status: "PENDING", purpose, buyerId: BUYER, ownerId: OWNER, decision: null });
      expect(await svc.access.hasEntitlement(BUYER, { listingId })).toBe(false);
      const dup = await expectError(svc.access.request(BUYER, { listingId, purpose }), AccessRequestConflict);
      expect(dup.status).toBe("PENDING");
      const noReason = await expectError(svc.access.decide(OWNER, { requestId: r1._id, decision: "DENY" }), InvalidInput);
      expect(noReason.issues[0]!.path).toBe("input.reason");
      await expectError(svc.access.decide(OTHER, { requestId: r1._id, decision: "APPROVE" }), NotFound);
      const denied = await svc.access.decide(OWNER, { requestId: r1._id, decision: "DENY", reason: "purpose too vague" });
      expect(denied).toMatchObject({ status: "DENIED", decision: { by: OWNER, reason: "purpose too vague" } });
      await expectError(svc.access.decide(OWNER, { requestId: r1._id, decision: "APPROVE" }), AccessRequestConflict);

      const r2 = await svc.access.request(BUYER, { listingId, purpose: `${purpose} Aggregates by district only.` });
      const approved = await svc.access.decide(OWNER, { requestId: r2._id, decision: "APPROVE", reason: "ok" });
      expect(approved.status).toBe("APPROVED");
      expect(await svc.access.hasEntitlement(BUYER, { listingId })).toBe(true);
      expect(await svc.access.hasEntitlement(BUYER, { datasetId })).toBe(true);
      expect(await svc.access.hasEntitlement(OTHER, { listingId })).toBe(false);
      const again = await expectError(svc.access.request(BUYER, { listingId, purpose }), AccessRequestConflict);
      expect(again.status).toBe("APPROVED");

      const revoked = await svc.access.revoke(OWNER, { requestId: r2._id, reason: "terms breached" });
      expect(revoked).toMatchObject({ status: "REVOKED", revocation: { by: OWNER, reason: "terms breached" } });
      expect(await svc.access.hasEntitlement(BUYER, { listingId })).toBe(false);

      const decided = await audit.findEntries({ action: "access.decided", "subject.listingId": listingId }, 10);
      expect(decided.items.map((e) => dataOf(e)["decision"])).toEqual(["rejected", "approved", "revoked"]);
      const requested = await audit.findEntries({ action: "access.requested", "subject.requestId": r1._id }, 10);
      expect(dataOf(requested.items[0]!)["purpose"]).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(JSON.stringify(requested.items[0])).not.toContain("late-night");
    });

    it("approves at once on an instant-access listing, and stops entitling when the listing is suspended", async () => {
      const r = await svc.access.request("acc_buyer2", { listingId: instantId, purpose: "Benchmarking our routing model." });
      expect(r).toMatchObject({ status: "APPROVED", decision: { by: "system" } });
      expect(await svc.access.hasEntitlement("acc_buyer2", { listingId: instantId })).toBe(true);
      await svc.catalog.suspend(OWNER, instantId, "maintenance", false);
      expect(await svc.access.hasEntitlement("acc_buyer2", { listingId: instantId })).toBe(false);
      await expectError(svc.access.request("acc_buyer3", { listingId: instantId, purpose: "Benchmarking our routing model." }), NotFound);
      await svc.catalog.publish(OWNER, instantId, false);
      expect(await svc.access.hasEntitlement("acc_buyer2", { listingId: instantId })).toBe(true);
    });

    it("refuses a short purpose, an unpublished listing and the owner's own listing, creating nothing", async () => {
      const before = (await svc.access.listForBuyer("acc_buyer4", null, 100)).items.length;
      const short = await expectError(svc.access.request("acc_buyer4", { listingId, purpose: "hi" }), InvalidInput);
      expect(short.issues[0]!.path).toBe("input.purpose");
      await expectError(svc.access.request("acc_buyer4", { listingId: "lst_nope", purpose: "A long enough purpose." }), NotFound);
      await expectError(svc.access.request(OWNER, { listingId, purpose: "A long enough purpose." }), InvalidInput);
      expect((await svc.access.listForBuyer("acc_buyer4", null, 100)).items.length).toBe(before);
    });

    it("decides a request once when two decisions race", async () => {
      const r = await svc.access.request("acc_buyer5", { listingId, purpose: "Racing decisions in a test." });
      const results = await Promise.allSettled([
        svc.access.decide(OWNER, { requestId: r._id, decision: "APPROVE" }),
        svc.access.decide(OWNER, { requestId: r._id, decision: "DENY", reason: "no" }),
      ]);
      expect(results.filter((x) => x.status === "fulfilled").length).toBe(1);
      const events = await audit.findEntries({ action: "access.decided", "subject.requestId": r._id }, 10);
      expect(events.items.length).toBe(1);
    });

    it("lists requests for the buyer and for the owner", async () => {
      const mine = await svc.access.listForBuyer(BUYER, null, 100);
      expect(mine.items.every((r) => r.buyerId === BUYER)).toBe(true);
      const owners = await svc.access.listForOwner(OWNER, { status: "PENDING" }, 100);
      expect(owners.items.every((r) => r.ownerId === OWNER && r.status === "PENDING")).toBe(true);
      expect((await svc.access.listForOwner(OTHER, {}, 100)).items).toEqual([]);
    });
  });
});
