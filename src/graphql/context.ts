/** Per-request GraphQL context: who is calling (resolved from the bearer credential) and the services. */
import type { Principal } from "../accounts/service.ts";
import type { Role } from "../accounts/model.ts";
import type { Services } from "../services.ts";
import type { Logger } from "../logger.ts";

export interface GraphQLContext {
  services: Services;
  principal: Principal | null;
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
