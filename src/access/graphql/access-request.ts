/** The AccessRequest type: visible to the buyer who made it and to the owner of the listing. */
import { builder } from "../../graphql/builder.ts";
import { hasRole } from "../../graphql/context.ts";
import type { Stored } from "../../store/port.ts";
import { ListingRef } from "../../catalog/graphql/index.ts";
import { canSee } from "../../catalog/index.ts";
import { ACCESS_STATUSES, type AccessDecisionRecord, type AccessRequest } from "../model.ts";

export const AccessStatusEnum = builder.enumType("AccessRequestStatus", {
  description: "PENDING until the owner decides; APPROVED is an entitlement to query until REVOKED.",
  values: ACCESS_STATUSES,
});

const DecisionRef = builder.objectRef<AccessDecisionRecord>("AccessDecisionRecord").implement({
  description: "Who decided, when and why.",
  fields: (t) => ({
    at: t.expose("at", { type: "DateTime" }),
    bySystem: t.boolean({ description: "Decided by the exchange itself (instant-access listing).", resolve: (d) => d.by === "system" }),
    reason: t.exposeString("reason"),
  }),
});

export const AccessRequestRef = builder.objectRef<Stored<AccessRequest>>("AccessRequest");

AccessRequestRef.implement({
  description: "A buyer's request for access to a listing, with the stated purpose and the owner's decision.",
  authScopes: (r) => ({ $any: { self: r.buyerId, $all: { self: r.ownerId } } }),
  fields: (t) => ({
    id: t.globalID({ resolve: (r) => ({ type: "AccessRequest", id: r._id }) }),
    listingId: t.globalID({ resolve: (r) => ({ type: "Listing", id: r.listingId }) }),
    listing: t.field({
      type: ListingRef,
      nullable: true,
      description: "The listing, while you may see it (null once it is suspended, unless it is yours).",
      resolve: async (r, _args, ctx) => {
        const l = await ctx.services.catalog.findListing(r.listingId);
        return l && canSee(l, { accountId: ctx.principal?.account._id ?? null, admin: hasRole(ctx, "ADMIN") }) ? l : null;
      },
    }),
    buyerId: t.globalID({ resolve: (r) => ({ type: "Account", id: r.buyerId }) }),
    status: t.field({ type: AccessStatusEnum, resolve: (r) => r.status }),
    purpose: t.exposeString("purpose"),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    decision: t.field({ type: DecisionRef, nullable: true, resolve: (r) => r.decision }),
    revocation: t.field({ type: DecisionRef, nullable: true, resolve: (r) => r.revocation }),
  }),
});

builder.objectField(ListingRef, "viewerAccess", (t) =>
  t.field({
    type: AccessRequestRef,
    nullable: true,
    description: "Your latest access request for this listing (null if you have none or are not signed in).",
    resolve: (l, _args, ctx) => (ctx.principal ? ctx.services.access.latestFor(ctx.principal.account._id, l._id) : null),
  }),
);
