/** Expected failures of the datasets module, returned to clients as typed results. */
import { DomainError } from "../errors.ts";
import type { UploadErrorInfo } from "./model.ts";

/**
 * An upload that was refused: which rule it broke and where (line, row, column). Nothing of
 * it was kept. Messages name positions and rules, never a value from the file.
 *
 * Rules: empty_file, no_rows, too_large, unknown_format, invalid_utf8, bad_quoting, ragged_row,
 * record_too_large, bad_header, too_many_columns, unknown_declared_column, type_mismatch,
 * value_out_of_range, too_many_distinct_values, bad_json, not_an_object, nested_value,
 * unsupported_parquet, bad_parquet, upload_aborted.
 */
export class UploadRejected extends DomainError {
  readonly code = "UPLOAD_REJECTED";
  readonly rule: string;
  readonly line: number | null;
  readonly row: number | null;
  readonly column: string | null;
  /** The upload job that recorded the failure, once known. */
  jobId: string | null = null;

  constructor(rule: string, message: string, where: { line?: number | null; row?: number | null; column?: string | null } = {}) {
    super(message);
    this.name = "UploadRejected";
    this.rule = rule;
    this.line = where.line ?? null;
    this.row = where.row ?? null;
    this.column = where.column ?? null;
  }

  toInfo(): UploadErrorInfo {
    return { rule: this.rule, message: this.message, line: this.line, row: this.row, column: this.column };
  }
}

export class DatasetNameTaken extends DomainError {
  readonly code = "DATASET_NAME_TAKEN";
  constructor() {
    super("you already have a dataset with this name");
    this.name = "DatasetNameTaken";
  }
}

/** "line 7 (row 6), column fare" — the position part of an upload error message. */
export function where(p: { line?: number | null; row?: number | null; column?: string | null }): string {
  const parts: string[] = [];
  if (p.line != null) parts.push(p.row != null ? `line ${p.line} (row ${p.row})` : `line ${p.line}`);
  else if (p.row != null) parts.push(`row ${p.row}`);
  if (p.column != null) parts.push(`column ${JSON.stringify(p.column)}`);
  return parts.join(", ");
}
