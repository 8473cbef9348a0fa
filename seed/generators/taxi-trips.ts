/**
 * City taxi trips in Shanghai (demo). Privacy unit: vehicle_id (one taxi's trips reveal its
 * driver's day). Fares follow the city's tariff shape: a flag fall covering 3 km, a per-km rate,
 * a long-distance surcharge past 15 km and a night surcharge from 23:00 to 05:00.
 */
import { Prng, WeightedPicker } from "../prng.ts";
import { DEFAULT_ROWS, DEFAULT_SEED, fixed, formatTimestamp, type Cell, type GeneratedTable, type GeneratorOptions } from "../csv-table.ts";
import { SHANGHAI_DISTRICTS } from "./districts.ts";

const PAYMENTS: ReadonlyArray<readonly [string, number]> = [
  ["微信支付", 45],
  ["支付宝", 30],
  ["交通卡", 10],
  ["银联卡", 8],
  ["现金", 7],
];

/** Relative demand by hour of day: morning and evening peaks, a quiet night. */
const HOURLY_DEMAND = [2, 1.2, 0.8, 0.6, 0.6, 1, 2.5, 5, 7, 6, 5, 5, 5.5, 5, 4.8, 5, 5.5, 6.5, 7, 6, 5, 4.5, 4, 3];

const START = Date.UTC(2024, 2, 1); // March 2024
const DAYS = 31;

export function taxiTrips(options: GeneratorOptions = {}): GeneratedTable {
  const rows = options.rows ?? DEFAULT_ROWS;
  const seed = options.seed ?? DEFAULT_SEED;
  const vehicles = Math.min(20_000, Math.max(50, Math.round(rows / 40)));
  return {
    key: "taxi_trips",
    title: { zh: "上海出租车行程（2024年3月）", en: "Shanghai taxi trips, March 2024" },
    description: "One row per taxi trip: pick-up time and district, drop-off district, distance, duration, fare and payment method.",
    privacyUnit: "vehicle_id",
    header: [
      "vehicle_id",
      "pickup_time",
      "hour",
      "pickup_district",
      "dropoff_district",
      "distance_km",
      "duration_min",
      "fare_yuan",
      "passengers",
      "payment",
      "airport",
    ],
    rows,
    *generate(): Generator<Cell[]> {
      const rng = new Prng(seed ^ 0x7a41);
      const districts = new WeightedPicker(SHANGHAI_DISTRICTS);
      const payments = new WeightedPicker(PAYMENTS);
      const hours = new WeightedPicker(HOURLY_DEMAND.map((w, h) => [h, w] as const));
      const letters = ["A", "B", "D", "E", "F", "G"];
      const plates = Array.from(
        { length: vehicles },
        (_, i) => `沪${letters[i % letters.length]}${String((i * 7919 + 12345) % 100000).padStart(5, "0")}`,
      );
      for (let r = 0; r < rows; r++) {
        // Some taxis work more than others: square the uniform to skew towards low indexes.
        const u = rng.float();
        const vehicle = plates[Math.floor(u * u * vehicles)]!;
        const hour = hours.pick(rng);
        const at = START + rng.int(0, DAYS - 1) * 86_400_000 + hour * 3_600_000 + rng.int(0, 3_599) * 1000;
        const from = districts.pick(rng);
        const to = rng.bool(0.55) ? from : districts.pick(rng);
        const airport = (from === "浦东新区" || to === "浦东新区" || to === "长宁区") && rng.bool(0.08);
        const distance = airport
          ? fixed(Math.max(8, rng.logNormal(35, 0.35)), 1)
          : fixed(Math.min(80, Math.max(0.5, rng.logNormal(from === to ? 3.5 : 9, 0.6))), 1);
        const peak = (hour >= 7 && hour <= 9) || (hour >= 17 && hour <= 19);
        const duration = Math.max(2, Math.round(distance * (peak ? 3.4 : 2.2) + rng.normal() * 3 + 2));
        let fare = 14 + Math.max(0, Math.min(distance, 15) - 3) * 2.5 + Math.max(0, distance - 15) * 3.6;
        if (hour >= 23 || hour < 5) fare *= 1.3;
        fare += Math.max(0, duration - distance * 2) * 0.5; // waiting time
        const passengers = rng.bool(0.7) ? 1 : rng.int(2, 4);
        yield [vehicle, formatTimestamp(at), hour, from, to, distance, duration, fixed(fare, 1), passengers, payments.pick(rng), airport];
      }
    },
  };
}
