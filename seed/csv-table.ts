/**
 * A generated demo table and how it becomes a CSV byte stream. Generators yield rows as
 * arrays of already-formatted cells; this file joins them into RFC 4180 lines (quoting only
 * where needed) and batches lines into ~256 KiB UTF-8 buffers, so a 10-million-row file
 * streams in constant memory.
 */
import { Readable } from "node:stream";

export type Cell = string | number | boolean | null;

export interface GeneratedTable {
  /** Short machine name, e.g. "taxi_trips". */
  key: string;
  /** Human titles for the demo (Chinese and English). */
  title: { zh: string; en: string };
  description: string;
  /** The column that identifies one person/entity (the privacy unit). */
  privacyUnit: string;
  header: string[];
  rows: number;
  /** Yields each row's cells in header order; null is an empty cell. */
  generate(): Generator<Cell[]>;
}

export interface GeneratorOptions {
  /** Number of rows (default 20 000). */
  rows?: number;
  /** PRNG seed (default 42): the same seed and rows give byte-identical output. */
  seed?: number;
}

export const DEFAULT_ROWS = 20_000;
export const DEFAULT_SEED = 42;

const BATCH_BYTES = 256 * 1024;

function csvCell(value: Cell): string {
  if (value === null) return "";
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** The table as CSV lines in ~256 KiB Buffers (header first, "\n" line ends). */
export function* csvBuffers(table: GeneratedTable): Generator<Buffer> {
  let batch = table.header.map(csvCell).join(",") + "\n";
  for (const row of table.generate()) {
    let line = "";
    for (let i = 0; i < row.length; i++) line += (i === 0 ? "" : ",") + csvCell(row[i]!);
    batch += line + "\n";
    if (batch.length >= BATCH_BYTES / 3) {
      // UTF-8 length ≤ 3 × UTF-16 length: each batch stays under BATCH_BYTES.
      yield Buffer.from(batch, "utf8");
      batch = "";
    }
  }
  if (batch.length > 0) yield Buffer.from(batch, "utf8");
}

/** The table as a readable CSV byte stream. */
export function csvStream(table: GeneratedTable): Readable {
  return Readable.from(csvBuffers(table), { objectMode: false });
}

/** Formats epoch milliseconds as "YYYY-MM-DD HH:MM:SS" (UTC). */
export function formatTimestamp(ms: number): string {
  const d = new Date(ms);
  return `${formatDate(ms)} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
}

/** Formats epoch milliseconds as "YYYY-MM-DD" (UTC). */
export function formatDate(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Rounds to `digits` decimals and renders without trailing noise. */
export function fixed(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
