/** What a buyer sees of their money: credit, holds, receipts, top-ups. */
import { builder } from "../../graphql/builder.ts";
import type { Stored } from "../../store/port.ts";
import type { Balance } from "../ledger/ledger.ts";
import type { MeterRecord, QueryHold, TopUp } from "../model.ts";
import { MinorUnits, PaymentRailEnum } from "./scalars.ts";

export const CreditBalanceRef = builder.objectRef<Balance & { currency: string }>("CreditBalance").implement({
  description: "Your credit in one currency. `available` = `balance` − `held` is what you can spend now.",
  fields: (t) => ({
    currency: t.exposeString("currency"),
    balance: t.field({ type: MinorUnits, resolve: (b) => b.balance }),
    held: t.field({ type: MinorUnits, description: "Reserved by queries that are running.", resolve: (b) => b.held }),
    available: t.field({ type: MinorUnits, resolve: (b) => b.available }),
  }),
});

const HoldStateEnum = builder.enumType("HoldState", {
  description: "OPENING → HELD → POSTED (charged) or VOIDED (released); REJECTED when it could not be held.",
  values: {
    OPENING: { value: "opening" },
    HELD: { value: "held" },
    REJECTED: { value: "rejected" },
    RESOLVING: { value: "resolving" },
    POSTED: { value: "posted" },
    VOIDED: { value: "voided" },
  } as const,
});

export const QueryHoldRef = builder.objectRef<Stored<QueryHold>>("QueryHold");
QueryHoldRef.implement({
  description: "Credit reserved for one query at its quoted price; charged (at most this) when it succeeds, released when it fails.",
  authScopes: (h) => ({ $any: { self: h.buyerId, admin: true } }),
  fields: (t) => ({
    id: t.globalID({ resolve: (h) => ({ type: "QueryHold", id: h._id }) }),
    listingId: t.globalID({ resolve: (h) => ({ type: "Listing", id: h.listingId }) }),
    quoteId: t.exposeString("quoteId", { nullable: true }),
    state: t.field({ type: HoldStateEnum, resolve: (h) => h.state }),
    currency: t.exposeString("currency"),
    amount: t.field({ type: MinorUnits, description: "The quoted price, held.", resolve: (h) => h.amount }),
    charged: t.field({ type: MinorUnits, nullable: true, resolve: (h) => (h.resolution?.kind === "post" ? h.resolution.charged : null) }),
    released: t.field({
      type: MinorUnits,
      nullable: true,
      resolve: (h) => (h.resolution?.kind === "post" ? h.resolution.released : h.resolution?.kind === "void" ? h.amount : null),
    }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    expiresAt: t.expose("expiresAt", { type: "DateTime" }),
    resolvedAt: t.expose("resolvedAt", { type: "DateTime", nullable: true }),
  }),
});

export const QueryReceiptRef = builder.objectRef<Stored<MeterRecord>>("QueryReceipt");
QueryReceiptRef.implement({
  description: "What one query used and cost: your receipt.",
  authScopes: (r) => ({ $any: { self: r.buyerId, admin: true } }),
  fields: (t) => ({
    id: t.globalID({ resolve: (r) => ({ type: "QueryReceipt", id: r._id }) }),
    holdId: t.globalID({ resolve: (r) => ({ type: "QueryHold", id: r.holdId }) }),
    listingId: t.globalID({ resolve: (r) => ({ type: "Listing", id: r.listingId }) }),
    quoteId: t.exposeString("quoteId", { nullable: true }),
    currency: t.exposeString("currency"),
    quoted: t.field({ type: MinorUnits, description: "The price quoted and held.", resolve: (r) => r.quoted }),
    price: t.field({ type: MinorUnits, description: "The price charged (never more than quoted).", resolve: (r) => r.price }),
    epsilon: t.expose("epsilon", { type: "Epsilon" }),
    rowsPriced: t.float({
      description:
        "The rows the price counts: the size the owner declared public (a bucket's bound), 0 when none — never a count of the data " +
        "(a whole number; Float because it may exceed 2^31).",
      resolve: (r) => r.rowsScanned,
    }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

const TopUpStatusEnum = builder.enumType("TopUpStatus", {
  values: {
    CREATED: { value: "created" },
    OPEN: { value: "open", description: "Waiting for payment on Stripe's page." },
    PAID: { value: "paid", description: "Credited." },
    EXPIRED: { value: "expired" },
  } as const,
});

export const TopUpRef = builder.objectRef<Stored<TopUp>>("TopUp");
TopUpRef.implement({
  description: "A top-up of your credit. On Stripe, open `checkoutUrl` to pay; credit arrives when Stripe confirms payment.",
  authScopes: (t) => ({ $any: { self: t.buyerId, admin: true } }),
  fields: (t) => ({
    id: t.globalID({ resolve: (d) => ({ type: "TopUp", id: d._id }) }),
    amount: t.field({ type: MinorUnits, resolve: (d) => d.amount }),
    paidAmount: t.field({ type: MinorUnits, nullable: true, resolve: (d) => d.paidAmount }),
    currency: t.exposeString("currency"),
    rail: t.field({ type: PaymentRailEnum, resolve: (d) => d.rail }),
    status: t.field({ type: TopUpStatusEnum, resolve: (d) => d.state }),
    checkoutUrl: t.exposeString("checkoutUrl", { nullable: true }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    paidAt: t.expose("paidAt", { type: "DateTime", nullable: true }),
  }),
});
