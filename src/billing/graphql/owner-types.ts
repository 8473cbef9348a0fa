/** What an owner sees of their money: earnings, sales, payouts and the payout account. */
import { builder } from "../../graphql/builder.ts";
import type { Stored } from "../../store/port.ts";
import type { Earnings } from "../service.ts";
import type { MeterRecord, Payee, Payout } from "../model.ts";
import type { Onboarding } from "../payees.ts";
import { MinorUnits, PaymentRailEnum } from "./scalars.ts";

export const EarningsRef = builder.objectRef<Earnings>("Earnings").implement({
  description: "Your earnings in one currency: `earned` = `payable` (owed to you) + `paidOut`.",
  fields: (t) => ({
    currency: t.exposeString("currency"),
    payable: t.field({ type: MinorUnits, resolve: (e) => e.payable }),
    paidOut: t.field({ type: MinorUnits, resolve: (e) => e.paidOut }),
    earned: t.field({ type: MinorUnits, resolve: (e) => e.earned }),
    payoutThreshold: t.field({
      type: MinorUnits,
      description: "A payout can be requested once `payable` reaches this.",
      resolve: (e) => e.payoutThreshold,
    }),
    canRequestPayout: t.boolean({ resolve: (e) => e.payable > 0 && e.payable >= e.payoutThreshold }),
  }),
});

export const SaleRef = builder.objectRef<Stored<MeterRecord>>("Sale");
SaleRef.implement({
  description: "One query charged on your listing, and your share of it.",
  authScopes: (r) => ({ $any: { self: r.ownerId, admin: true } }),
  fields: (t) => ({
    id: t.globalID({ resolve: (r) => ({ type: "Sale", id: r._id }) }),
    listingId: t.globalID({ resolve: (r) => ({ type: "Listing", id: r.listingId }) }),
    currency: t.exposeString("currency"),
    price: t.field({ type: MinorUnits, resolve: (r) => r.price }),
    platformFee: t.field({ type: MinorUnits, resolve: (r) => r.platformFee }),
    ownerShare: t.field({ type: MinorUnits, resolve: (r) => r.ownerShare }),
    epsilon: t.expose("epsilon", { type: "Epsilon" }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

const PayoutStatusEnum = builder.enumType("PayoutStatus", {
  values: {
    REQUESTED: { value: "requested" },
    LEDGERED: { value: "ledgered", description: "Taken out of your payable; being sent." },
    PAID: { value: "paid", description: "Sent to your payout account." },
    FAILED: { value: "failed", description: "The rail refused it; the amount went back to your payable." },
    REJECTED: { value: "rejected", description: "Nothing was payable any more (another payout took it)." },
  } as const,
});

export const PayoutRef = builder.objectRef<Stored<Payout>>("Payout");
PayoutRef.implement({
  authScopes: (p) => ({ $any: { self: p.ownerId, admin: true } }),
  fields: (t) => ({
    id: t.globalID({ resolve: (p) => ({ type: "Payout", id: p._id }) }),
    amount: t.field({ type: MinorUnits, resolve: (p) => p.amount }),
    currency: t.exposeString("currency"),
    rail: t.field({ type: PaymentRailEnum, resolve: (p) => p.rail }),
    status: t.field({ type: PayoutStatusEnum, resolve: (p) => p.state }),
    failure: t.exposeString("failure", { nullable: true }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    paidAt: t.expose("paidAt", { type: "DateTime", nullable: true }),
  }),
});

export const PayoutAccountRef = builder.objectRef<Stored<Payee>>("PayoutAccount");
PayoutAccountRef.implement({
  description: "Where your payouts go: a Stripe Connect account (or the offline demo rail's stand-in).",
  authScopes: (p) => ({ $any: { self: p._id, admin: true } }),
  fields: (t) => ({
    rail: t.field({ type: PaymentRailEnum, resolve: (p) => p.rail }),
    detailsSubmitted: t.exposeBoolean("detailsSubmitted"),
    payoutsEnabled: t.exposeBoolean("payoutsEnabled"),
    ready: t.boolean({ resolve: (p) => p.payoutsEnabled }),
  }),
});

export const PayoutOnboardingRef = builder.objectRef<Onboarding>("PayoutOnboarding").implement({
  fields: (t) => ({
    account: t.field({ type: PayoutAccountRef, resolve: (o) => o.payee }),
    onboardingUrl: t.exposeString("onboardingUrl", {
      nullable: true,
      description: "Open it to finish onboarding on Stripe; null when nothing is left to do.",
    }),
  }),
});
