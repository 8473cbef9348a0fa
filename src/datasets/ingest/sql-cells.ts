/**
 * The rules of values.ts as DuckDB SQL, for the native path (native-path.ts): per column type,
 * an expression that turns one cell into the number a chunk stores, or raises an error where
 * the exact JS path would do anything else (widen the type, refuse the cell, or read the text
 * differently). An error only means "the native path declines": the JS path then stores the
 * file or names the rule, row and column. So these expressions may refuse more than values.ts
 * (a timestamp with a zone, "-0") but must never take a text values.ts refuses, nor give it
 * another number.
 *
 * The common forms are checked by a round trip (DuckDB's cast, printed back, is the text), which
 * costs less than a regular expression; only floats need one.
 */
import type { ChunkStorage, ColumnType } from "../model.ts";

/** A quoted SQL identifier. */
export const ident = (name: string): string => `"${name.replaceAll('"', '""')}"`;
/** A quoted SQL string literal. */
export const literal = (text: string): string => `'${text.replaceAll("'", "''")}'`;

/** The error a misfit cell raises; `column` is the column's index (never a value from the file). */
export const MISFIT = "native misfit";
export const INT32_OVERFLOW = "native int32 overflow";
const misfit = (column: number): string => `error('${MISFIT} c${column}')`;
const overflow = (column: number): string => `error('${INT32_OVERFLOW} c${column}')`;

const MAX_SAFE = "9007199254740991";
// parseFloatText: optional sign, no leading zero before more digits, digits on one side of '.'.
const FLOAT_RE = literal("[+-]?((0|[1-9][0-9]*)(\\.[0-9]+)?|\\.[0-9]+)([eE][+-]?[0-9]+)?");
const DIGITS_RE = literal("[+-]?[0-9]+");

/** DuckDB's type for each chunk storage: what the export copies without conversion. */
export function sqlStorageType(storage: ChunkStorage): string {
  return storage === "int32" ? "INTEGER" : storage === "float64" ? "DOUBLE" : "UTINYINT";
}

/** An int (BIGINT expression `v`, already exact) in the chunk's storage; int32 overflow raises. */
function intIn(v: string, storage: ChunkStorage, column: number): string {
  if (storage === "float64") return `CAST(${v} AS DOUBLE)`;
  return `CASE WHEN ${v} BETWEEN -2147483648 AND 2147483647 THEN CAST(${v} AS INTEGER) ELSE ${overflow(column)} END`;
}

/**
 * One cell's SQL in two levels: `casts` are computed once per row in an inner projection (each
 * `[alias, expression]`), `expr` reads them in the outer one. DuckDB evaluates a cast written
 * twice in a CASE twice; computed once, typing costs about half (measured on the taxi table:
 * timestamps 1.09 → 0.43 s, ints 0.43 → 0.22 s, floats 0.54 → 0.34 s, booleans 0.29 → 0.10 s
 * per 5M cells).
 */
export interface CellSql {
  casts: Array<[alias: string, expression: string]>;
  expr: string;
}

/**
 * CSV text `s` (VARCHAR, NULL for an empty cell) as values.ts reads it under `type`, in the
 * column's storage: ints, floats, dates as epoch days, timestamps as epoch ms, booleans as 0/1,
 * strings unchanged. `lenient` (declared columns) also takes booleans as 1/0. The common form
 * of each type is taken by the first branch; the rest decide the others, exactly as before.
 */
export function textCell(s: string, type: ColumnType, storage: ChunkStorage, lenient: boolean, column: number): CellSql {
  const bad = misfit(column);
  const x = `x${column}`;
  switch (type) {
    case "int": {
      // parseIntText: -?(0|[1-9][0-9]*), |v| ≤ 2^53-1; the round trip refuses '+', leading zeros, blanks.
      const i = `TRY_CAST(${s} AS BIGINT)`;
      const exact = `CASE WHEN CAST(${i} AS VARCHAR) = ${s} AND abs(${i}) <= ${MAX_SAFE} THEN ${intIn(i, storage, column)} ELSE ${bad} END`;
      if (storage === "float64") {
        return {
          casts: [[x, i]],
          expr: `CASE WHEN ${s} IS NULL THEN NULL WHEN CAST(${x} AS VARCHAR) = ${s} AND abs(${x}) <= ${MAX_SAFE} THEN CAST(${x} AS DOUBLE) ELSE ${bad} END`,
        };
      }
      // An int32 printed back as the text is the value; anything else is decided as a BIGINT.
      return {
        casts: [[x, `TRY_CAST(${s} AS INTEGER)`]],
        expr: `CASE WHEN ${s} IS NULL THEN NULL WHEN CAST(${x} AS VARCHAR) = ${s} THEN ${x} ELSE ${exact} END`,
      };
    }
    case "float": {
      // Digits alone must be a safe integer (a long ID is text); Number() and DuckDB both round correctly.
      return {
        casts: [[x, `TRY_CAST(${s} AS DOUBLE)`]],
        expr: `CASE WHEN ${s} IS NULL THEN NULL WHEN regexp_full_match(${s}, ${FLOAT_RE}) AND isfinite(${x}) AND (abs(${x}) <= ${MAX_SAFE} OR NOT regexp_full_match(${s}, ${DIGITS_RE})) THEN ${x} ELSE ${bad} END`,
      };
    }
    case "boolean": {
      const one = "CAST(1 AS UTINYINT)";
      const zero = "CAST(0 AS UTINYINT)";
      const ones = lenient ? ` WHEN ${s} = '1' THEN ${one} WHEN ${s} = '0' THEN ${zero}` : "";
      return {
        casts: [],
        expr: `CASE WHEN ${s} IS NULL THEN NULL WHEN ${s} = 'false' THEN ${zero} WHEN ${s} = 'true' THEN ${one} WHEN lower(${s}) = 'true' THEN ${one} WHEN lower(${s}) = 'false' THEN ${zero}${ones} ELSE ${bad} END`,
      };
    }
    case "date": {
      return {
        casts: [[x, `TRY_CAST(${s} AS DATE)`]],
        expr: `CASE WHEN ${s} IS NULL THEN NULL WHEN length(${s}) = 10 AND CAST(${x} AS VARCHAR) = ${s} THEN CAST(${x} - DATE '1970-01-01' AS INTEGER) ELSE ${bad} END`,
      };
    }
    case "timestamp": {
      // A timestamp column also takes plain dates (midnight UTC). Text without a zone is UTC,
      // as DuckDB's TIMESTAMP is. floor(), not epoch_ms's truncation, as values.ts rounds.
      // DuckDB prints no 'T', so the first branch is the second's common case.
      const d = `TRY_CAST(${s} AS DATE)`;
      const ms = `floor(epoch_us(${x}) / 1000)`;
      return {
        casts: [[x, `TRY_CAST(${s} AS TIMESTAMP)`]],
        expr:
          `CASE WHEN ${s} IS NULL THEN NULL WHEN length(${s}) >= 19 AND CAST(${x} AS VARCHAR) = ${s} THEN ${ms} ` +
          `WHEN length(${s}) >= 19 AND CAST(${x} AS VARCHAR) = replace(${s}, 'T', ' ') THEN ${ms} ` +
          `WHEN length(${s}) = 10 AND CAST(${d} AS VARCHAR) = ${s} THEN CAST(${d} - DATE '1970-01-01' AS DOUBLE) * 86400000 ELSE ${bad} END`,
      };
    }
    case "string":
      return { casts: [], expr: s };
  }
}

/**
 * A Parquet column `c` as parquet-source.ts and values.ts read it: integers within ±2^53, NaN as
 * NULL and ±Infinity refused, dates as days, timestamps as epoch ms, booleans as 0/1.
 */
export function parquetCell(c: string, type: ColumnType, storage: ChunkStorage, column: number): string {
  const bad = misfit(column);
  switch (type) {
    case "int":
      return `CASE WHEN ${c} IS NULL THEN NULL WHEN abs(CAST(${c} AS HUGEINT)) <= ${MAX_SAFE} THEN ${intIn(`CAST(${c} AS BIGINT)`, storage, column)} ELSE ${bad} END`;
    case "float":
      return `CASE WHEN ${c} IS NULL OR isnan(${c}) THEN NULL WHEN isinf(${c}) THEN ${bad} ELSE CAST(${c} AS DOUBLE) END`;
    case "boolean":
      return `CAST(${c} AS UTINYINT)`;
    case "date":
      return `CAST(${c} - DATE '1970-01-01' AS INTEGER)`;
    case "timestamp":
      return `CAST(epoch_ms(${c}) AS DOUBLE)`;
    case "string":
      return c;
  }
}
