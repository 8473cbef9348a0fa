/**
 * An in-memory DatasetCatalogSource for service-level tests of policies, listings and access:
 * what ingestion's DatasetsService answers about datasets, without uploading files.
 */
import type { Stored } from "../../src/store/port.ts";
import type { Dataset, DatasetSchema, DatasetVersion } from "../../src/datasets/model.ts";
import type { DatasetCatalogSource } from "../../src/privacy/policy/dataset-source.ts";

export class FakeDatasets implements DatasetCatalogSource {
  private readonly datasets = new Map<string, Stored<Dataset>>();
  private readonly versions = new Map<string, Stored<DatasetVersion>>();
  private n = 0;

  add(ownerId: string, schema: DatasetSchema, rowCount: number): { datasetId: string; version: number } {
    const id = `ds_fake${++this.n}`;
    this.datasets.set(id, { _id: id, _v: 1, ownerId, name: id, description: "", createdAt: new Date().toISOString(), latestVersion: 0 });
    return { datasetId: id, version: this.addVersion(id, schema, rowCount) };
  }

  addVersion(datasetId: string, schema: DatasetSchema, rowCount: number): number {
    const ds = this.datasets.get(datasetId)!;
    const version = ds.latestVersion + 1;
    this.versions.set(`${datasetId}@${version}`, {
      _id: `${datasetId}@${version}`,
      _v: 1,
      datasetId,
      ownerId: ds.ownerId,
      version,
      schema,
      rowCount,
      chunkRows: 65536,
      chunkCount: 1,
      blobPrefix: `datasets/${datasetId}/v${version}/`,
      sourceFormat: "csv",
      sourceBytes: 0,
      sourceSha256: "0".repeat(64),
      createdAt: new Date().toISOString(),
    } as Stored<DatasetVersion>);
    ds.latestVersion = version;
    return version;
  }

  async getDataset(id: string): Promise<Stored<Dataset> | null> {
    return this.datasets.get(id) ?? null;
  }

  async getVersion(datasetId: string, version: number): Promise<Stored<DatasetVersion> | null> {
    return this.versions.get(`${datasetId}@${version}`) ?? null;
  }
}
