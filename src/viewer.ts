/**
 * Who is calling. The HTTP edge (src/http/viewer.ts) resolves a bearer credential into a
 * Viewer once per request; GraphQL resolvers and routes read it. Defined here, below every
 * module, so neither graphql/ nor a route has to import the accounts module to know the shape.
 */
import { DomainError } from "./errors.ts";

export const ROLES = ["OWNER", "BUYER", "REGULATOR", "ADMIN"] as const;
export type Role = (typeof ROLES)[number];

export interface Viewer {
  account: { _id: string; roles: readonly Role[] };
  via: "session" | "apiKey";
  /** Session id (a hash) or API key id. */
  credentialId: string;
  /** The API key's visible prefix, for logs; null for a session. */
  keyPrefix: string | null;
}

/** Turns a bearer credential into a viewer; implemented by the accounts module. */
export interface CredentialResolver {
  /** Throws `Unauthenticated` for a malformed, unknown, expired or revoked credential. */
  authenticate(token: string): Promise<Viewer>;
}

export function hasRole(viewer: Viewer | null, ...roles: Role[]): boolean {
  return viewer !== null && viewer.account.roles.some((r) => roles.includes(r));
}

/** A request carried a bearer credential that is malformed, unknown, expired or revoked. */
export class Unauthenticated extends DomainError {
  readonly code = "UNAUTHENTICATED";
  constructor(reason: string) {
    super(reason);
    this.name = "Unauthenticated";
  }
}
