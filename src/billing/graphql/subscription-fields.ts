/** Buyers subscribe to a listing's plan (when it offers one): from credit, or through Stripe Checkout. */
import { builder } from "../../graphql/builder.ts";
import { pageRequest, toConnection } from "../../graphql/connections.ts";
import { encodeCursor } from "../../store/cursor.ts";
import type { Sort, Stored } from "../../store/port.ts";
import { NotFound } from "../../errors.ts";
import { InsufficientCredit, NoSubscriptionOffered, PaymentRailError, PaymentsUnavailable } from "../errors.ts";
import type { ListingSubscription } from "../model.ts";
import { MinorUnits } from "./scalars.ts";

const SubscriptionStateEnum = builder.enumType("ListingSubscriptionState", {
  values: {
    PENDING: { value: "pending", description: "Waiting for the first payment." },
    ACTIVE: { value: "active" },
    CANCELLED: { value: "cancelled" },
  } as const,
});

const PayWithEnum = builder.enumType("SubscriptionPayment", {
  values: {
    CREDIT: { value: "credit", description: "This month's fee from your credit, now." },
    CHECKOUT: { value: "checkout", description: "A monthly Stripe subscription, paid on Stripe's page." },
  } as const,
});

export const ListingSubscriptionRef = builder.objectRef<Stored<ListingSubscription>>("ListingSubscription");
ListingSubscriptionRef.implement({
  description: "Your subscription to a listing's plan: while active, the plan's monthly allowance adds to its free tier.",
  authScopes: (s) => ({ $any: { self: s.buyerId, admin: true } }),
  fields: (t) => ({
    id: t.globalID({ resolve: (s) => ({ type: "ListingSubscription", id: s._id }) }),
    listingId: t.globalID({ resolve: (s) => ({ type: "Listing", id: s.listingId }) }),
    state: t.field({ type: SubscriptionStateEnum, resolve: (s) => s.state }),
    monthlyFee: t.field({ type: MinorUnits, resolve: (s) => s.monthlyFee }),
    currency: t.exposeString("currency"),
    currentPeriodEnd: t.expose("currentPeriodEnd", { type: "DateTime", nullable: true }),
    checkoutUrl: t.exposeString("checkoutUrl", { nullable: true }),
  }),
});

const NEWEST: Sort = [["createdAt", -1]];

builder.queryField("listingSubscriptions", (t) =>
  t.connection({
    type: ListingSubscriptionRef,
    description: "Your subscriptions, newest first.",
    authScopes: { buyer: true },
    resolve: async (_root, args, ctx) => {
      const { first, after } = pageRequest(args);
      const page = await ctx.services.billing.subscriptions.list(ctx.principal!.account._id, first, after);
      return toConnection(page, (s) => encodeCursor(NEWEST, s), after);
    },
  }),
);

const SubscribeInput = builder.inputType("SubscribeToListingInput", {
  fields: (t) => ({
    listingId: t.globalID({ required: true }),
    payWith: t.field({ type: PayWithEnum, required: true }),
  }),
});

builder.mutationField("subscribeToListing", (t) =>
  t.field({
    type: ListingSubscriptionRef,
    description: "Subscribes to a published listing's plan. Paying from credit again in the same month changes nothing.",
    authScopes: { buyer: true },
    errors: { types: [NotFound, NoSubscriptionOffered, InsufficientCredit, PaymentsUnavailable, PaymentRailError] },
    args: { input: t.arg({ type: SubscribeInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      if (input.listingId.typename !== "Listing") throw new NotFound("listing");
      return ctx.services.billing.subscribe(ctx.principal!.account._id, input.listingId.id, input.payWith);
    },
  }),
);
