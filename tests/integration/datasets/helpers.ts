/** Shared by the dataset suites: byte sources, reading a version back as rows, owner accounts. */
import { expect } from "vitest";
import type { TestExchange } from "../../support/exchange.ts";
import type { Stored } from "../../../src/store/port.ts";
import type { DatasetVersion } from "../../../src/datasets/model.ts";
import { DatasetsService } from "../../../src/datasets/service.ts";
import { isNull } from "../../../src/datasets/chunk-reader.ts";

/** The bytes in pieces of `piece` bytes (so parsers see every kind of boundary). */
export async function* pieces(data: string | Uint8Array, piece = 5): AsyncGenerator<Uint8Array> {
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : Buffer.from(data);
  for (let i = 0; i < bytes.length; i += piece) yield bytes.subarray(i, i + piece);
}

export type Cell = number | string | boolean | null;

/** Every row of a version, decoded from its chunks: dates as YYYY-MM-DD, timestamps as ISO strings. */
export async function readRows(service: DatasetsService, version: DatasetVersion): Promise<Cell[][]> {
  const cols = version.schema.columns;
  const rows: Cell[][] = Array.from({ length: version.rowCount }, () => new Array<Cell>(cols.length).fill(null));
  for (let c = 0; c < cols.length; c++) {
    const dict = cols[c]!.type === "string" ? await service.readDictionary(version, c) : null;
    for (let k = 0; k < version.chunkCount; k++) {
      const chunk = await service.readColumnChunk(version, c, k);
      expect(chunk.values.length).toBe(chunk.rows);
      for (let i = 0; i < chunk.rows; i++) {
        if (isNull(chunk.nulls, i)) continue;
        const v = chunk.values[i]!;
        let cell: Cell;
        switch (chunk.type) {
          case "string":
            cell = dict![v]!;
            break;
          case "boolean":
            cell = v === 1;
            break;
          case "date":
            cell = new Date(v * 86_400_000).toISOString().slice(0, 10);
            break;
          case "timestamp":
            cell = new Date(v).toISOString();
            break;
          default:
            cell = v;
        }
        rows[chunk.rowStart + i]![c] = cell;
      }
    }
  }
  return rows;
}

/** A second DatasetsService over the exchange's stores, with tiny chunks to exercise many. */
export async function smallChunkService(
  ex: TestExchange,
  chunkRows: number,
  extra: { staleUploadMs?: number; now?: () => Date } = {},
): Promise<DatasetsService> {
  return DatasetsService.open(ex.services.store, ex.services.blobs, {
    audit: ex.services.audit,
    dataDir: ex.config.dataDir,
    uploadMaxBytes: ex.config.uploadMaxBytes,
    chunkRows,
    ...extra,
  });
}

export async function ownerAccount(ex: TestExchange, email: string): Promise<{ id: string; token: string }> {
  const r = await ex.gql(
    `mutation ($input: SignUpInput!) { signUp(input: $input) { __typename ... on MutationSignUpSuccess { data { token account { id } } } } }`,
    { input: { email, password: "Correct-Horse-42", roles: ["OWNER"] } },
  );
  expect(r.body.data.signUp.__typename, JSON.stringify(r.body)).toBe("MutationSignUpSuccess");
  const token = r.body.data.signUp.data.token as string;
  const account = await ex.services.accounts.authenticate(token);
  return { id: account.account._id, token };
}

/** Blob keys under a dataset's prefix (what a failed upload must leave empty). */
export function blobsOf(ex: TestExchange, datasetId: string): Promise<string[]> {
  return ex.services.blobs.list(`datasets/${datasetId}/`);
}

export type StoredVersion = Stored<DatasetVersion>;
