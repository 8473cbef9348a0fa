/**
 * Per-request GraphQL context: who is calling (resolved once by the HTTP edge) and the services.
 *
 * `ExchangeServices` starts empty: each module adds its service from its own `graphql/index.ts`
 * by declaration merging (`declare module "…/graphql/context.ts"`), so this folder imports no
 * module while resolvers still see typed services. The composition root (src/exchange/) must
 * supply every one of them, or it does not type-check.
 */
import type { Logger } from "../logger.ts";
import type { Metrics } from "../metrics.ts";
import type { BlobStore, DocumentStore } from "../store/port.ts";
import type { Role, Viewer } from "../viewer.ts";

/** The services of one exchange; each module adds its own (see above). */
export interface ExchangeServices {
  store: DocumentStore;
  blobs: BlobStore;
  metrics: Metrics;
}

export interface GraphQLContext {
  services: ExchangeServices;
  /** The caller, or null when anonymous. */
  principal: Viewer | null;
  requestId: string;
  log: Logger;
  /** Accounts this request has just signed in (signUp/signIn): their own fields may be shown. */
  signedInNow: Set<string>;
  /** Whose leaky bucket this request's cost goes to: the credential, else the client address. */
  rateKey: string;
}

export function hasRole(ctx: GraphQLContext, role: Role): boolean {
  return ctx.principal?.account.roles.includes(role) ?? false;
}
