/** GraphQL shapes of billing's expected failures. */
import { builder } from "../../graphql/builder.ts";
import { DomainErrorInterface, errorType } from "../../graphql/error-types.ts";
import {
  BelowPayoutThreshold,
  HoldAlreadyResolved,
  IdempotencyConflict,
  InsufficientCredit,
  NoSubscriptionOffered,
  PaymentRailError,
  PaymentsUnavailable,
  PayoutAccountNotReady,
  PriceChanged,
} from "../errors.ts";
import { MinorUnits } from "./scalars.ts";

builder.objectType(InsufficientCredit, {
  name: "InsufficientCredit",
  description: "Your available credit (balance minus open holds) does not cover the price. Top up and try again.",
  interfaces: [DomainErrorInterface],
  isTypeOf: (v) => v instanceof InsufficientCredit,
  fields: (t) => ({
    required: t.field({ type: MinorUnits, resolve: (e) => e.required }),
    available: t.field({ type: MinorUnits, resolve: (e) => e.available }),
    currency: t.exposeString("currency"),
  }),
});

builder.objectType(BelowPayoutThreshold, {
  name: "BelowPayoutThreshold",
  description: "Your payable has not reached the payout threshold yet.",
  interfaces: [DomainErrorInterface],
  isTypeOf: (v) => v instanceof BelowPayoutThreshold,
  fields: (t) => ({
    payable: t.field({ type: MinorUnits, resolve: (e) => e.payable }),
    threshold: t.field({ type: MinorUnits, resolve: (e) => e.threshold }),
  }),
});

builder.objectType(PriceChanged, {
  name: "PriceChanged",
  description: "The price rose above what was agreed since the quote. Ask for a new quote.",
  interfaces: [DomainErrorInterface],
  isTypeOf: (v) => v instanceof PriceChanged,
  fields: (t) => ({
    quoted: t.field({ type: MinorUnits, resolve: (e) => e.quoted }),
    now: t.field({ type: MinorUnits, resolve: (e) => e.now }),
  }),
});

errorType(IdempotencyConflict, "IdempotencyConflict", "This idempotency key was already used for a different request. Use a new key.");
errorType(HoldAlreadyResolved, "HoldAlreadyResolved", "The hold was already posted or voided; a hold resolves exactly once.");
errorType(PaymentsUnavailable, "PaymentsUnavailable", "The exchange's payment rail cannot do this (not configured, or the wrong rail).");
errorType(PaymentRailError, "PaymentRailError", "The payment rail (Stripe) refused the request. Nothing was charged or paid.");
errorType(PayoutAccountNotReady, "PayoutAccountNotReady", "Set up your payout account (startPayoutOnboarding) and finish onboarding first.");
errorType(NoSubscriptionOffered, "NoSubscriptionOffered", "This listing's price plan has no subscription.");
