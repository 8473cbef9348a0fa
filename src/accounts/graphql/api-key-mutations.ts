/** createApiKey (secret shown once) and revokeApiKey, for the signed-in account's own keys. */
import { builder } from "../../graphql/builder.ts";
import { InvalidInput, NotFound } from "../../errors.ts";
import type { Stored } from "../../store/port.ts";
import type { ApiKey } from "../model.ts";
import { ApiKeyRef } from "./api-key.ts";

const CreatedApiKey = builder.objectRef<{ apiKey: Stored<ApiKey>; secret: string }>("CreatedApiKey").implement({
  fields: (t) => ({
    apiKey: t.field({ type: ApiKeyRef, resolve: (c) => c.apiKey }),
    secret: t.exposeString("secret", {
      description: "The full key. Shown only now; store it safely. Send it as `Authorization: Bearer <secret>`.",
    }),
  }),
});

const CreateApiKeyInput = builder.inputType("CreateApiKeyInput", {
  fields: (t) => ({ name: t.string({ required: true, description: 'What the key is for, e.g. "analytics job".' }) }),
});

builder.mutationField("createApiKey", (t) =>
  t.field({
    type: CreatedApiKey,
    authScopes: { signedIn: true },
    errors: { types: [InvalidInput] },
    args: { input: t.arg({ type: CreateApiKeyInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.services.accounts.createApiKey(ctx.principal!.account._id, input.name),
  }),
);

builder.mutationField("revokeApiKey", (t) =>
  t.field({
    type: ApiKeyRef,
    description: "Revokes one of your API keys. Revoking twice is harmless.",
    authScopes: { signedIn: true },
    errors: { types: [NotFound] },
    args: { id: t.arg.globalID({ required: true }) },
    resolve: (_root, { id }, ctx) => {
      if (id.typename !== "ApiKey") throw new NotFound("API key");
      return ctx.services.accounts.revokeApiKey(ctx.principal!.account._id, id.id);
    },
  }),
);
