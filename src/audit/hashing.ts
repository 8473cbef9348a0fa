/**
 * RFC 6962 / RFC 9162 hashing: leaf = SHA-256(0x00 ‖ entry), node = SHA-256(0x01 ‖ left ‖ right).
 * The different prefixes keep a leaf from ever being mistaken for an inner node (second-preimage
 * resistance). Pure node:crypto; shared by the service and the offline verifier.
 */
import { createHash } from "node:crypto";

export const HASH_SIZE = 32;

export function leafHash(entry: Uint8Array | string): Buffer {
  const h = createHash("sha256");
  h.update(Buffer.from([0x00]));
  h.update(typeof entry === "string" ? Buffer.from(entry, "utf8") : entry);
  return h.digest();
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash("sha256")
    .update(Buffer.from([0x01]))
    .update(left)
    .update(right)
    .digest();
}

/** The root of the empty tree: SHA-256 of nothing. */
export function emptyRoot(): Buffer {
  return createHash("sha256").digest();
}

export function toHex(h: Uint8Array): string {
  return Buffer.from(h).toString("hex");
}

export function fromHex(hex: string): Buffer {
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error(`not a SHA-256 hash in lower-case hex: ${JSON.stringify(hex.slice(0, 80))}`);
  return Buffer.from(hex, "hex");
}
