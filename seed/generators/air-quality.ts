/**
 * Hourly air-quality readings from Shanghai monitoring stations (demo). Privacy unit:
 * station_id (a station is a place, not a person; the unit still bounds each station's weight).
 * Pollutants follow a daily cycle and a shared weather factor; about 2 % of readings are
 * missing (sensor dropouts), so the columns are nullable.
 */
import { Prng } from "../prng.ts";
import { DEFAULT_ROWS, DEFAULT_SEED, fixed, formatTimestamp, type Cell, type GeneratedTable, type GeneratorOptions } from "../csv-table.ts";

const STATIONS: ReadonlyArray<readonly [id: string, name: string, district: string, base: number]> = [
  ["SH-AQ-01", "徐汇上师大", "徐汇区", 1.0],
  ["SH-AQ-02", "浦东张江", "浦东新区", 0.95],
  ["SH-AQ-03", "浦东川沙", "浦东新区", 0.9],
  ["SH-AQ-04", "静安监测站", "静安区", 1.05],
  ["SH-AQ-05", "虹口凉城", "虹口区", 1.0],
  ["SH-AQ-06", "杨浦四漂", "杨浦区", 1.02],
  ["SH-AQ-07", "普陀监测站", "普陀区", 1.03],
  ["SH-AQ-08", "青浦淀山湖", "青浦区", 0.75],
  ["SH-AQ-09", "宝山庙行", "宝山区", 1.15],
  ["SH-AQ-10", "嘉定南翔", "嘉定区", 1.05],
  ["SH-AQ-11", "闵行莘庄", "闵行区", 1.0],
  ["SH-AQ-12", "金山石化", "金山区", 1.2],
  ["SH-AQ-13", "崇明东滩", "崇明区", 0.6],
  ["SH-AQ-14", "松江大学城", "松江区", 0.95],
];

/** China's AQI bands (HJ 633-2012) and their names. */
const LEVELS: ReadonlyArray<readonly [maxAqi: number, level: string]> = [
  [50, "优"],
  [100, "良"],
  [150, "轻度污染"],
  [200, "中度污染"],
  [300, "重度污染"],
  [Infinity, "严重污染"],
];

/** PM2.5 (µg/m³) → AQI sub-index, piecewise linear per HJ 633-2012. */
function pm25Aqi(c: number): number {
  const bp: Array<[number, number, number, number]> = [
    [0, 35, 0, 50],
    [35, 75, 50, 100],
    [75, 115, 100, 150],
    [115, 150, 150, 200],
    [150, 250, 200, 300],
    [250, 500, 300, 500],
  ];
  for (const [cl, ch, il, ih] of bp) if (c <= ch) return Math.round(il + ((ih - il) * (c - cl)) / (ch - cl));
  return 500;
}

const START = Date.UTC(2024, 0, 1);

export function airQuality(options: GeneratorOptions = {}): GeneratedTable {
  const rows = options.rows ?? DEFAULT_ROWS;
  const seed = options.seed ?? DEFAULT_SEED;
  return {
    key: "air_quality",
    title: { zh: "上海空气质量小时监测数据", en: "Shanghai hourly air quality readings" },
    description: "Hourly PM2.5, PM10, NO2, SO2, O3 and CO readings with the AQI and its level, per monitoring station.",
    privacyUnit: "station_id",
    header: ["station_id", "station_name", "district", "measured_at", "pm25", "pm10", "no2", "so2", "o3", "co", "aqi", "level"],
    rows,
    *generate(): Generator<Cell[]> {
      const rng = new Prng(seed ^ 0xa11);
      let weather = 1;
      for (let r = 0; r < rows; r++) {
        const station = STATIONS[r % STATIONS.length]!;
        const hourIndex = Math.floor(r / STATIONS.length);
        if (r % STATIONS.length === 0) weather = Math.min(3, Math.max(0.3, weather * Math.exp(rng.normal() * 0.08)));
        const at = START + hourIndex * 3_600_000;
        const hour = hourIndex % 24;
        const daily = 1 + 0.3 * Math.cos(((hour - 8) / 24) * 2 * Math.PI);
        const level = weather * station[3] * daily;
        const missing = (): boolean => rng.bool(0.02);
        const pm25 = Math.max(2, rng.logNormal(38 * level, 0.25));
        const pm10 = pm25 * rng.uniform(1.3, 1.9);
        const no2 = Math.max(3, rng.logNormal(35 * level, 0.3));
        const so2 = Math.max(1, rng.logNormal(8, 0.4));
        const o3 = Math.max(5, rng.logNormal(70 / Math.sqrt(level), 0.3));
        const co = Math.max(0.1, rng.logNormal(0.7 * level, 0.25));
        const aqi = pm25Aqi(pm25);
        yield [
          station[0],
          station[1],
          station[2],
          formatTimestamp(at),
          missing() ? null : fixed(pm25, 1),
          missing() ? null : fixed(pm10, 1),
          missing() ? null : fixed(no2, 1),
          missing() ? null : fixed(so2, 1),
          missing() ? null : fixed(o3, 1),
          missing() ? null : fixed(co, 2),
          aqi,
          LEVELS.find(([max]) => aqi <= max)![1],
        ];
      }
    },
  };
}
