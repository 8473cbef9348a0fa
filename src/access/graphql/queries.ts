/** Buyers see their own requests; owners see requests for their listings. */
import { builder } from "../../graphql/builder.ts";
import { pageRequest, toConnection } from "../../graphql/connections.ts";
import { NotFound } from "../../errors.ts";
import { AccessRequestRef, AccessStatusEnum } from "./access-request.ts";

builder.queryField("accessRequest", (t) =>
  t.field({
    type: AccessRequestRef,
    description: "One access request: yours as its buyer, or one for your listing.",
    authScopes: { signedIn: true },
    errors: { types: [NotFound] },
    args: { id: t.arg.globalID({ required: true }) },
    resolve: (_root, { id }, ctx) => {
      if (id.typename !== "AccessRequest") throw new NotFound("access request");
      return ctx.services.access.getForViewer(id.id, ctx.principal!.account._id);
    },
  }),
);

builder.queryField("myAccessRequests", (t) =>
  t.connection({
    type: AccessRequestRef,
    description: "Your access requests, newest first.",
    authScopes: { buyer: true },
    args: { status: t.arg({ type: AccessStatusEnum }) },
    resolve: async (_root, args, ctx) => {
      const { first, after } = pageRequest(args);
      const access = ctx.services.access;
      const page = await access.listForBuyer(ctx.principal!.account._id, args.status ?? null, first, after);
      return toConnection(page, (r) => access.cursorOf(r), after);
    },
  }),
);

builder.queryField("accessRequestsForMyListings", (t) =>
  t.connection({
    type: AccessRequestRef,
    description: "Access requests for your listings, newest first; filter by status and / or listing.",
    authScopes: { owner: true },
    args: { status: t.arg({ type: AccessStatusEnum }), listingId: t.arg.globalID() },
    resolve: async (_root, args, ctx) => {
      const { first, after } = pageRequest(args);
      const access = ctx.services.access;
      const listingId = args.listingId ? (args.listingId.typename === "Listing" ? args.listingId.id : "none") : null;
      const page = await access.listForOwner(ctx.principal!.account._id, { status: args.status ?? null, listingId }, first, after);
      return toConnection(page, (r) => access.cursorOf(r), after);
    },
  }),
);
