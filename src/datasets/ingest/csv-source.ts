/**
 * CSV (RFC 4180) through csv-parse: header row first, fields separated by the delimiter,
 * quoted with '"' (a quote inside a quoted field is doubled), records end with LF, CRLF or CR.
 *
 * csv-parse's stream wrapper buffers records between events, so the line a record came from is
 * lost by the time it is seen. We drive its push-style core directly (`parser.api.parse`, what
 * its own stream and sync wrappers call): records arrive synchronously, while `info.lines` is
 * still the record's last line, at no extra cost.
 */
import { Parser } from "csv-parse";
import { UploadRejected, where } from "../errors.ts";
import type { Converter } from "./converter.ts";

/** The longest record csv-parse will buffer (characters); longer is refused, not held in memory. */
export const MAX_RECORD_CHARS = 1024 * 1024;

export interface CsvCore {
  parse(buf: Buffer | undefined, end: boolean, push: (record: string[]) => void, close: () => void): Error | undefined;
  info: { lines: number; records: number };
}

export function csvCore(delimiter: string): CsvCore {
  const parser = new Parser({ delimiter, quote: '"', escape: '"', relax_column_count: true, max_record_size: MAX_RECORD_CHARS });
  const core = (parser as unknown as { api?: CsvCore }).api;
  if (!core || typeof core.parse !== "function" || typeof core.info?.lines !== "number") {
    throw new Error("csv-parse no longer exposes parser.api.parse/info; update src/datasets/ingest/csv-source.ts");
  }
  return core;
}

/** Feeds every CSV record of `chunks` to the converter (the first is the header). */
export async function readCsv(
  chunks: AsyncIterable<Buffer>,
  options: { delimiter: string },
  converter: Converter,
  onBuffer: (bytes: number) => void,
): Promise<void> {
  const core = csvCore(options.delimiter);
  let header = true;
  const push = (record: string[]): void => {
    const line = core.info.lines;
    if (header) {
      header = false;
      converter.setColumns(record, line);
      return;
    }
    converter.textRow(record, line);
  };
  const close = (): void => {};
  for await (const buf of chunks) {
    const err = core.parse(buf, false, push, close);
    if (err) throw csvError(err, core.info.lines);
    onBuffer(buf.length);
    await converter.room();
  }
  const err = core.parse(undefined, true, push, close);
  if (err) throw csvError(err, core.info.lines);
  if (header) throw new UploadRejected("empty_file", "the file is empty: a CSV file needs a header row and at least one data row");
}

/** csv-parse's errors, without the field values its messages quote. */
function csvError(err: Error, line: number): Error {
  const code = (err as { code?: string }).code;
  const at = where({ line });
  switch (code) {
    case "CSV_INVALID_CLOSING_QUOTE":
    case "CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE":
      return new UploadRejected(
        "bad_quoting",
        `${at}: a closing quote must be followed by the delimiter or the end of the line (write a quote inside a quoted field as "")`,
        { line },
      );
    case "INVALID_OPENING_QUOTE":
      return new UploadRejected(
        "bad_quoting",
        `${at}: a quote appears inside an unquoted field; quote the whole field and double the quotes inside it`,
        { line },
      );
    case "CSV_QUOTE_NOT_CLOSED":
      return new UploadRejected("bad_quoting", `${at}: a quoted field is not closed before the end of the file`, { line });
    case "CSV_MAX_RECORD_SIZE":
      return new UploadRejected("record_too_large", `${at}: a record is longer than ${MAX_RECORD_CHARS} characters (an unclosed quote?)`, { line });
    default:
      return err instanceof UploadRejected
        ? err
        : new UploadRejected("bad_csv", `${at}: the file is not valid CSV (${code ?? "parse error"})`, { line });
  }
}
