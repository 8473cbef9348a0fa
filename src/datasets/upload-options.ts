/**
 * The owner's upload options (format, CSV delimiter, declared column types), validated at the
 * edge: bad values are InvalidInput naming the field; an unknown format is UploadRejected.
 */
import { z } from "zod";
import { invalidInputFromZod } from "../errors.ts";
import { COLUMN_TYPES, SOURCE_FORMATS, type ColumnType, type SourceFormat } from "./model.ts";
import { UploadRejected } from "./errors.ts";
import { MAX_COLUMN_NAME, MAX_COLUMNS } from "./ingest/converter.ts";

export interface UploadOptionsInput {
  format?: string | null;
  delimiter?: string | null;
  /** Declared types: [{name, type}] or {name: type}. */
  columnTypes?: Array<{ name: string; type: string }> | Record<string, string> | null;
}

export interface UploadOptions {
  format: SourceFormat | null;
  delimiter: string;
  declared: Map<string, ColumnType>;
}

const delimiter = z
  .string()
  .transform((d) => (d === "\\t" || d.toLowerCase() === "tab" ? "\t" : d))
  .pipe(
    z
      .string()
      .length(1, "must be one character (or \\t / tab)")
      .refine((d) => d !== '"' && d !== "\r" && d !== "\n", "cannot be a quote or a line break"),
  );

const columnType = z.enum(COLUMN_TYPES, { message: `must be one of ${COLUMN_TYPES.join(", ")}` });

const declaredList = z
  .array(z.object({ name: z.string().min(1, "is required").max(MAX_COLUMN_NAME), type: columnType }))
  .max(MAX_COLUMNS)
  .refine((cols) => new Set(cols.map((c) => c.name)).size === cols.length, "declares a column twice");

export function parseUploadOptions(input: UploadOptionsInput): UploadOptions {
  let format: SourceFormat | null = null;
  if (input.format != null && input.format !== "") {
    const f = input.format.toLowerCase();
    if (!(SOURCE_FORMATS as readonly string[]).includes(f)) {
      throw new UploadRejected("unknown_format", `format ${JSON.stringify(input.format.slice(0, 40))} is not supported; use csv, ndjson or parquet`);
    }
    format = f as SourceFormat;
  }
  const d = delimiter.safeParse(input.delimiter ?? ",");
  if (!d.success) throw invalidInputFromZod(d.error, "input.delimiter");
  const list = Array.isArray(input.columnTypes) ? input.columnTypes : Object.entries(input.columnTypes ?? {}).map(([name, type]) => ({ name, type }));
  const cols = declaredList.safeParse(list);
  if (!cols.success) throw invalidInputFromZod(cols.error, "input.columnTypes");
  return { format, delimiter: d.data, declared: new Map(cols.data.map((c) => [c.name, c.type])) };
}
