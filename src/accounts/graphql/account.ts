import { builder } from "../../graphql/builder.ts";
import type { Stored } from "../../store/port.ts";
import type { Account } from "../model.ts";
import { RoleEnum } from "./role.ts";
import { ApiKeyRef } from "./api-key.ts";

export const AccountRef = builder.objectRef<Stored<Account>>("Account");

AccountRef.implement({
  description: "A person or organisation on the exchange. Visible to itself and to admins.",
  authScopes: (account) => ({ $any: { self: account._id, admin: true } }),
  fields: (t) => ({
    id: t.globalID({ resolve: (a) => ({ type: "Account", id: a._id }) }),
    email: t.exposeString("email"),
    roles: t.field({ type: [RoleEnum], resolve: (a) => a.roles }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    apiKeys: t.field({
      type: [ApiKeyRef],
      description: "This account's API keys, newest first (active and revoked).",
      authScopes: (account) => ({ self: account._id }),
      resolve: (a, _args, ctx) => ctx.services.accounts.listApiKeys(a._id),
    }),
  }),
});
