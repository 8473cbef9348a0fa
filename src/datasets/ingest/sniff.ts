/**
 * Which parser a file needs: the owner's word if given (checked against the bytes), else the
 * file name's extension, else the first bytes. Files we cannot read (spreadsheets, archives,
 * images, compressed or binary data) are refused up front with a hint what to upload instead.
 */
import type { SourceFormat } from "../model.ts";
import { UploadRejected } from "../errors.ts";

/** Bytes `detectFormat` wants to see (fewer if the file is shorter). */
export const SNIFF_BYTES = 4096;

const BINARY_SIGNATURES: Array<[bytes: number[], what: string]> = [
  [[0x50, 0x4b, 0x03, 0x04], "a ZIP archive (an Excel .xlsx workbook?); export the sheet as CSV"],
  [[0xd0, 0xcf, 0x11, 0xe0], "an old Office document (.xls); export the sheet as CSV"],
  [[0x1f, 0x8b], "gzip-compressed; upload it uncompressed"],
  [[0x28, 0xb5, 0x2f, 0xfd], "zstd-compressed; upload it uncompressed"],
  [[0x42, 0x5a, 0x68], "bzip2-compressed; upload it uncompressed"],
  [[0x25, 0x50, 0x44, 0x46], "a PDF document"],
  [[0x89, 0x50, 0x4e, 0x47], "a PNG image"],
  [[0xff, 0xd8, 0xff], "a JPEG image"],
  [[0x53, 0x51, 0x4c, 0x69, 0x74, 0x65], "an SQLite database"],
];

function startsWith(head: Uint8Array, bytes: number[]): boolean {
  return head.length >= bytes.length && bytes.every((b, i) => head[i] === b);
}

const isParquet = (head: Uint8Array): boolean => startsWith(head, [0x50, 0x41, 0x52, 0x31]); // "PAR1"

function byExtension(filename: string | null): SourceFormat | null {
  const ext = /\.([A-Za-z0-9]+)$/.exec(filename ?? "")?.[1]?.toLowerCase();
  if (ext === "csv" || ext === "tsv" || ext === "txt") return "csv";
  if (ext === "ndjson" || ext === "jsonl") return "ndjson";
  if (ext === "parquet" || ext === "pq") return "parquet";
  return null;
}

function unknown(message: string): UploadRejected {
  return new UploadRejected("unknown_format", message);
}

/** The format of a non-empty file from its first bytes and what the owner said. */
export function detectFormat(head: Uint8Array, declared: SourceFormat | null, filename: string | null): SourceFormat {
  for (const [bytes, what] of BINARY_SIGNATURES) {
    if (startsWith(head, bytes)) throw unknown(`the file is ${what}; supported formats are CSV, NDJSON and Parquet`);
  }
  const parquet = isParquet(head);
  const given = declared ?? byExtension(filename);
  if (given === "parquet" && !parquet) throw unknown("the file does not start with the Parquet magic bytes PAR1; it is not a Parquet file");
  if (parquet) {
    if (given !== null && given !== "parquet")
      throw unknown(`the file is Parquet, not ${given.toUpperCase()}; declare format parquet or leave the format out`);
    return "parquet";
  }
  // Text formats: NUL bytes mean binary data.
  if (head.includes(0)) throw unknown("the file contains NUL bytes: it is binary, not CSV or NDJSON text");
  if (given !== null) return given;
  let i = startsWith(head, [0xef, 0xbb, 0xbf]) ? 3 : 0;
  while (i < head.length && (head[i] === 0x20 || head[i] === 0x09 || head[i] === 0x0a || head[i] === 0x0d)) i++;
  if (head[i] === 0x7b /* { */) return "ndjson";
  if (head[i] === 0x5b /* [ */) throw unknown("the file looks like a JSON array; upload NDJSON (one JSON object per line) instead");
  return "csv";
}
