/**
 * What policies, listings and access requests need to know about datasets: who owns one, and a
 * version's schema and row count. Ingestion's DatasetsService provides it; the catalog side
 * depends only on this narrow read-only view so it never touches the datasets' collections.
 */
import type { Stored } from "../../store/port.ts";
import type { Dataset, DatasetVersion } from "../../datasets/index.ts";

export interface DatasetCatalogSource {
  getDataset(datasetId: string): Promise<Stored<Dataset> | null>;
  getVersion(datasetId: string, version: number): Promise<Stored<DatasetVersion> | null>;
}

/** Until ingestion's DatasetsService is wired in: no dataset exists, so nothing can be declared or listed. */
export const NO_DATASETS: DatasetCatalogSource = {
  getDataset: async () => null,
  getVersion: async () => null,
};
