/** What billing stores besides the ledger's journals and transfers. Money is integer minor units. */
import type { IndexSpec, JsonValue } from "../store/port.ts";
import type { MonthToDate, PricePlan, QueryPrice } from "../../pricing/index.ts";
import type { Rail } from "./ledger/accounts.ts";

export type HoldState = "opening" | "held" | "rejected" | "resolving" | "posted" | "voided";

/** Metered usage of one query run, as the query engine reports it. */
export interface MeteredUsage {
  epsilon: number;
  rowsScanned: number;
  cpuMs: number;
}

/** A two-phase reservation of a buyer's credit for one query: opened, then posted or voided once. */
export interface QueryHold {
  /** `query:<buyerId>:<idempotencyKey>`: the caller's key, scoped to the buyer. */
  key: string;
  fingerprint: string;
  buyerId: string;
  listingId: string;
  ownerId: string;
  quoteId: string | null;
  currency: string;
  plan: PricePlan;
  estimate: { epsilon: number; rowsScanned: number };
  month: string;
  subscribed: boolean;
  /** Which hold transfer is current (a stale month → re-quote → next attempt). */
  attempt: number;
  /** The amount held: the quoted price. */
  amount: number;
  quote: QueryPrice;
  /** The month the quote was made against (rating uses the same one), and its journal seq. */
  basis: MonthToDate;
  basisSeq: number;
  state: HoldState;
  rejection: { code: string; message: string; required: number; available: number } | null;
  resolution: HoldResolution | null;
  createdAt: string;
  expiresAt: string;
  resolvedAt: string | null;
}

export type HoldResolution =
  | {
      kind: "post";
      usage: MeteredUsage;
      /** The price of what was used, before clamping to the hold. */
      rated: QueryPrice;
      charged: number;
      platformFee: number;
      ownerShare: number;
      released: number;
    }
  | { kind: "void"; reason: string };

/** One usage record per query, written once (its `_id` derives from the hold). The buyer's receipt. */
export interface MeterRecord {
  holdId: string;
  buyerId: string;
  listingId: string;
  ownerId: string;
  quoteId: string | null;
  currency: string;
  month: string;
  rowsScanned: number;
  cpuMs: number;
  epsilon: number;
  microEpsilon: number;
  /** The quoted (held) price, the price charged, and its split. */
  quoted: number;
  price: number;
  platformFee: number;
  ownerShare: number;
  transferId: string;
  createdAt: string;
}

export type TopUpState = "created" | "open" | "paid" | "expired";

export interface TopUp {
  key: string;
  fingerprint: string;
  buyerId: string;
  amount: number;
  currency: string;
  rail: Rail;
  state: TopUpState;
  checkoutSessionId: string | null;
  checkoutUrl: string | null;
  /** What the rail says was paid (may differ from `amount` only if Stripe says so). */
  paidAmount: number | null;
  transferId: string | null;
  createdAt: string;
  paidAt: string | null;
}

/** An owner's connected account on a payment rail. `_id` is the owner's account id. */
export interface Payee {
  rail: Rail;
  externalAccountId: string;
  detailsSubmitted: boolean;
  payoutsEnabled: boolean;
  /** Time of the Stripe event the status came from: older events never overwrite newer ones. */
  statusAsOf: string;
  createdAt: string;
}

export type PayoutState = "requested" | "ledgered" | "paid" | "failed" | "rejected";

export interface Payout {
  ownerId: string;
  amount: number;
  currency: string;
  rail: Rail;
  destination: string;
  state: PayoutState;
  transferId: string;
  externalId: string | null;
  failure: string | null;
  createdAt: string;
  paidAt: string | null;
}

export type SubscriptionState = "pending" | "active" | "cancelled";

/** A buyer's subscription to a listing's plan. `_id` derives from (buyer, listing). */
export interface ListingSubscription {
  buyerId: string;
  listingId: string;
  ownerId: string;
  /** Optional: subscriptions made before it was recorded lack it. */
  datasetId?: string;
  currency: string;
  monthlyFee: number;
  platformFeeBasisPoints: number;
  rail: Rail | "credit";
  state: SubscriptionState;
  /** Paid through this instant (exclusive). */
  currentPeriodEnd: string | null;
  externalId: string | null;
  checkoutUrl: string | null;
  statusAsOf: string;
  createdAt: string;
}

/** A Stripe event as received: deduplicated by its id (`_id`). */
export interface StripeEventRecord {
  type: string;
  created: string;
  objectId: string | null;
  state: "received" | "processed" | "ignored";
  note: string | null;
  receivedAt: string;
  processedAt: string | null;
}

export const COLLECTIONS = {
  holds: {
    name: "billing_holds",
    indexes: [{ fields: ["buyerId", "createdAt"] }, { fields: ["state", "createdAt"] }] as IndexSpec[],
  },
  meter: {
    name: "billing_meter",
    indexes: [
      { fields: ["holdId"], unique: true },
      { fields: ["buyerId", "createdAt"] },
      { fields: ["ownerId", "createdAt"] },
      { fields: ["createdAt"] },
    ] as IndexSpec[],
  },
  topUps: { name: "billing_topups", indexes: [{ fields: ["buyerId", "createdAt"] }, { fields: ["state", "createdAt"] }] as IndexSpec[] },
  payees: { name: "billing_payees", indexes: [{ fields: ["externalAccountId"] }] as IndexSpec[] },
  payouts: { name: "billing_payouts", indexes: [{ fields: ["ownerId", "createdAt"] }, { fields: ["state", "createdAt"] }] as IndexSpec[] },
  subscriptions: {
    name: "billing_subscriptions",
    indexes: [{ fields: ["buyerId", "createdAt"] }, { fields: ["externalId"] }] as IndexSpec[],
  },
  stripeEvents: { name: "billing_stripe_events", indexes: [{ fields: ["receivedAt"] }] as IndexSpec[] },
};

export type { JsonValue };
