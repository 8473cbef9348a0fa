/**
 * The cluster engine's copy of a dataset version: one Parquet file the engine reads, holding the
 * version's columns as the kernels see them — numbers as stored, strings as their dictionary
 * codes (the dictionaries never leave the host), nulls as nulls — named by position (`c0`, `c1`,
 * …, so no owner-chosen name ever enters SQL), plus `__row`, each row's index in the version
 * (file order), which the shared selection hash keys the choice of rows on (selection-hash.ts).
 *
 * Written once per version (to a temporary name, then renamed: a reader sees a whole file or
 * none) under a configurable directory the engine can read. Versions are never deleted (the
 * audit log refers to them), so neither are their copies.
 */
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { parquetWriteFile } from "hyparquet-writer";
import type { ColumnView } from "../../queries/index.ts";

export const ROW_INDEX = "__row";

/** A version column's name in the copy. */
export const copyColumn = (index: number): string => `c${index}`;

/** Rows per Parquet row group: large enough for fast scans, small enough to split a file across cores. */
const ROW_GROUP_ROWS = 1_000_000;

/** Version ids become file names; anything else is refused (the path also enters SQL, quoted). */
function fileName(versionId: string): string {
  if (!/^[A-Za-z0-9_@-]{1,128}$/.test(versionId))
    throw new Error(`cluster copy: version id ${JSON.stringify(versionId.slice(0, 40))} is not a plain name`);
  return `${versionId}.parquet`;
}

export function copyPath(dir: string, versionId: string): string {
  return join(dir, fileName(versionId));
}

function parquetColumn(
  name: string,
  view: ColumnView,
): { name: string; data: Int32Array | Float64Array | Array<number | null>; type: "INT32" | "DOUBLE"; nullable: boolean } {
  const type = view.values instanceof Float64Array ? "DOUBLE" : "INT32";
  // booleans are stored as bytes: written as 32-bit integers, as every other integer column
  const values = view.values instanceof Uint8Array ? Int32Array.from(view.values) : view.values;
  if (!view.nulls) return { name, data: values, type, nullable: false };
  const data: Array<number | null> = new Array(view.values.length);
  for (let i = 0; i < values.length; i++) data[i] = (view.nulls[i >>> 3]! & (1 << (i & 7))) !== 0 ? null : values[i]!;
  return { name, data, type, nullable: true };
}

/**
 * Writes the copy of a version unless it exists; returns its path. `read(index)` gives the
 * version's column `index` in file order (the ColumnLoader's view).
 */
export async function ensureParquetCopy(
  dir: string,
  version: { _id: string; rowCount: number; schema: { columns: readonly unknown[] } },
  read: (index: number) => Promise<ColumnView>,
): Promise<string> {
  const path = copyPath(dir, version._id);
  if (
    await stat(path).then(
      () => true,
      () => false,
    )
  )
    return path;
  await mkdir(dir, { recursive: true });
  const columnData = [];
  for (let index = 0; index < version.schema.columns.length; index++) columnData.push(parquetColumn(copyColumn(index), await read(index)));
  columnData.push({ name: ROW_INDEX, data: Int32Array.from({ length: version.rowCount }, (_, i) => i), type: "INT32" as const, nullable: false });
  const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
  try {
    parquetWriteFile({ filename: temporary, columnData, rowGroupSize: ROW_GROUP_ROWS });
    await rename(temporary, path);
  } finally {
    await rm(temporary, { force: true });
  }
  return path;
}
