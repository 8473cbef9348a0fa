import { builder } from "../../graphql/builder.ts";
import type { Stored } from "../../store/port.ts";
import type { ApiKey } from "../model.ts";

export const ApiKeyRef = builder.objectRef<Stored<ApiKey>>("ApiKey");

ApiKeyRef.implement({
  description: "An API key. Its secret is shown once, at creation; afterwards only its prefix.",
  // Keys are only reachable through their own account, but check again at the type.
  authScopes: (key) => ({ self: key.accountId }),
  fields: (t) => ({
    id: t.globalID({ resolve: (k) => ({ type: "ApiKey", id: k._id }) }),
    name: t.exposeString("name"),
    prefix: t.exposeString("prefix", { description: 'The visible start of the secret, e.g. "dxk_7f3k9q2m".' }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    lastUsedAt: t.expose("lastUsedAt", { type: "DateTime", nullable: true }),
    revokedAt: t.expose("revokedAt", { type: "DateTime", nullable: true }),
    active: t.boolean({ resolve: (k) => k.revokedAt === null }),
  }),
});
