/** The demo listings' policies fit the demo datasets as ingestion types them, on every adapter. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { availableAdapters, startTestExchange, type TestExchange } from "../../support/exchange.ts";
import { seedDemoDatasets } from "../../../seed/datasets.ts";
import { DEMO_LISTINGS, seedDemoListings } from "../../../seed/demo-listings.ts";

describe.each(availableAdapters())("demo listings on %s", (adapter) => {
  let ex: TestExchange;
  beforeAll(async () => {
    ex = await startTestExchange(adapter);
  });
  afterAll(async () => {
    await ex?.stop();
  });

  it("declares a policy and publishes a listing, findable by its Chinese title, over every demo dataset", async () => {
    const owner = await ex.services.accounts.createAccount("owner@demo.test", "Correct-Horse-42", ["OWNER"]);
    const seeded = await seedDemoDatasets(ex.services, owner._id, { rows: 2000 });
    // Every demo dataset gets a listing: a generator without a spec fails here.
    expect(seeded.map((d) => d.key).filter((k) => !DEMO_LISTINGS[k])).toEqual([]);
    const ids = await seedDemoListings(ex.services, owner._id, seeded);
    expect(ids.length).toBe(seeded.length);
    for (const d of seeded) {
      const spec = DEMO_LISTINGS[d.key]!;
      const found = await ex.services.catalog.search({ query: spec.listing.title.zh ?? "", first: 5 });
      expect(found.hits[0]?.listing.title.en).toBe(spec.listing.title.en);
      expect(found.hits[0]?.listing.status).toBe("PUBLISHED");
    }
    const taxi = await ex.services.catalog.search({ query: "出租车", first: 5 });
    expect(taxi.hits.map((h) => h.listing.title.en)).toEqual([DEMO_LISTINGS["taxi_trips"]!.listing.title.en]);
  });
});
