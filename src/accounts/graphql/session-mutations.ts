/** signUp, signIn, signOut: email + password → a session token with an expiry. */
import { builder } from "../../graphql/builder.ts";
import type { GraphQLContext } from "../../graphql/context.ts";
import { InvalidInput } from "../../errors.ts";
import type { SignedIn } from "../service.ts";
import { EmailTaken, InvalidCredentials, WeakPassword } from "../errors.ts";
import { AccountRef } from "./account.ts";
import { RoleEnum } from "./role.ts";

/** The account just signed in may see its own fields in this response. */
function revealed(ctx: GraphQLContext, session: SignedIn): SignedIn {
  ctx.signedInNow.add(session.account._id);
  return session;
}

const SessionRef = builder.objectRef<SignedIn>("Session").implement({
  description: "A signed-in session. Send the token as `Authorization: Bearer <token>`.",
  fields: (t) => ({
    token: t.exposeString("token", { description: "Shown once; the exchange keeps only its hash." }),
    expiresAt: t.expose("expiresAt", { type: "DateTime" }),
    account: t.field({ type: AccountRef, resolve: (s) => s.account }),
  }),
});

const SignUpInput = builder.inputType("SignUpInput", {
  fields: (t) => ({
    email: t.string({ required: true }),
    password: t.string({ required: true, description: "At least 10 characters mixing three kinds, or 16+." }),
    roles: t.field({ type: [RoleEnum], required: false, description: "OWNER and/or BUYER; BUYER when omitted." }),
  }),
});

const SignInInput = builder.inputType("SignInInput", {
  fields: (t) => ({
    email: t.string({ required: true }),
    password: t.string({ required: true }),
  }),
});

builder.mutationField("signUp", (t) =>
  t.field({
    type: SessionRef,
    description: "Creates an account and signs it in.",
    authScopes: { public: true },
    errors: { types: [EmailTaken, WeakPassword, InvalidInput] },
    args: { input: t.arg({ type: SignUpInput, required: true }) },
    resolve: async (_root, { input }, ctx) => revealed(ctx, await ctx.services.accounts.signUp(input)),
  }),
);

builder.mutationField("signIn", (t) =>
  t.field({
    type: SessionRef,
    authScopes: { public: true },
    errors: { types: [InvalidCredentials, InvalidInput] },
    args: { input: t.arg({ type: SignInInput, required: true }) },
    resolve: async (_root, { input }, ctx) => revealed(ctx, await ctx.services.accounts.signIn(input)),
  }),
);

builder.mutationField("signOut", (t) =>
  t.boolean({
    description: "Ends the session this request was made with. API keys are ended with revokeApiKey.",
    authScopes: { signedIn: true },
    errors: { types: [InvalidInput] },
    resolve: async (_root, _args, ctx) => {
      const p = ctx.principal!;
      if (p.via !== "session") {
        throw new InvalidInput([{ path: "authorization", message: "signOut ends a session token; revoke an API key with revokeApiKey" }]);
      }
      return ctx.services.accounts.signOut(p.credentialId);
    },
  }),
);
