/**
 * Resolves the bearer credential once per request, for every route: `ctx.state.viewer` is the
 * caller (or null when anonymous). A bad credential does not fail the request here: GraphQL
 * answers it in GraphQL's shape and other routes in the one error body, each with 401 and the
 * reason (`ctx.state.credentialError`). Webhooks keep their own verification and ignore both.
 */
import type { Context, Middleware } from "koa";
import { Unauthenticated, type CredentialResolver, type Role, type Viewer } from "../viewer.ts";
import { HttpError } from "./errors.ts";

export interface ViewerState {
  viewer: Viewer | null;
  credentialError: string | null;
}

export function resolveViewer(credentials: CredentialResolver): Middleware {
  return async (ctx, next) => {
    const state = ctx.state as ViewerState & { keyPrefix?: string; accountId?: string };
    state.viewer = null;
    state.credentialError = null;
    const header = ctx.get("authorization");
    if (header) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (!match) state.credentialError = "Authorization header must be `Bearer <API key or session token>`";
      else {
        try {
          const viewer = await credentials.authenticate(match[1]!);
          state.viewer = viewer;
          state.keyPrefix = viewer.keyPrefix ?? "session";
          state.accountId = viewer.account._id;
        } catch (e) {
          if (!(e instanceof Unauthenticated)) throw e;
          state.credentialError = e.message;
        }
      }
    }
    await next();
  };
}

/** The signed-in caller of a non-GraphQL route, with one of `roles` (any role when none given); 401/403 otherwise. */
export function requireViewer(ctx: Context, roles: readonly Role[] = [], refusal = "not authorized"): Viewer {
  const { viewer, credentialError } = ctx.state as ViewerState;
  if (credentialError) throw new HttpError(401, "UNAUTHENTICATED", credentialError);
  if (!viewer) throw new HttpError(401, "UNAUTHENTICATED", "send Authorization: Bearer <API key or session token>");
  if (roles.length > 0 && !viewer.account.roles.some((r) => roles.includes(r))) throw new HttpError(403, "NOT_AUTHORIZED", refusal);
  return viewer;
}
