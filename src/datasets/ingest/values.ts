/**
 * Reading one cell: which type a piece of text looks like (inference) and its number under a
 * given type (conversion). Hand-written char-code parsers, because this runs once per cell of
 * files with hundreds of millions of cells.
 *
 *   int        -?(0|[1-9][0-9]*) and a safe integer (|v| < 2^53). Leading zeros ("007") and
 *              longer digit runs are text: they are identifiers, not quantities.
 *   float      [+-]?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? or [+-]?.[0-9]+…, finite; digits
 *              alone must be a safe integer (else they are text, like int).
 *   boolean    true / false in any letter case (declared boolean columns also take 1 / 0).
 *   date       YYYY-MM-DD, a real calendar day → days since 1970-01-01.
 *   timestamp  YYYY-MM-DD[T ]HH:MM[:SS[.fraction]][Z|±HH[:]MM] → epoch milliseconds; no zone
 *              means UTC. A column of timestamps also accepts plain dates (midnight).
 *   string     anything else.
 * In CSV an empty cell is null; every other text is a value.
 */
import type { ColumnType } from "../model.ts";

export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;
const MS_PER_DAY = 86_400_000;

/** Strict decimal integer, or NaN. */
export function parseIntText(s: string): number {
  const n = s.length;
  if (n === 0) return NaN;
  let i = 0;
  let neg = false;
  let c = s.charCodeAt(0);
  if (c === 45 /* - */) {
    if (n === 1) return NaN;
    neg = true;
    i = 1;
    c = s.charCodeAt(1);
  }
  if (c === 48 /* 0 */) return i + 1 === n ? 0 : NaN;
  if (n - i > 16) return NaN;
  let v = 0;
  for (; i < n; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return NaN;
    v = v * 10 + d;
  }
  if (v > Number.MAX_SAFE_INTEGER) return NaN;
  return neg ? -v : v;
}

/** Strict decimal number (integers included), or NaN. */
export function parseFloatText(s: string): number {
  const n = s.length;
  let i = 0;
  let c = s.charCodeAt(0);
  if (c === 45 || c === 43) c = s.charCodeAt(++i); // - +
  let intDigits = 0;
  const intStart = i;
  while (c >= 48 && c <= 57) {
    intDigits++;
    c = s.charCodeAt(++i);
  }
  if (intDigits > 1 && s.charCodeAt(intStart) === 48) return NaN; // leading zero
  let fracDigits = 0;
  if (c === 46 /* . */) {
    c = s.charCodeAt(++i);
    while (c >= 48 && c <= 57) {
      fracDigits++;
      c = s.charCodeAt(++i);
    }
    if (fracDigits === 0) return NaN;
  }
  if (intDigits === 0 && fracDigits === 0) return NaN;
  let exponent = false;
  if (c === 101 || c === 69 /* e E */) {
    exponent = true;
    c = s.charCodeAt(++i);
    if (c === 45 || c === 43) c = s.charCodeAt(++i);
    let expDigits = 0;
    while (c >= 48 && c <= 57) {
      expDigits++;
      c = s.charCodeAt(++i);
    }
    if (expDigits === 0) return NaN;
  }
  if (i !== n) return NaN;
  const v = Number(s);
  // A run of digits too long to be exact is an identifier (an ID-card number), not a quantity.
  if (fracDigits === 0 && !exponent && !Number.isSafeInteger(v)) return NaN;
  return Number.isFinite(v) ? v : NaN;
}

/** 1 for true, 0 for false, -1 for neither. `lenient` also takes 1/0 (declared boolean columns). */
export function parseBoolText(s: string, lenient: boolean): number {
  const n = s.length;
  if (n === 4) {
    if (s === "true" || s === "TRUE" || s === "True" || s.toLowerCase() === "true") return 1;
  } else if (n === 5) {
    if (s === "false" || s === "FALSE" || s === "False" || s.toLowerCase() === "false") return 0;
  } else if (lenient && n === 1) {
    if (s === "1") return 1;
    if (s === "0") return 0;
  }
  return -1;
}

/** Days from 1970-01-01 to the given proleptic Gregorian date (Howard Hinnant's algorithm). */
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

function digits(s: string, at: number, count: number): number {
  let v = 0;
  for (let i = at; i < at + count; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** The date part "YYYY-MM-DD" at the start of s → epoch days, or NaN. */
function datePrefix(s: string): number {
  if (s.length < 10 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return NaN;
  const y = digits(s, 0, 4);
  const m = digits(s, 5, 2);
  const d = digits(s, 8, 2);
  if (y < 0 || m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m)) return NaN;
  return daysFromCivil(y, m, d);
}

/** "YYYY-MM-DD" → epoch days, or NaN. */
export function parseDateText(s: string): number {
  return s.length === 10 ? datePrefix(s) : NaN;
}

/** A timestamp (or, when `dateOk`, a plain date at midnight UTC) → epoch milliseconds, or NaN. */
export function parseTimestampText(s: string, dateOk: boolean): number {
  const n = s.length;
  if (n === 10) return dateOk ? datePrefix(s) * MS_PER_DAY : NaN;
  if (n < 16) return NaN;
  const days = datePrefix(s);
  if (Number.isNaN(days)) return NaN;
  const sep = s.charCodeAt(10);
  if (sep !== 84 /* T */ && sep !== 32 /* space */ && sep !== 116 /* t */) return NaN;
  const hh = digits(s, 11, 2);
  const mi = digits(s, 14, 2);
  if (s.charCodeAt(13) !== 58 || hh < 0 || hh > 23 || mi < 0 || mi > 59) return NaN;
  let i = 16;
  let ss = 0;
  let ms = 0;
  if (i < n && s.charCodeAt(i) === 58 /* : */) {
    ss = digits(s, i + 1, 2);
    if (i + 3 > n || ss < 0 || ss > 59) return NaN;
    i += 3;
    if (i < n && (s.charCodeAt(i) === 46 || s.charCodeAt(i) === 44) /* . , */) {
      i++;
      let scale = 100;
      const start = i;
      while (i < n) {
        const d = s.charCodeAt(i) - 48;
        if (d < 0 || d > 9) break;
        ms += d * scale;
        scale /= 10;
        i++;
      }
      if (i === start || i - start > 9) return NaN;
      ms = Math.floor(ms);
    }
  }
  let offsetMin = 0;
  if (i < n) {
    const z = s.charCodeAt(i);
    if ((z === 90 || z === 122) /* Z z */ && i + 1 === n) {
      i++;
    } else if (z === 43 || z === 45 /* + - */) {
      const rest = n - i - 1;
      const oh = digits(s, i + 1, 2);
      let om = 0;
      if (rest === 2) om = 0;
      else if (rest === 4) om = digits(s, i + 3, 2);
      else if (rest === 5 && s.charCodeAt(i + 3) === 58) om = digits(s, i + 4, 2);
      else return NaN;
      if (oh < 0 || oh > 18 || om < 0 || om > 59) return NaN;
      offsetMin = (z === 45 ? -1 : 1) * (oh * 60 + om);
      i = n;
    } else {
      return NaN;
    }
  }
  return days * MS_PER_DAY + hh * 3_600_000 + mi * 60_000 + ss * 1000 + ms - offsetMin * 60_000;
}

/** The narrowest type a non-empty CSV cell fits. */
export function classifyText(s: string): ColumnType {
  const c = s.charCodeAt(0);
  if ((c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46) {
    if (!Number.isNaN(parseIntText(s))) return "int";
    if (!Number.isNaN(parseFloatText(s))) return "float";
    if (!Number.isNaN(parseDateText(s))) return "date";
    if (!Number.isNaN(parseTimestampText(s, false))) return "timestamp";
    return "string";
  }
  if ((c === 116 || c === 102 || c === 84 || c === 70) && parseBoolText(s, false) >= 0) return "boolean";
  return "string";
}

/** A JSON value's type (NDJSON, Parquet): numbers and booleans by their JSON type, strings may be dates. */
export function classifyValue(v: unknown): ColumnType | null {
  switch (typeof v) {
    case "number":
      return Number.isSafeInteger(v) ? "int" : "float";
    case "boolean":
      return "boolean";
    case "string": {
      if (!Number.isNaN(parseDateText(v))) return "date";
      if (!Number.isNaN(parseTimestampText(v, false))) return "timestamp";
      return "string";
    }
    default:
      if (v instanceof Date) return "timestamp";
      return null;
  }
}

/** The least type holding both (inference only widens): int+float → float, date+timestamp → timestamp, else string. */
export function joinTypes(a: ColumnType | null, b: ColumnType): ColumnType {
  if (a === null || a === b) return b;
  if ((a === "int" && b === "float") || (a === "float" && b === "int")) return "float";
  if ((a === "date" && b === "timestamp") || (a === "timestamp" && b === "date")) return "timestamp";
  return "string";
}

/**
 * A CSV cell as a number of the given type, or NaN if it does not fit. `declared` is lenient
 * where the owner said what the column is (booleans as 1/0); inferred columns take exactly the
 * texts that inference would have joined into their type, so conversion and inference agree.
 */
export function textToNumber(type: ColumnType, s: string, declared: boolean): number {
  switch (type) {
    case "int":
      return parseIntText(s);
    case "float":
      return parseFloatText(s);
    case "boolean": {
      const b = parseBoolText(s, declared);
      return b < 0 ? NaN : b;
    }
    case "date":
      return parseDateText(s);
    case "timestamp":
      return parseTimestampText(s, true);
    default:
      return NaN;
  }
}

/** A JSON/Parquet value as a number of the given type, or NaN. Declared columns also parse text. */
export function valueToNumber(type: ColumnType, v: unknown, declared: boolean): number {
  if (typeof v === "string") {
    if (type === "date" || type === "timestamp" || declared) return textToNumber(type, v, declared);
    return NaN;
  }
  switch (type) {
    case "int":
      return typeof v === "number" && Number.isSafeInteger(v) ? v : NaN;
    case "float":
      return typeof v === "number" && Number.isFinite(v) ? v : NaN;
    case "boolean":
      return typeof v === "boolean" ? (v ? 1 : 0) : NaN;
    case "date":
      return v instanceof Date ? Math.floor(v.getTime() / MS_PER_DAY) : NaN;
    case "timestamp":
      return v instanceof Date ? v.getTime() : NaN;
    default:
      return NaN;
  }
}

/** A JSON/Parquet scalar as dictionary text (string columns). */
export function valueToText(v: unknown): string {
  if (typeof v === "string") return v;
  if (v instanceof Date) return v.toISOString();
  return String(v);
}
