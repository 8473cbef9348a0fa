/**
 * Arrow IPC batches (each ArrowBatch.data is a whole IPC stream: schema, then record batches)
 * into columns of plain values: 64-bit integers as bigint, decimals as exact decimal strings,
 * dates as days since the epoch, null as null. Results here are small (per-group aggregates), so
 * clarity wins over zero-copy.
 */
import { DataType, tableFromIPC, type Field, type Vector } from "apache-arrow";
import { SparkConnectError } from "./errors.ts";

export interface SparkColumn {
  name: string;
  /** Arrow's name of the type, e.g. "Int64", "Float64", "Utf8", "Decimal[38e2]". */
  type: string;
  values: unknown[];
}

export interface SparkResult {
  columns: SparkColumn[];
  rowCount: number;
}

/** A decimal's 128-bit little-endian two's-complement words as an exact decimal string. */
function decimalString(words: Uint32Array, scale: number): string {
  let v = 0n;
  for (let k = words.length - 1; k >= 0; k--) v = (v << 32n) | BigInt(words[k]!);
  const bits = BigInt(words.length * 32);
  if (v >= 1n << (bits - 1n)) v -= 1n << bits;
  const neg = v < 0n;
  const digits = (neg ? -v : v).toString().padStart(scale + 1, "0");
  const body = scale > 0 ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  return neg ? `-${body}` : body;
}

function valueOf(field: Field, vector: Vector, i: number): unknown {
  const v = vector.get(i);
  if (v === null || v === undefined) return null;
  if (DataType.isDecimal(field.type)) return decimalString(v as Uint32Array, field.type.scale);
  if (DataType.isDate(field.type)) return Math.round((v as number) / 86_400_000);
  return v;
}

/** Appends the rows of one ArrowBatch to `into` (created from the first batch's schema). */
export function appendArrowBatch(into: SparkResult, data: Uint8Array): void {
  let table: ReturnType<typeof tableFromIPC>;
  try {
    table = tableFromIPC(data);
  } catch {
    throw new SparkConnectError("PROTOCOL", "an Arrow batch from the engine could not be decoded");
  }
  const fields = table.schema.fields;
  if (into.columns.length === 0 && into.rowCount === 0) into.columns = fields.map((f) => ({ name: f.name, type: String(f.type), values: [] }));
  if (fields.length !== into.columns.length || fields.some((f, k) => f.name !== into.columns[k]!.name))
    throw new SparkConnectError("PROTOCOL", "the engine's Arrow batches disagree on their columns");
  fields.forEach((f, k) => {
    const vector = table.getChildAt(k)!;
    const out = into.columns[k]!.values;
    for (let i = 0; i < table.numRows; i++) out.push(valueOf(f, vector, i));
  });
  into.rowCount += table.numRows;
}
