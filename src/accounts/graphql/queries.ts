import { builder } from "../../graphql/builder.ts";
import { pageRequest, toConnection } from "../../graphql/connections.ts";
import { encodeCursor } from "../../store/cursor.ts";
import { AccountRef } from "./account.ts";

builder.queryField("viewer", (t) =>
  t.field({
    type: AccountRef,
    nullable: true,
    description: "The signed-in account, or null for an anonymous request.",
    authScopes: { public: true },
    resolve: (_root, _args, ctx) => (ctx.principal ? ctx.services.accounts.getAccount(ctx.principal.account._id) : null),
  }),
);

builder.queryField("accounts", (t) =>
  t.connection({
    type: AccountRef,
    description: "Every account, oldest first. Admins only.",
    authScopes: { admin: true },
    resolve: async (_root, args, ctx) => {
      const { first, after } = pageRequest(args);
      const page = await ctx.services.accounts.listAccounts(first, after);
      return toConnection(page, (a) => encodeCursor([["createdAt", 1]], a), after);
    },
  }),
);
