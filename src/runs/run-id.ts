/**
 * A run's id. With an idempotency key it is derived from (buyer, key), so a retry finds the same
 * run; without one it is new. A key is 1–255 printable characters (no control characters): an
 * empty key is a mistake, not "no key", and is refused like any other bad key.
 */
import { createHash } from "node:crypto";
import { InvalidInput } from "../errors.ts";
import { newId } from "../ids.ts";

const PRINTABLE = /^[^\p{Cc}\p{Cs}]{1,255}$/u;

export function runIdFor(prefix: "qry" | "anr", buyerId: string, idempotencyKey: string | null | undefined, salt = ""): string {
  if (idempotencyKey === null || idempotencyKey === undefined) return newId(prefix);
  if (!PRINTABLE.test(idempotencyKey) || idempotencyKey.trim() !== idempotencyKey || idempotencyKey.length === 0) {
    throw new InvalidInput([
      {
        path: "input.idempotencyKey",
        message: "must be 1–255 printable characters with no control characters and no spaces at either end (or left out for no key)",
      },
    ]);
  }
  return `${prefix}_${createHash("sha256").update(`${buyerId}\u0000${salt}${idempotencyKey}`).digest("hex").slice(0, 24)}`;
}
