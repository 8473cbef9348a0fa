/**
 * Domestic flights (heavy-tailed, for accuracy tests and the bench). Privacy unit: aircraft_id.
 * Flights per aircraft follow a Zipf law (a few aircraft fly thousands of times, most a few
 * dozen), each aircraft flies mostly out of its home airport, and the measures are skewed:
 * distance is log-normal by aircraft class, departure delay is mostly small with a long tail.
 * This is the shape where fixed contribution bounds go wrong (issue #16): the heavy units hold
 * most rows, so "at most 100 rows and 1 group per unit" silently drops most of the data.
 */
import { Prng, WeightedPicker } from "../prng.ts";
import { DEFAULT_ROWS, DEFAULT_SEED, fixed, type Cell, type GeneratedTable, type GeneratorOptions } from "../csv-table.ts";

/** Airports with relative traffic (a hub-and-spoke network: a few big hubs). */
export const FLIGHT_AIRPORTS: ReadonlyArray<readonly [string, number]> = [
  ["PEK", 30],
  ["PVG", 28],
  ["CAN", 25],
  ["CTU", 18],
  ["SZX", 17],
  ["KMG", 14],
  ["XIY", 13],
  ["SHA", 12],
  ["CKG", 12],
  ["HGH", 11],
  ["NKG", 8],
  ["WUH", 8],
  ["XMN", 7],
  ["CSX", 7],
  ["TAO", 6],
  ["HAK", 5],
  ["URC", 5],
  ["TSN", 4],
  ["SYX", 3],
  ["LHW", 2],
];

export const FLIGHT_CARRIERS: ReadonlyArray<readonly [string, number]> = [
  ["CA", 20],
  ["MU", 22],
  ["CZ", 25],
  ["HU", 10],
  ["3U", 8],
  ["ZH", 7],
  ["MF", 5],
  ["9C", 3],
];

/** Aircraft classes: share of the fleet and median sector length in km. */
const CLASSES: ReadonlyArray<readonly [{ medianKm: number; sigma: number }, number]> = [
  [{ medianKm: 550, sigma: 0.35 }, 25],
  [{ medianKm: 1200, sigma: 0.45 }, 60],
  [{ medianKm: 2600, sigma: 0.4 }, 15],
];

/** Relative traffic by month (1–12): a summer and a Spring Festival peak. */
const MONTHS = [1.1, 1.2, 0.9, 0.95, 1, 1.05, 1.2, 1.25, 0.95, 1.1, 0.9, 0.9];

/** Zipf exponent of flights per aircraft. */
const ZIPF_S = 0.8;

export function flights(options: GeneratorOptions = {}): GeneratedTable {
  const rows = options.rows ?? DEFAULT_ROWS;
  const seed = options.seed ?? DEFAULT_SEED;
  const aircraft = Math.min(50_000, Math.max(50, Math.round(rows / 60)));
  return {
    key: "flights",
    title: { zh: "国内航班（重尾）", en: "Domestic flights (heavy-tailed)" },
    description: "One row per flight: aircraft, carrier, origin airport, month, distance and departure delay.",
    privacyUnit: "aircraft_id",
    header: ["aircraft_id", "carrier", "origin", "month", "distance_km", "dep_delay_min"],
    rows,
    *generate(): Generator<Cell[]> {
      const rng = new Prng(seed ^ 0x5f1e);
      const airports = new WeightedPicker(FLIGHT_AIRPORTS);
      const carriers = new WeightedPicker(FLIGHT_CARRIERS);
      const classes = new WeightedPicker(CLASSES);
      const months = new WeightedPicker(MONTHS.map((w, m) => [m + 1, w] as const));
      // Aircraft k (k = 1…A) flies with weight 1/k^s; registrations are shuffled so the
      // heavy aircraft are not the first in any sort order.
      const fleet = Array.from({ length: aircraft }, (_, k) => ({
        id: `B-${String((k * 7919 + 1031) % 100000).padStart(5, "0")}`,
        carrier: carriers.pick(rng),
        home: airports.pick(rng),
        homeShare: 0.3 + 0.6 * rng.float(),
        cls: classes.pick(rng),
        punctual: 0.6 + 0.35 * rng.float(),
      }));
      const byWeight = new WeightedPicker(fleet.map((a, k) => [a, 1 / (k + 1) ** ZIPF_S] as const));
      for (let r = 0; r < rows; r++) {
        const a = byWeight.pick(rng);
        const origin = rng.bool(a.homeShare) ? a.home : airports.pick(rng);
        const month = months.pick(rng);
        const distance = fixed(Math.min(4500, Math.max(150, rng.logNormal(a.cls.medianKm, a.cls.sigma))), 0);
        // Delay: on time (around −3 min) for punctual departures, else exponential with a long tail.
        const late = !rng.bool(a.punctual);
        const delay = late ? Math.round(-Math.log(1 - rng.float()) * (rng.bool(0.15) ? 150 : 35)) : Math.round(2 + 6 * rng.normal());
        yield [a.id, a.carrier, origin, month, distance, Math.min(1440, Math.max(-30, delay))];
      }
    },
  };
}
