/**
 * Deterministic ids and fingerprints. A record made for an idempotency key gets an id derived
 * from that key, so a retry inserts the same `_id` and the unique index turns it into a no-op;
 * Stripe idempotency keys are derived from these ledger ids in turn.
 */
import { createHash } from "node:crypto";
import canonicalize from "canonicalize";

const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

/** `prefix_` + 26 base32 characters of SHA-256(key): stable across processes and restarts. */
export function derivedId(prefix: string, key: string): string {
  const digest = createHash("sha256").update(key).digest();
  let out = "";
  for (let i = 0; i < 26; i++) {
    // 26 × 5 bits = 130 bits of the 256-bit digest.
    const bit = i * 5;
    const byte = bit >> 3;
    const word = ((digest[byte] ?? 0) << 8) | (digest[byte + 1] ?? 0);
    out += ALPHABET[(word >> (11 - (bit & 7))) & 31];
  }
  return `${prefix}_${out}`;
}

/** SHA-256 (hex) of the canonical JSON (RFC 8785) of a value: "the same content". */
export function fingerprint(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new Error("cannot fingerprint an undefined value");
  return createHash("sha256").update(text).digest("hex");
}
