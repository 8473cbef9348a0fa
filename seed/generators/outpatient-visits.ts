/**
 * Hospital outpatient visits (demo; sensitive). Privacy unit: patient_id — one patient's visits
 * reveal their health, so they must be bounded together. Patients revisit (a pool smaller than
 * the number of visits), departments and diagnoses depend on age, fees are log-normal.
 */
import { Prng, WeightedPicker } from "../prng.ts";
import { DEFAULT_ROWS, DEFAULT_SEED, fixed, formatDate, type Cell, type GeneratedTable, type GeneratorOptions } from "../csv-table.ts";
import { SHANGHAI_DISTRICTS } from "./districts.ts";

const HOSPITALS: ReadonlyArray<readonly [string, number]> = [
  ["复旦大学附属中山医院", 14],
  ["复旦大学附属华山医院", 12],
  ["上海交通大学医学院附属瑞金医院", 14],
  ["上海交通大学医学院附属仁济医院", 10],
  ["上海市第六人民医院", 9],
  ["上海市第一人民医院", 9],
  ["上海交通大学医学院附属新华医院", 8],
  ["上海市儿童医院", 6],
  ["上海市中医医院", 5],
  ["浦东新区人民医院", 7],
];

/** Department, typical fee (CNY) and its diagnoses (ICD-10 code, Chinese name). */
const DEPARTMENTS: ReadonlyArray<readonly [dept: string, fee: number, dx: ReadonlyArray<readonly [string, string]>]> = [
  [
    "内科",
    260,
    [
      ["J06.9", "急性上呼吸道感染"],
      ["I10", "原发性高血压"],
      ["E11.9", "2型糖尿病"],
      ["K29.7", "胃炎"],
    ],
  ],
  [
    "外科",
    420,
    [
      ["S61.0", "手指开放性伤口"],
      ["K40.9", "腹股沟疝"],
      ["M54.5", "腰痛"],
    ],
  ],
  [
    "儿科",
    180,
    [
      ["J20.9", "急性支气管炎"],
      ["A09", "感染性腹泻"],
      ["J06.9", "急性上呼吸道感染"],
    ],
  ],
  [
    "妇产科",
    350,
    [
      ["O26.9", "妊娠相关情况"],
      ["N76.0", "急性阴道炎"],
      ["Z34.9", "正常妊娠监督"],
    ],
  ],
  [
    "眼科",
    230,
    [
      ["H52.1", "近视"],
      ["H10.9", "结膜炎"],
      ["H25.9", "老年性白内障"],
    ],
  ],
  [
    "耳鼻喉科",
    210,
    [
      ["J30.4", "过敏性鼻炎"],
      ["H66.9", "中耳炎"],
      ["J35.0", "慢性扁桃体炎"],
    ],
  ],
  [
    "口腔科",
    380,
    [
      ["K02.9", "龋病"],
      ["K05.1", "慢性牙龈炎"],
    ],
  ],
  [
    "皮肤科",
    190,
    [
      ["L20.9", "特应性皮炎"],
      ["L70.0", "寻常痤疮"],
      ["B35.4", "体癣"],
    ],
  ],
  [
    "中医科",
    240,
    [
      ["R51", "头痛"],
      ["G47.0", "失眠"],
      ["M54.5", "腰痛"],
    ],
  ],
  [
    "急诊科",
    520,
    [
      ["R10.4", "腹痛"],
      ["T14.9", "损伤"],
      ["R50.9", "发热"],
    ],
  ],
];

const INSURANCE: ReadonlyArray<readonly [string, number]> = [
  ["职工医保", 55],
  ["居民医保", 25],
  ["自费", 15],
  ["商业保险", 5],
];

const START = Date.UTC(2024, 0, 1);

export function outpatientVisits(options: GeneratorOptions = {}): GeneratedTable {
  const rows = options.rows ?? DEFAULT_ROWS;
  const seed = options.seed ?? DEFAULT_SEED;
  const patients = Math.max(100, Math.round(rows / 3));
  return {
    key: "outpatient_visits",
    title: { zh: "上海三甲医院门诊就诊记录", en: "Shanghai hospital outpatient visits" },
    description: "One row per outpatient visit: date, hospital, department, ICD-10 diagnosis, fee and insurance. Sensitive: patient-level privacy.",
    privacyUnit: "patient_id",
    header: [
      "visit_date",
      "patient_id",
      "age",
      "sex",
      "district",
      "hospital",
      "department",
      "diagnosis_code",
      "diagnosis",
      "fee_yuan",
      "insurance",
      "revisit",
    ],
    rows,
    *generate(): Generator<Cell[]> {
      const rng = new Prng(seed ^ 0x40591);
      const hospitals = new WeightedPicker(HOSPITALS);
      const insurance = new WeightedPicker(INSURANCE);
      const districts = new WeightedPicker(SHANGHAI_DISTRICTS);
      // Each patient has a fixed age, sex and home district (derived from their index).
      const person = (p: number): { age: number; sex: string; district: string } => {
        const prng = new Prng((seed * 31 + p) | 0);
        const u = prng.float();
        return {
          age: Math.min(95, Math.floor(u < 0.15 ? prng.uniform(0, 14) : prng.uniform(15, 95))),
          sex: prng.bool(0.52) ? "女" : "男",
          district: districts.pick(prng),
        };
      };
      const seen = new Uint8Array(patients);
      for (let r = 0; r < rows; r++) {
        const p = Math.floor(rng.float() ** 1.5 * patients);
        const { age, sex, district } = person(p);
        const child = age < 14;
        let dept = DEPARTMENTS[child && rng.bool(0.8) ? 2 : rng.int(0, DEPARTMENTS.length - 1)]!;
        if (!child && dept[0] === "儿科") dept = DEPARTMENTS[0]!;
        if (dept[0] === "妇产科" && (sex === "男" || age < 16)) dept = DEPARTMENTS[0]!;
        const dx = rng.pick(dept[2]);
        const fee = fixed(Math.max(20, rng.logNormal(dept[1] * (age > 65 ? 1.3 : 1), 0.5)), 2);
        const revisit = seen[p] === 1;
        seen[p] = 1;
        yield [
          formatDate(START + rng.int(0, 365) * 86_400_000),
          `P${String(10_000_000 + p * 7 + 3).slice(1)}`,
          age,
          sex,
          district,
          hospitals.pick(rng),
          dept[0],
          dx[0],
          dx[1],
          fee,
          insurance.pick(rng),
          revisit,
        ];
      }
    },
  };
}
