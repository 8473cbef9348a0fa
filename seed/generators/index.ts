/** The demo tables, by key. Each takes { rows, seed } and is deterministic. */
import type { GeneratedTable, GeneratorOptions } from "../csv-table.ts";
import { airQuality } from "./air-quality.ts";
import { enterpriseCredit } from "./enterprise-credit.ts";
import { outpatientVisits } from "./outpatient-visits.ts";
import { taxiTrips } from "./taxi-trips.ts";

export { airQuality, enterpriseCredit, outpatientVisits, taxiTrips };

export const DEMO_TABLES: Record<string, (options?: GeneratorOptions) => GeneratedTable> = {
  taxi_trips: taxiTrips,
  air_quality: airQuality,
  outpatient_visits: outpatientVisits,
  enterprise_credit: enterpriseCredit,
};
