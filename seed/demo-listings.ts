/**
 * The demo marketplace's listings: for each seeded demo dataset, a privacy policy its owner
 * declares and a published listing with Chinese and English titles. Key sets are public facts
 * (district names, payment methods, departments), declared here, never read off the data.
 */
import type { Services } from "../src/exchange/index.ts";
import type { Logger } from "../src/logger.ts";
import type { PolicyInput } from "../src/privacy/policy/validate.ts";
import type { CreateListingInput } from "../src/catalog/listing-input.ts";
import { SHANGHAI_DISTRICTS } from "./generators/districts.ts";

/** A demo dataset the seed uploaded: its generator key and where it landed. */
export interface SeededDataset {
  key: string;
  datasetId: string;
}

interface DemoListingSpec {
  policy: PolicyInput;
  listing: Omit<CreateListingInput, "datasetId">;
}

const DISTRICTS = SHANGHAI_DISTRICTS.map(([name]) => name);
const MONTHS_2024 = Array.from({ length: 13 }, (_, m) => new Date(Date.UTC(2024, m, 1)).toISOString());
/** National industry classification (GB/T 4754) sections used by the credit demo. */
const INDUSTRIES = [
  "制造业",
  "批发和零售业",
  "信息传输、软件和信息技术服务业",
  "租赁和商务服务业",
  "建筑业",
  "科学研究和技术服务业",
  "交通运输、仓储和邮政业",
  "住宿和餐饮业",
  "金融业",
  "房地产业",
];

/** Specs by generator key; a dataset without one gets no listing. */
export const DEMO_LISTINGS: Record<string, DemoListingSpec> = {
  taxi_trips: {
    policy: {
      privacyUnit: "vehicle_id",
      dimensions: [
        { column: "pickup_district", keys: DISTRICTS },
        { column: "dropoff_district", keys: DISTRICTS },
        { column: "hour", edges: [0, 5, 7, 10, 16, 20, 23, 24] },
        { column: "payment", keys: ["微信支付", "支付宝", "交通卡", "银联卡", "现金"] },
        { column: "airport", keys: [true, false] },
      ],
      measures: [
        { column: "fare_yuan", lo: 0, hi: 500 },
        { column: "distance_km", lo: 0, hi: 100 },
        { column: "duration_min", lo: 0, hi: 240 },
      ],
      aggregates: ["COUNT_UNITS", "COUNT_ROWS", "SUM", "AVG", "HISTOGRAM"],
      note: "demo policy",
    },
    listing: {
      title: { zh: "上海出租车行程（2024年3月）", en: "Shanghai taxi trips, March 2024" },
      description: {
        zh: "每行一次出租车行程：上车时间与区、下车区、里程、时长、车费和支付方式。以车辆为隐私单位，只提供按区、时段、支付方式的聚合统计。",
        en: "One row per taxi trip: pick-up time and district, drop-off district, distance, duration, fare and payment. The vehicle is the privacy unit; only aggregates by district, time of day and payment are answered.",
      },
      tags: ["交通", "出租车", "taxi", "mobility", "上海"],
      category: "TRANSPORT",
      licence: "CC BY-NC 4.0 (aggregates only)",
      permittedUse: "城市交通规划与研究；不得用于识别个人或车辆。Urban transport planning and research; never to single out a person or vehicle.",
      pricePlan: { perQueryFee: 100, pricePerEpsilon: 2000, freeTier: { queries: 5, epsilon: 0.5 } },
      instantAccess: true,
    },
  },
  air_quality: {
    policy: {
      privacyUnit: "station_id",
      dimensions: [
        { column: "district", keys: DISTRICTS },
        { column: "level", keys: ["优", "良", "轻度污染", "中度污染", "重度污染", "严重污染"] },
        { column: "measured_at", dateEdges: MONTHS_2024 },
      ],
      measures: [
        { column: "pm25", lo: 0, hi: 500 },
        { column: "pm10", lo: 0, hi: 600 },
        { column: "no2", lo: 0, hi: 400 },
        { column: "so2", lo: 0, hi: 200 },
        { column: "o3", lo: 0, hi: 400 },
        { column: "co", lo: 0, hi: 10 },
        { column: "aqi", lo: 0, hi: 500 },
      ],
      aggregates: ["COUNT_ROWS", "SUM", "AVG", "HISTOGRAM"],
      minGroupSize: 5,
      maxGroupsPerUnit: 3,
      note: "demo policy: stations are places, not people",
    },
    listing: {
      title: { zh: "上海空气质量小时监测数据", en: "Shanghai hourly air quality readings" },
      description: {
        zh: "各监测站每小时的PM2.5、PM10、二氧化氮、二氧化硫、臭氧、一氧化碳读数及空气质量指数（AQI）和等级。免费提供按区、月份、等级的统计。",
        en: "Hourly PM2.5, PM10, NO2, SO2, O3 and CO readings with the AQI and its level, per monitoring station. Free aggregates by district, month and level.",
      },
      tags: ["环境", "空气质量", "air quality", "PM2.5", "上海"],
      category: "ENVIRONMENT",
      licence: "CC BY 4.0 (aggregates only)",
      permittedUse: "环境研究、公共健康与教育。Environmental research, public health and teaching.",
      pricePlan: {},
      instantAccess: true,
    },
  },
  outpatient_visits: {
    policy: {
      privacyUnit: "patient_id",
      dimensions: [
        { column: "department", keys: ["内科", "外科", "儿科", "妇产科", "眼科", "耳鼻喉科", "口腔科", "皮肤科", "中医科", "急诊科"] },
        { column: "sex", keys: ["女", "男"] },
        { column: "age", edges: [0, 15, 35, 50, 65, 80, 120] },
        { column: "district", keys: DISTRICTS },
        { column: "insurance", keys: ["职工医保", "居民医保", "自费", "商业保险"] },
        { column: "visit_date", dateEdges: ["2024-01-01", "2024-04-01", "2024-07-01", "2024-10-01", "2025-01-01"] },
      ],
      measures: [{ column: "fee_yuan", lo: 0, hi: 5000 }],
      aggregates: ["COUNT_UNITS", "COUNT_ROWS", "SUM", "AVG"],
      minGroupSize: 20,
      epsilonPerQuery: 0.05,
      buyerEpsilonBudget: 1,
      datasetEpsilonBudget: 5,
      note: "demo policy: sensitive health data, stricter than the defaults",
    },
    listing: {
      title: { zh: "上海三甲医院门诊就诊记录", en: "Shanghai hospital outpatient visits" },
      description: {
        zh: "每行一次门诊就诊：日期、科室、诊断、费用和医保类型。敏感数据：以患者为隐私单位，最小分组20人，需经数据方审批。",
        en: "One row per outpatient visit: date, department, diagnosis, fee and insurance. Sensitive: the patient is the privacy unit, groups of at least 20, access by approval.",
      },
      tags: ["医疗", "门诊", "health", "hospital", "上海"],
      category: "HEALTH",
      licence: "仅限获批研究 / approved research only",
      permittedUse:
        "公共卫生与医疗服务研究；禁止任何再识别尝试。Public health and health-services research; any re-identification attempt is forbidden.",
      pricePlan: { perQueryFee: 500, pricePerEpsilon: 10000 },
      instantAccess: false,
    },
  },
  enterprise_credit: {
    policy: {
      privacyUnit: "enterprise_id",
      dimensions: [
        { column: "industry", keys: INDUSTRIES },
        { column: "district", keys: DISTRICTS },
        { column: "rating", keys: ["AAA", "AA", "A", "BBB", "BB", "B", "C"] },
        { column: "high_tech", keys: [true, false] },
        { column: "report_month", dateEdges: ["2023-01-01", "2023-04-01", "2023-07-01", "2023-10-01", "2024-01-01"] },
      ],
      measures: [
        { column: "credit_score", lo: 300, hi: 900 },
        { column: "overdue_12m", lo: 0, hi: 24 },
        { column: "loan_balance_wan", lo: 0, hi: 100_000 },
        { column: "registered_capital_wan", lo: 0, hi: 100_000 },
        { column: "employees", lo: 0, hi: 10_000 },
        { column: "annual_revenue_wan", lo: 0, hi: 1_000_000 },
      ],
      aggregates: ["COUNT_UNITS", "COUNT_ROWS", "SUM", "AVG", "HISTOGRAM"],
      maxGroupsPerUnit: 4,
      note: "demo policy: monthly reports, so one enterprise may appear in up to four quarters",
    },
    listing: {
      title: { zh: "上海企业信用月度报告", en: "Shanghai enterprise credit reports (monthly)" },
      description: {
        zh: "每家企业每月一份信用报告：行业、区、注册资本、员工数、营业收入、信用评分、逾期次数、贷款余额和评级。",
        en: "Monthly credit reports per enterprise: industry, district, registered capital, employees, revenue, credit score, overdue count, loan balance and rating.",
      },
      tags: ["金融", "信用", "credit", "enterprise", "上海"],
      category: "FINANCE",
      licence: "商业许可（仅聚合结果）/ commercial licence, aggregates only",
      permittedUse:
        "行业风险分析与信贷政策研究；不得用于评估单个企业。Sector risk analysis and credit policy research; never to assess a single enterprise.",
      pricePlan: { perQueryFee: 300, pricePerEpsilon: 5000, subscription: { monthlyFee: 9900, queries: 100, epsilon: 2 } },
      instantAccess: false,
    },
  },
};

/**
 * Declares the policy of, and publishes one listing over, each seeded dataset that has a spec.
 * Returns the listing ids. Any refusal is a bug in the specs and is thrown.
 */
export async function seedDemoListings(services: Services, ownerId: string, datasets: SeededDataset[], log?: Logger): Promise<string[]> {
  const ids: string[] = [];
  for (const ds of datasets) {
    const spec = DEMO_LISTINGS[ds.key];
    if (!spec) continue;
    // The demo owner publishes the schema and the exact size (its own choice; see public-facts.ts).
    const dataset = await services.datasets.getDataset(ds.datasetId);
    const version = dataset ? await services.datasets.getVersion(ds.datasetId, dataset.latestVersion) : null;
    const publicFacts = version
      ? {
          columns: version.schema.columns.map((c) => ({ name: c.name, type: c.type, nullable: c.nullable, description: "" })),
          size: { exactRows: version.rowCount },
        }
      : undefined;
    await services.policies.declare(ownerId, { datasetId: ds.datasetId, ...spec.policy, ...(publicFacts ? { publicFacts } : {}) });
    const draft = await services.catalog.createListing(ownerId, { datasetId: ds.datasetId, ...spec.listing });
    const published = await services.catalog.publish(ownerId, draft._id, false);
    ids.push(published._id);
  }
  log?.info({ listings: ids.length }, "seeded demo listings");
  return ids;
}
