/** The answer cache's key for a query: SHA-256 of its canonical IR (RFC 8785 JSON). */
import { createHash } from "node:crypto";
import canonicalize from "canonicalize";
import type { JsonValue } from "../../store/port.ts";

export function canonicalQueryHash(ir: JsonValue): string {
  const text = canonicalize(ir);
  if (text === undefined) throw new Error("query IR has no canonical JSON form");
  return createHash("sha256").update(text, "utf8").digest("hex");
}
