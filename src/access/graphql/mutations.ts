/** Buyers request access; owners approve, deny or revoke it, always with who/when/why kept. */
import { builder } from "../../graphql/builder.ts";
import { InvalidInput, NotFound } from "../../errors.ts";
import { ACCESS_DECISIONS } from "../service.ts";
import { AccessRequestConflict } from "../errors.ts";
import { AccessRequestRef } from "./access-request.ts";

const AccessDecisionEnum = builder.enumType("AccessDecision", { values: ACCESS_DECISIONS });

const RequestAccessInput = builder.inputType("RequestAccessInput", {
  fields: (t) => ({
    listingId: t.globalID({ required: true }),
    purpose: t.string({ required: true, description: "What you will use the answers for (10–2000 characters); the owner reads it." }),
  }),
});

const DecideAccessRequestInput = builder.inputType("DecideAccessRequestInput", {
  fields: (t) => ({
    requestId: t.globalID({ required: true }),
    decision: t.field({ type: AccessDecisionEnum, required: true }),
    reason: t.string({ description: "Why; required to DENY." }),
  }),
});

const RevokeAccessInput = builder.inputType("RevokeAccessInput", {
  fields: (t) => ({ requestId: t.globalID({ required: true }), reason: t.string({ required: true }) }),
});

function requestId(id: { typename: string; id: string }): string {
  if (id.typename !== "AccessRequest") throw new NotFound("access request");
  return id.id;
}

builder.mutationField("requestAccess", (t) =>
  t.field({
    type: AccessRequestRef,
    description: "Asks for access to a published listing. Instant-access listings approve at once.",
    authScopes: { buyer: true },
    errors: { types: [NotFound, InvalidInput, AccessRequestConflict] },
    args: { input: t.arg({ type: RequestAccessInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      if (input.listingId.typename !== "Listing") throw new NotFound("listing");
      return ctx.services.access.request(ctx.principal!.account._id, { listingId: input.listingId.id, purpose: input.purpose });
    },
  }),
);

builder.mutationField("decideAccessRequest", (t) =>
  t.field({
    type: AccessRequestRef,
    description: "Approves or denies a pending request for one of your listings.",
    authScopes: { owner: true },
    errors: { types: [NotFound, InvalidInput, AccessRequestConflict] },
    args: { input: t.arg({ type: DecideAccessRequestInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      ctx.services.access.decide(ctx.principal!.account._id, {
        requestId: requestId(input.requestId),
        decision: input.decision,
        reason: input.reason ?? null,
      }),
  }),
);

builder.mutationField("revokeAccess", (t) =>
  t.field({
    type: AccessRequestRef,
    description: "Withdraws access you approved, with a reason.",
    authScopes: { owner: true },
    errors: { types: [NotFound, InvalidInput, AccessRequestConflict] },
    args: { input: t.arg({ type: RevokeAccessInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      ctx.services.access.revoke(ctx.principal!.account._id, { requestId: requestId(input.requestId), reason: input.reason }),
  }),
);
