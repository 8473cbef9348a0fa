/** grantRole / revokeRole: the only way to REGULATOR and ADMIN. Admins only. */
import { builder } from "../../graphql/builder.ts";
import { InvalidInput, NotFound } from "../../errors.ts";
import { AccountRef } from "./account.ts";
import { RoleEnum } from "./role.ts";

for (const [name, present] of [
  ["grantRole", true],
  ["revokeRole", false],
] as const) {
  builder.mutationField(name, (t) =>
    t.field({
      type: AccountRef,
      description: present ? "Gives an account a role. Admins only." : "Takes a role from an account. Admins only.",
      authScopes: { admin: true },
      errors: { types: [NotFound, InvalidInput] },
      args: {
        accountId: t.arg.globalID({ required: true }),
        role: t.arg({ type: RoleEnum, required: true }),
      },
      resolve: (_root, { accountId, role }, ctx) => {
        if (accountId.typename !== "Account") throw new NotFound("account");
        if (!present && role === "ADMIN" && accountId.id === ctx.principal!.account._id) {
          throw new InvalidInput([{ path: "role", message: "an admin cannot remove their own ADMIN role" }]);
        }
        return ctx.services.accounts.setRole(accountId.id, role, present, ctx.principal!.account._id);
      },
    }),
  );
}
