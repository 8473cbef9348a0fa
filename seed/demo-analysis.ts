/**
 * The demo buyer's starting point for custom code: access to the taxi listing (instant), demo
 * credit, and one analysis its owner has already reviewed and approved — so a newcomer can
 * `quoteAnalysis` / `runAnalysis` at once, and `reviseAnalysis` to see the review cycle.
 */
import type { Services } from "../src/exchange/index.ts";
import type { Logger } from "../src/logger.ts";

export const DEMO_ANALYSIS_SOURCE = `// One vehicle's trips in, one vector out: [trips, fare total, km total].
function map(rows) {
  let fare = 0, km = 0;
  for (const r of rows) {
    fare += r.fare_yuan ?? 0;
    km += r.distance_km ?? 0;
  }
  return [rows.length, fare, km];
}
`;

export interface SeededAnalysis {
  analysisId: string;
  listingId: string;
}

export async function seedDemoAnalysis(
  services: Services,
  ids: { ownerId: string; buyerId: string; adminId: string; taxiListingId: string },
  log?: Logger,
): Promise<SeededAnalysis> {
  await services.access.request(ids.buyerId, {
    listingId: ids.taxiListingId,
    purpose: "演示：各车辆的行程与车费分布 demo: trips and fares per vehicle",
  });
  await services.billing.grantCredit(ids.adminId, ids.buyerId, { amount: 100_000, idempotencyKey: "demo-buyer-credit" });
  const submitted = await services.analyses.submit(ids.buyerId, {
    listingId: ids.taxiListingId,
    title: "每辆车的行程、车费与里程 trips, fares and km per vehicle",
    source: DEMO_ANALYSIS_SOURCE,
    columns: ["fare_yuan", "distance_km"],
    outputs: [
      { name: "trips", lo: 0, hi: 100 },
      { name: "fare_yuan", lo: 0, hi: 20_000 },
      { name: "distance_km", lo: 0, hi: 5_000 },
    ],
  });
  await services.analyses.decide(ids.ownerId, {
    analysisId: submitted._id,
    codeHash: submitted.latestCodeHash,
    decision: "APPROVE",
    reason: "demo: reads fares and distances only",
  });
  log?.info({ analysisId: submitted._id }, "seeded demo analysis");
  return { analysisId: submitted._id, listingId: ids.taxiListingId };
}
