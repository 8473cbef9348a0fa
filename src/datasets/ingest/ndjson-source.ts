/**
 * NDJSON: one JSON object per line ("\n" or "\r\n"); blank lines are skipped. Keys become
 * columns in order of first appearance; a key missing from a line is null there. Values must be
 * scalars (string, number, boolean, null): nested objects and arrays are refused.
 */
import { UploadRejected, where } from "../errors.ts";
import type { Converter } from "./converter.ts";

export const MAX_LINE_BYTES = 1024 * 1024;

export async function readNdjson(chunks: AsyncIterable<Buffer>, converter: Converter, onBuffer: (bytes: number) => void): Promise<void> {
  let line = 0;
  let objects = 0;
  let carry: Buffer | null = null;

  const handle = (buf: Buffer, start: number, end: number): void => {
    line++;
    if (end > start && buf[end - 1] === 0x0d) end--;
    if (end - start > MAX_LINE_BYTES) {
      throw new UploadRejected("record_too_large", `${where({ line })}: the line is longer than ${MAX_LINE_BYTES} bytes`, { line });
    }
    const text = buf.toString("utf8", start, end);
    if (text.trim() === "") return;
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch {
      throw new UploadRejected("bad_json", `${where({ line, row: converter.rows + 1 })}: the line is not valid JSON`, {
        line,
        row: converter.rows + 1,
      });
    }
    if (typeof obj !== "object" || obj === null || Array.isArray(obj)) {
      throw new UploadRejected(
        "not_an_object",
        `${where({ line, row: converter.rows + 1 })}: each line must be one JSON object ({"column": value, …})`,
        {
          line,
          row: converter.rows + 1,
        },
      );
    }
    objects++;
    const values: unknown[] = new Array(converter.columnCount);
    for (const key in obj) values[converter.columnIndex(key, line)] = (obj as Record<string, unknown>)[key];
    converter.valueRow(values, line);
  };

  for await (const buf of chunks) {
    let start = 0;
    let nl = buf.indexOf(0x0a);
    if (carry !== null && nl !== -1) {
      // The line that began in an earlier buffer ends in this one.
      const joined = Buffer.concat([carry, buf.subarray(0, nl)]);
      carry = null;
      handle(joined, 0, joined.length);
      start = nl + 1;
      nl = buf.indexOf(0x0a, start);
    }
    if (carry === null) {
      while (nl !== -1) {
        handle(buf, start, nl);
        start = nl + 1;
        nl = buf.indexOf(0x0a, start);
      }
      carry = start < buf.length ? Buffer.from(buf.subarray(start)) : null;
    } else {
      carry = Buffer.concat([carry, buf]);
    }
    if (carry !== null && carry.length > MAX_LINE_BYTES) {
      throw new UploadRejected("record_too_large", `${where({ line: line + 1 })}: the line is longer than ${MAX_LINE_BYTES} bytes`, {
        line: line + 1,
      });
    }
    onBuffer(buf.length);
    await converter.room();
  }
  if (carry !== null) handle(carry, 0, carry.length);
  if (objects === 0) throw new UploadRejected("empty_file", "the file has no JSON objects: NDJSON needs one object per line");
}
