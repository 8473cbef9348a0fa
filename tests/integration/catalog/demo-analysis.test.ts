/** The demo buyer's seeded analysis: approved, and runnable at once on the seeded taxi listing. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { availableAdapters, startTestExchange, type TestExchange } from "../../support/exchange.ts";
import { seedDemoDatasets } from "../../../seed/datasets.ts";
import { seedDemoListings } from "../../../seed/demo-listings.ts";
import { seedDemoAnalysis } from "../../../seed/demo-analysis.ts";

describe.each(availableAdapters())("demo analysis on %s", (adapter) => {
  let ex: TestExchange;
  beforeAll(async () => {
    ex = await startTestExchange(adapter, { ANALYSIS_RELEASE_BASE_MS: "200", ANALYSIS_RELEASE_MS_PER_1000_ROWS: "0" });
  });
  afterAll(async () => {
    await ex?.stop();
  });

  it("is approved for the demo buyer, who can quote and run it on the seeded taxi trips", async () => {
    const owner = await ex.services.accounts.createAccount("owner@demo.test", "Correct-Horse-42", ["OWNER"]);
    const buyer = await ex.services.accounts.createAccount("buyer@demo.test", "Correct-Horse-42", ["BUYER"]);
    const admin = await ex.services.accounts.createAccount("admin@demo.test", "Correct-Horse-42", ["ADMIN"]);
    const seeded = (await seedDemoDatasets(ex.services, owner._id, { rows: 2000 })).filter((d) => d.key === "taxi_trips");
    const [taxiListingId] = await seedDemoListings(ex.services, owner._id, seeded);
    const { analysisId } = await seedDemoAnalysis(ex.services, {
      ownerId: owner._id,
      buyerId: buyer._id,
      adminId: admin._id,
      taxiListingId: taxiListingId!,
    });
    const a = await ex.services.analyses.get(analysisId, buyer._id);
    expect(a).toMatchObject({ status: "APPROVED", approvedRevision: 1 });
    const quote = await ex.services.analysisRuns.quote(buyer._id, { analysisId });
    expect(quote.rowsPriced).toBe(2000);
    const run = await ex.services.analysisRuns.run(buyer._id, { analysisId, epsilon: "0.1" });
    expect(run.outputs.map((o) => o.name)).toEqual(["trips", "fare_yuan", "distance_km"]);
    expect(run.charged?.amount).toBe(quote.price!.amount);
  });
});
