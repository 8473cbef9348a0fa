/** The demo datasets ingest through the real upload path with the types the listings expect, on every adapter. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { availableAdapters, startTestExchange, type TestExchange } from "../../support/exchange.ts";
import { seedDemoDatasets } from "../../../seed/datasets.ts";

describe.each(availableAdapters())("demo datasets on %s", (adapter) => {
  let ex: TestExchange;
  beforeAll(async () => {
    ex = await startTestExchange(adapter);
  });
  afterAll(async () => {
    await ex?.stop();
  });

  it("creates and ingests the four demo datasets for the owner", async () => {
    const owner = await ex.services.accounts.createAccount("seed-owner@example.com", "Correct-Horse-42", ["OWNER"]);
    const seeded = await seedDemoDatasets(ex.services, owner._id, { rows: 3000 });
    expect(seeded.map((s) => [s.key, s.version, s.rows])).toEqual([
      ["taxi_trips", 1, 3000],
      ["air_quality", 1, 3000],
      ["outpatient_visits", 1, 3000],
      ["enterprise_credit", 1, 3000],
    ]);
    const types = async (i: number) =>
      Object.fromEntries(
        (await ex.services.datasets.getVersion(seeded[i]!.datasetId, 1))!.schema.columns.map((c) => [c.name, c.nullable ? `${c.type}?` : c.type]),
      );
    expect(await types(0)).toEqual({
      vehicle_id: "string",
      pickup_time: "timestamp",
      hour: "int",
      pickup_district: "string",
      dropoff_district: "string",
      distance_km: "float",
      duration_min: "int",
      fare_yuan: "float",
      passengers: "int",
      payment: "string",
      airport: "boolean",
    });
    expect(await types(1)).toMatchObject({
      station_id: "string",
      measured_at: "timestamp",
      pm25: "float?",
      co: "float?",
      aqi: "int",
      level: "string",
    });
    expect(await types(2)).toMatchObject({ visit_date: "date", patient_id: "string", age: "int", fee_yuan: "float", revisit: "boolean" });
    expect(await types(3)).toMatchObject({
      report_month: "date",
      enterprise_id: "string",
      founded: "date",
      annual_revenue_wan: "float?",
      credit_score: "int",
      high_tech: "boolean",
    });
    // Privacy units are many distinct values (the dictionaries say how many).
    const taxi = (await ex.services.datasets.getVersion(seeded[0]!.datasetId, 1))!;
    expect(taxi.columns[0]!.stats.distinct).toBeGreaterThan(40);
    const districts = await ex.services.datasets.readDictionary(taxi, "pickup_district");
    expect(districts.every((d) => d.endsWith("区"))).toBe(true);
  });
});
