/**
 * Bearer credentials. Session tokens start with "dxs_", API keys with "dxk_<8 chars>_": the
 * first part is the visible prefix shown in lists and logs. Both carry 256 random bits, so a
 * plain SHA-256 is the right stored form (no slow hash needed for high-entropy secrets).
 */
import { createHash, randomBytes } from "node:crypto";

export const SESSION_TOKEN_PREFIX = "dxs_";
export const API_KEY_PREFIX = "dxk_";

export function sha256Hex(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

export function newSessionToken(): string {
  return SESSION_TOKEN_PREFIX + randomBytes(32).toString("base64url");
}

export function newApiKeySecret(): { secret: string; prefix: string } {
  const visible = randomBytes(6).toString("base64url").replace(/[-_]/g, "x").slice(0, 8);
  const prefix = `${API_KEY_PREFIX}${visible}`;
  return { prefix, secret: `${prefix}_${randomBytes(32).toString("base64url")}` };
}

export type BearerKind = "session" | "apiKey";

/** Recognises the shape of a bearer credential without looking it up. */
export function bearerKind(token: string): BearerKind | null {
  if (/^dxs_[A-Za-z0-9_-]{43}$/.test(token)) return "session";
  if (/^dxk_[A-Za-z0-9]{8}_[A-Za-z0-9_-]{43}$/.test(token)) return "apiKey";
  return null;
}
