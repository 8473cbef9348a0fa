/** Money and numbers for people: minor units shown in the currency's major unit, in the UI language. */
import type { Lang } from "./i18n/index.ts";

export function money(amountMinor: number, currency: string, lang: Lang): string {
  try {
    return new Intl.NumberFormat(lang, { style: "currency", currency: currency.toUpperCase() }).format(amountMinor / 100);
  } catch {
    return `${(amountMinor / 100).toFixed(2)} ${currency}`;
  }
}

/** The size an owner declared public: exact, "≤ bound" for a bucket, or null when none was declared. */
export function publicSize(size: { exactRows: number | null; maxRows: number } | null | undefined, lang: Lang): string | null {
  if (!size) return null;
  return size.exactRows !== null ? num(size.exactRows, lang, 0) : `≤ ${num(size.maxRows, lang, 0)}`;
}

export function num(value: number, lang: Lang, digits = 2): string {
  return new Intl.NumberFormat(lang, { maximumFractionDigits: digits }).format(value);
}

/** Pothos global ids are base64("Type:rawId"); the upload route takes the raw id. */
export function rawId(globalId: string): string {
  const decoded = atob(globalId);
  return decoded.slice(decoded.indexOf(":") + 1);
}

/** The message of a DomainError result (every error result has one), or its type name. */
export function domainMessage(result: { __typename?: string }): string {
  const r = result as { __typename?: string; message?: string; rule?: string };
  return r.message ? (r.rule ? `${r.rule}: ${r.message}` : r.message) : (r.__typename ?? "error");
}

/** A ratio as a signed percentage (0.031 → "+3.1%"), in the UI language. */
export function percent(ratio: number, lang: Lang, signed = false): string {
  return new Intl.NumberFormat(lang, {
    style: "percent",
    maximumFractionDigits: 1,
    ...(signed ? { signDisplay: "exceptZero" as const } : {}),
  }).format(ratio);
}
