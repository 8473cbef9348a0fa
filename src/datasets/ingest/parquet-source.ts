/**
 * Parquet through hyparquet, from the spooled file (Parquet keeps its index at the end of the
 * file, so it cannot be read as a stream). Row groups are read one at a time, column by column,
 * so memory is bounded by the file's row-group size. Column types come from the Parquet schema
 * (they count as declared); flat schemas only: nested groups, lists and maps are refused.
 */
import { asyncBufferFromFile, parquetMetadataAsync, parquetRead, parquetSchema, type FileMetaData, type SchemaElement } from "hyparquet";
import type { ColumnType } from "../model.ts";
import { UploadRejected, where } from "../errors.ts";
import type { Converter } from "./converter.ts";

export interface ParquetLayout {
  metadata: FileMetaData;
  names: string[];
  types: Map<string, ColumnType>;
  rowGroups: Array<{ start: number; end: number }>;
}

function badParquet(err: unknown): UploadRejected {
  const reason = err instanceof Error ? err.message.slice(0, 200) : "unreadable";
  return new UploadRejected("bad_parquet", `the Parquet file could not be read: ${reason}`);
}

/** Our type for a flat Parquet column, or null if it has none (binary, intervals, geometry…). */
function columnType(el: SchemaElement): ColumnType | null {
  const lt = el.logical_type?.type;
  const ct = el.converted_type;
  if (lt === "STRING" || lt === "ENUM" || lt === "UUID" || lt === "JSON" || ct === "UTF8" || ct === "ENUM" || ct === "JSON") return "string";
  if (lt === "DATE" || ct === "DATE") return "date";
  if (lt === "TIMESTAMP" || ct === "TIMESTAMP_MILLIS" || ct === "TIMESTAMP_MICROS" || (el.type === "INT96" && !ct)) return "timestamp";
  if (lt === "DECIMAL" || ct === "DECIMAL" || lt === "FLOAT16") return "float";
  if (
    lt === "INTERVAL" ||
    ct === "INTERVAL" ||
    lt === "TIME" ||
    ct === "TIME_MILLIS" ||
    ct === "TIME_MICROS" ||
    lt === "GEOMETRY" ||
    lt === "GEOGRAPHY" ||
    ct === "BSON"
  )
    return null;
  switch (el.type) {
    case "BOOLEAN":
      return "boolean";
    case "INT32":
    case "INT64":
      return "int";
    case "FLOAT":
    case "DOUBLE":
      return "float";
    case "BYTE_ARRAY":
      return "string"; // hyparquet decodes plain byte arrays as UTF-8 text
    default:
      return null;
  }
}

export async function inspectParquet(path: string): Promise<ParquetLayout> {
  let metadata: FileMetaData;
  try {
    metadata = await parquetMetadataAsync(await asyncBufferFromFile(path));
  } catch (err) {
    throw badParquet(err);
  }
  const names: string[] = [];
  const types = new Map<string, ColumnType>();
  for (const child of parquetSchema(metadata).children) {
    const el = child.element;
    const nested = child.children.length > 0 || el.repetition_type === "REPEATED";
    const type = nested ? null : columnType(el);
    if (type === null) {
      throw new UploadRejected(
        "unsupported_parquet",
        `${where({ column: el.name })}: ${nested ? "nested groups, lists and maps are" : `Parquet type ${el.logical_type?.type ?? el.converted_type ?? el.type} is`} not supported; flatten or convert the column`,
        { column: el.name },
      );
    }
    names.push(el.name);
    types.set(el.name, type);
  }
  const rowGroups: Array<{ start: number; end: number }> = [];
  let at = 0;
  for (const rg of metadata.row_groups) {
    const n = Number(rg.num_rows);
    rowGroups.push({ start: at, end: at + n });
    at += n;
  }
  return { metadata, names, types, rowGroups };
}

/** Plain JS values for the converter: bigints as numbers (if exact), NaN as null. */
function plain(v: unknown, row: number, column: string): unknown {
  if (typeof v === "bigint") {
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new UploadRejected(
        "value_out_of_range",
        `${where({ row, column })}: the integer is beyond ±2^53 and cannot be stored exactly; declare the column as string`,
        {
          row,
          column,
        },
      );
    }
    return Number(v);
  }
  if (typeof v === "number" && !Number.isFinite(v)) {
    if (Number.isNaN(v)) return null;
    throw new UploadRejected("value_out_of_range", `${where({ row, column })}: the number is infinite`, { row, column });
  }
  if (v instanceof Uint8Array) {
    throw new UploadRejected("unsupported_parquet", `${where({ row, column })}: binary values are not supported`, { row, column });
  }
  return v;
}

export async function readParquet(path: string, layout: ParquetLayout, converter: Converter, onRows: () => void): Promise<void> {
  const file = await asyncBufferFromFile(path);
  const { names } = layout;
  converter.setColumns(names, null);
  for (const group of layout.rowGroups) {
    if (group.end === group.start) continue;
    // Each column of this row group, as the segments hyparquet hands over.
    const segments = names.map(() => [] as Array<{ start: number; data: ArrayLike<unknown> }>);
    const index = new Map(names.map((n, i) => [n, i]));
    try {
      await parquetRead({
        file,
        metadata: layout.metadata,
        columns: names,
        rowStart: group.start,
        rowEnd: group.end,
        parsers: { jsonFromBytes: (bytes: Uint8Array) => new TextDecoder().decode(bytes) },
        onChunk: ({ columnName, columnData, rowStart }) => {
          const c = index.get(columnName);
          if (c !== undefined) segments[c]!.push({ start: rowStart, data: columnData as ArrayLike<unknown> });
        },
      });
    } catch (err) {
      throw badParquet(err);
    }
    for (const s of segments) s.sort((a, b) => a.start - b.start);
    const cursor = names.map(() => 0);
    for (let r = group.start; r < group.end; r++) {
      const values: unknown[] = new Array(names.length);
      const row = r + 1;
      for (let c = 0; c < names.length; c++) {
        const segs = segments[c]!;
        let k = cursor[c]!;
        while (k < segs.length && r >= segs[k]!.start + segs[k]!.data.length) k++;
        cursor[c] = k;
        const seg = segs[k];
        const v = seg && r >= seg.start ? seg.data[r - seg.start] : null;
        values[c] = v == null ? null : plain(v, row, names[c]!);
      }
      converter.valueRow(values, null);
    }
    onRows();
    await converter.room();
  }
}
