/** What the accounts module stores. Secrets are never stored: only their SHA-256 or scrypt hashes. */
import type { IndexSpec } from "../store/port.ts";
import { ROLES, type Role } from "../viewer.ts";

export { ROLES, type Role };

/** Roles a person may pick at sign-up; the others only an admin grants. */
export const SELF_SERVICE_ROLES: readonly Role[] = ["OWNER", "BUYER"];

export interface Account {
  email: string;
  passwordHash: string;
  roles: Role[];
  createdAt: string;
  /** Audit event ids of the role changes applied to this account (the drift repair's evidence). */
  roleEvents?: string[];
}

/** `_id` is the SHA-256 of the session token, so a leaked database holds no usable token. */
export interface Session {
  accountId: string;
  createdAt: string;
  expiresAt: string;
  revokedAt: string | null;
}

export interface ApiKey {
  accountId: string;
  name: string;
  /** The visible start of the secret, e.g. "dxk_7f3k9q2m", safe to show and to log. */
  prefix: string;
  secretHash: string;
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

export const COLLECTIONS: Record<"accounts" | "sessions" | "apiKeys", { name: string; indexes: IndexSpec[] }> = {
  accounts: { name: "accounts", indexes: [{ fields: ["email"], unique: true }, { fields: ["createdAt"] }] },
  sessions: { name: "sessions", indexes: [{ fields: ["accountId"] }] },
  apiKeys: {
    name: "api_keys",
    indexes: [{ fields: ["secretHash"], unique: true }, { fields: ["accountId", "createdAt"] }],
  },
};
