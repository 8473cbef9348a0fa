/**
 * The demo datasets: each generator's table, created for the demo owner and ingested through
 * the real upload path (CSV stream → DatasetsService), at a small scale so start-up stays fast.
 */
import type { Services } from "../src/exchange/index.ts";
import type { Logger } from "../src/logger.ts";
import { csvStream, DEFAULT_SEED } from "./csv-table.ts";
import { DEMO_TABLES } from "./generators/index.ts";

/** Rows per demo dataset at start-up (the generators default to 20 000; the benchmark uses 10 million). */
export const DEMO_DATASET_ROWS = 5000;

export interface SeededDemoDataset {
  /** The generator key, e.g. "taxi_trips". */
  key: string;
  datasetId: string;
  version: number;
  rows: number;
  privacyUnit: string;
}

export async function seedDemoDatasets(
  services: Services,
  ownerId: string,
  options: { rows?: number; seed?: number; log?: Logger } = {},
): Promise<SeededDemoDataset[]> {
  const rows = options.rows ?? DEMO_DATASET_ROWS;
  const out: SeededDemoDataset[] = [];
  for (const make of Object.values(DEMO_TABLES)) {
    const table = make({ rows, seed: options.seed ?? DEFAULT_SEED });
    const ds = await services.datasets.createDataset(ownerId, { name: `${table.title.zh} / ${table.title.en}`, description: table.description });
    const { version } = await services.datasets.uploadVersion(ownerId, ds._id, {
      source: csvStream(table),
      format: "csv",
      filename: `${table.key}.csv`,
    });
    out.push({ key: table.key, datasetId: ds._id, version: version.version, rows: version.rowCount, privacyUnit: table.privacyUnit });
  }
  options.log?.info({ datasets: out.map((d) => ({ key: d.key, rows: d.rows })) }, "seeded demo datasets");
  return out;
}
