/**
 * Enterprise credit records (demo): one row per enterprise per monthly credit report.
 * Privacy unit: enterprise_id (a unified social credit code). Scores follow a latent risk per
 * enterprise; overdue counts and ratings follow the score; revenue is sometimes unreported.
 */
import { Prng, WeightedPicker } from "../prng.ts";
import { DEFAULT_ROWS, DEFAULT_SEED, fixed, formatDate, type Cell, type GeneratedTable, type GeneratorOptions } from "../csv-table.ts";
import { SHANGHAI_DISTRICTS } from "./districts.ts";

const INDUSTRIES: ReadonlyArray<readonly [string, number]> = [
  ["制造业", 22],
  ["批发和零售业", 20],
  ["信息传输、软件和信息技术服务业", 14],
  ["租赁和商务服务业", 10],
  ["建筑业", 8],
  ["科学研究和技术服务业", 8],
  ["交通运输、仓储和邮政业", 6],
  ["住宿和餐饮业", 5],
  ["金融业", 4],
  ["房地产业", 3],
];

const RATINGS: ReadonlyArray<readonly [minScore: number, rating: string]> = [
  [800, "AAA"],
  [740, "AA"],
  [680, "A"],
  [620, "BBB"],
  [560, "BB"],
  [500, "B"],
  [0, "C"],
];

/** Characters of the unified social credit code (GB 32100-2015: digits and letters without I, O, S, V, Z). */
const CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY";

const FIRST_REPORT = Date.UTC(2023, 0, 1);

export function enterpriseCredit(options: GeneratorOptions = {}): GeneratedTable {
  const rows = options.rows ?? DEFAULT_ROWS;
  const seed = options.seed ?? DEFAULT_SEED;
  const months = 12;
  const enterprises = Math.max(10, Math.ceil(rows / months));
  return {
    key: "enterprise_credit",
    title: { zh: "上海企业信用月度报告", en: "Shanghai enterprise credit reports (monthly)" },
    description:
      "Monthly credit reports per enterprise: industry, district, registered capital, employees, revenue, credit score, overdue count, loan balance and rating.",
    privacyUnit: "enterprise_id",
    header: [
      "report_month",
      "enterprise_id",
      "industry",
      "district",
      "founded",
      "registered_capital_wan",
      "employees",
      "annual_revenue_wan",
      "credit_score",
      "overdue_12m",
      "loan_balance_wan",
      "rating",
      "high_tech",
    ],
    rows,
    *generate(): Generator<Cell[]> {
      const rng = new Prng(seed ^ 0xc4ed17);
      const industries = new WeightedPicker(INDUSTRIES);
      const districts = new WeightedPicker(SHANGHAI_DISTRICTS);
      for (let r = 0; r < rows; r++) {
        const e = r % enterprises;
        const month = Math.floor(r / enterprises) % months;
        // Stable traits per enterprise from its own stream.
        const er = new Prng((seed * 977 + e) | 0);
        let code = "913101";
        for (let k = 0; k < 12; k++) code += CODE_CHARS[er.int(0, CODE_CHARS.length - 1)];
        const industry = industries.pick(er);
        const district = districts.pick(er);
        const founded = FIRST_REPORT - er.int(200, 9000) * 86_400_000;
        const capital = fixed(er.logNormal(500, 1.2), 1);
        const employees = Math.max(1, Math.round(er.logNormal(45, 1.1)));
        const risk = er.normal();
        const highTech = industry.startsWith("信息") || industry.startsWith("科学") ? er.bool(0.45) : er.bool(0.05);
        // Monthly movement.
        const score = Math.round(Math.min(900, Math.max(350, 690 - risk * 70 + rng.normal() * 12)));
        const overdue = score > 700 ? (rng.bool(0.05) ? 1 : 0) : Math.max(0, Math.round(rng.logNormal(1 + (700 - score) / 40, 0.6) - 1));
        const revenue = rng.bool(0.06) ? null : fixed(Math.max(1, er.logNormal(employees * 60, 0.5) * rng.uniform(0.9, 1.1)), 1);
        const loan = fixed(Math.max(0, capital * er.uniform(0, 3) * rng.uniform(0.95, 1.05)), 1);
        const d = new Date(FIRST_REPORT);
        d.setUTCMonth(month);
        yield [
          formatDate(d.getTime()),
          code,
          industry,
          district,
          formatDate(founded),
          capital,
          employees,
          revenue,
          score,
          overdue,
          loan,
          RATINGS.find(([min]) => score >= min)![1],
          highTech,
        ];
      }
    },
  };
}
