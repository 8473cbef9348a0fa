/**
 * Canonical JSON (RFC 8785, JCS) through the `canonicalize` package: sorted keys, no
 * whitespace, ECMAScript number formatting. Equal values give equal bytes, so an entry's hash
 * can be recomputed by anyone from its JSON.
 */
import canonicalize from "canonicalize";
import type { JsonValue } from "../store/port.ts";

/** Throws on values JCS cannot represent exactly (non-finite numbers, unsafe integers, undefined). */
export function canonicalJson(value: JsonValue): string {
  assertCanonicalizable(value, "$");
  const text = canonicalize(value);
  if (text === undefined) throw new Error("value has no canonical JSON form");
  return text;
}

/** True when `text` is exactly the canonical form of the JSON it holds. */
export function isCanonicalJson(text: string): boolean {
  try {
    return canonicalize(JSON.parse(text)) === text;
  } catch {
    return false;
  }
}

function assertCanonicalizable(value: unknown, path: string): void {
  if (value === null || typeof value === "string" || typeof value === "boolean") return;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`${path}: numbers in audit events must be finite`);
    if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
      throw new Error(`${path}: integers beyond 2^53 lose precision in JSON; send them as strings`);
    }
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => assertCanonicalizable(v, `${path}[${i}]`));
    return;
  }
  if (typeof value === "object") {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) assertCanonicalizable(v, `${path}.${k}`);
    return;
  }
  throw new Error(`${path}: ${typeof value} is not JSON`);
}
