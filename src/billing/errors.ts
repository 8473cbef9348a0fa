/** Expected failures of billing, returned to clients as typed results. None of them changes anything. */
import { DomainError } from "../errors.ts";

/** The buyer's available credit (balance minus holds) does not cover the price. */
export class InsufficientCredit extends DomainError {
  readonly code = "INSUFFICIENT_CREDIT";
  readonly required: number;
  readonly available: number;
  readonly currency: string;
  constructor(required: number, available: number, currency: string) {
    super(`insufficient credit: this needs ${required} ${currency} minor units but ${available} are available; top up first`);
    this.name = "InsufficientCredit";
    this.required = required;
    this.available = available;
    this.currency = currency;
  }
}

/** An idempotency key was reused for a request with different content. */
export class IdempotencyConflict extends DomainError {
  readonly code = "IDEMPOTENCY_CONFLICT";
  readonly key: string;
  constructor(key: string) {
    super(`idempotency key ${JSON.stringify(key)} was already used for a different request; use a new key`);
    this.name = "IdempotencyConflict";
    this.key = key;
  }
}

/** A hold was already posted or voided (or never opened); it resolves exactly once. */
export class HoldAlreadyResolved extends DomainError {
  readonly code = "HOLD_ALREADY_RESOLVED";
  readonly state: string;
  constructor(holdId: string, state: string) {
    super(`hold ${holdId} is ${state} and cannot be resolved again`);
    this.name = "HoldAlreadyResolved";
    this.state = state;
  }
}

/** The price now exceeds what the buyer agreed to (their month changed since the quote). */
export class PriceChanged extends DomainError {
  readonly code = "PRICE_CHANGED";
  readonly quoted: number;
  readonly now: number;
  constructor(quoted: number, now: number) {
    super(`the price changed from ${quoted} to ${now} minor units since the quote; ask for a new quote`);
    this.name = "PriceChanged";
    this.quoted = quoted;
    this.now = now;
  }
}

/** The configured payment rail cannot do this (no Stripe configured, or offline-only operation). */
export class PaymentsUnavailable extends DomainError {
  readonly code = "PAYMENTS_UNAVAILABLE";
  constructor(reason: string) {
    super(reason);
    this.name = "PaymentsUnavailable";
  }
}

/** The payment rail refused a request (Stripe said no); nothing was charged or paid. */
export class PaymentRailError extends DomainError {
  readonly code = "PAYMENT_RAIL_ERROR";
  constructor(reason: string) {
    super(reason);
    this.name = "PaymentRailError";
  }
}

/** The owner's payable is below the payout threshold. */
export class BelowPayoutThreshold extends DomainError {
  readonly code = "BELOW_PAYOUT_THRESHOLD";
  readonly payable: number;
  readonly threshold: number;
  constructor(payable: number, threshold: number, currency: string) {
    super(`payable ${payable} ${currency} minor units is below the payout threshold of ${threshold}`);
    this.name = "BelowPayoutThreshold";
    this.payable = payable;
    this.threshold = threshold;
  }
}

/** The owner has not finished payout onboarding (no connected account, or payouts not enabled). */
export class PayoutAccountNotReady extends DomainError {
  readonly code = "PAYOUT_ACCOUNT_NOT_READY";
  constructor(reason: string) {
    super(reason);
    this.name = "PayoutAccountNotReady";
  }
}

/** The listing has no subscription in its price plan. */
export class NoSubscriptionOffered extends DomainError {
  readonly code = "NO_SUBSCRIPTION_OFFERED";
  constructor() {
    super("this listing's price plan offers no subscription");
    this.name = "NoSubscriptionOffered";
  }
}
