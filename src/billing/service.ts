/**
 * BillingService: the one entry point other modules use for money.
 *
 * For the query engine, around each query run:
 *   const price = await billing.quoteForQuery({ buyerId, listingId, plan, estimate });   // show it
 *   const hold  = await billing.holdForQuery({ buyerId, listingId, ownerId, plan, estimate,
 *                                              idempotencyKey, quoteId, maxAmount: price.amount });
 *   try { …run… ; await billing.postQuery(hold._id, { epsilon, rowsScanned, cpuMs }) }
 *   catch { await billing.voidQuery(hold._id, "kernel failed") }
 *
 * Everything is built on single-document atomic writes and unique indexes (no transactions);
 * `recover()` finishes whatever a crash interrupted and runs at every start.
 */
import type { DocumentStore, Page, Stored } from "../store/port.ts";
import type { AuditRecorder } from "../audit-trail.ts";
import type { Logger } from "../logger.ts";
import { NotFound } from "../errors.ts";
import { EMPTY_MONTH, monthOf, planHasMonthlyState, quoteQuery, type PricePlan, type QueryPrice } from "../../pricing/index.ts";
import type { BillingConfig } from "./config.ts";
import { BillingAudit } from "./audit.ts";
import { Ledger, type Balance } from "./ledger/ledger.ts";
import { accountKey } from "./ledger/accounts.ts";
import { Metering } from "./metering.ts";
import type { TradeLogTotals } from "./log-reconciliation.ts";
import { Holds, type HoldForQueryInput, type QueryReceipt } from "./holds.ts";
import { TopUps } from "./topups.ts";
import { Payees, type Onboarding } from "./payees.ts";
import { Payouts } from "./payouts.ts";
import { Subscriptions } from "./subscriptions.ts";
import { StripeWebhooks, type WebhookResult } from "./webhooks.ts";
import { reconcile, type ReconciliationReport } from "./reconciliation.ts";
import type { PaymentGateway } from "./payments/port.ts";
import { OfflineGateway } from "./payments/offline.ts";
import { StripeGateway, createStripeClient } from "./payments/stripe.ts";
import { NoSubscriptionOffered, PaymentsUnavailable } from "./errors.ts";
import type { ListingSubscription, MeterRecord, MeteredUsage, Payout, QueryHold, TopUp } from "./model.ts";

/** A listing's owner and price plan, as the catalog knows them. */
export type ListingPriceLookup = (listingId: string) => Promise<{ ownerId: string; datasetId: string; plan: PricePlan; published: boolean } | null>;

export interface BillingServiceOptions {
  audit: AuditRecorder;
  config: BillingConfig;
  production: boolean;
  now?: () => Date;
  log?: Logger;
  /** The catalog's listing look-up (owner, price plan, published), for subscriptions. */
  listingPrices: ListingPriceLookup;
  /** The audit log's trade totals, for reconciliation (the composition root supplies it). */
  tradeLog?: TradeLogTotals | null;
  /** Replaces the gateway built from config (tests). */
  gateway?: PaymentGateway | null;
}

export interface Earnings {
  currency: string;
  /** Owed and not yet paid out. */
  payable: number;
  /** Sent, or on its way, to the owner's payout account. */
  paidOut: number;
  /** Everything credited to the owner so far: payable + paidOut. */
  earned: number;
  payoutThreshold: number;
}

export interface RecoveryReport {
  transfersDriven: number;
  holds: { resolved: number; abandoned: number; expired: number };
  topUps: number;
  payouts: number;
}

/** Holds still "opening" this long after they started are treated as abandoned by their caller. */
const OPENING_GRACE_MS = 2 * 60_000;

export class BillingService {
  readonly ledger: Ledger;
  readonly metering: Metering;
  readonly holds: Holds;
  readonly topUps: TopUps;
  readonly payees: Payees;
  readonly payouts: Payouts;
  readonly subscriptions: Subscriptions;
  readonly webhooks: StripeWebhooks | null;
  readonly gateway: PaymentGateway | null;
  readonly config: BillingConfig;
  private readonly now: () => Date;
  private readonly listingPrices: ListingPriceLookup;
  private readonly tradeLog: TradeLogTotals | null;

  private constructor(parts: {
    ledger: Ledger;
    metering: Metering;
    holds: Holds;
    topUps: TopUps;
    payees: Payees;
    payouts: Payouts;
    subscriptions: Subscriptions;
    webhooks: StripeWebhooks | null;
    gateway: PaymentGateway | null;
    config: BillingConfig;
    now: () => Date;
    listingPrices: ListingPriceLookup;
    tradeLog: TradeLogTotals | null;
  }) {
    this.ledger = parts.ledger;
    this.metering = parts.metering;
    this.holds = parts.holds;
    this.topUps = parts.topUps;
    this.payees = parts.payees;
    this.payouts = parts.payouts;
    this.subscriptions = parts.subscriptions;
    this.webhooks = parts.webhooks;
    this.gateway = parts.gateway;
    this.config = parts.config;
    this.now = parts.now;
    this.listingPrices = parts.listingPrices;
    this.tradeLog = parts.tradeLog;
  }

  static async open(store: DocumentStore, options: BillingServiceOptions): Promise<BillingService> {
    const now = options.now ?? (() => new Date());
    const config = options.config;
    const audit = new BillingAudit(options.audit);
    const gateway = options.gateway !== undefined ? options.gateway : gatewayFrom(config, options.production);
    const ledger = await Ledger.open(store, { now, audit: (t) => audit.transfer(t) });
    const metering = await Metering.open(store, now);
    const subscriptions = await Subscriptions.open(store, ledger, gateway, now, config.publicUrl);
    const holds = await Holds.open(store, ledger, metering, {
      now,
      holdTtlMs: config.holdTtlMs,
      isSubscribed: (buyerId, listingId, at) => subscriptions.isActive(buyerId, listingId, at),
    });
    const topUps = await TopUps.open(store, ledger, { now, gateway, publicUrl: config.publicUrl, defaultCurrency: config.currency });
    const payees = await Payees.open(store, gateway, now, config.publicUrl);
    const payouts = await Payouts.open(store, ledger, payees, audit, { now, gateway, threshold: config.payoutThreshold });
    const webhooks = config.stripe
      ? await StripeWebhooks.open(
          store,
          { topUps, payees, subscriptions, audit },
          {
            stripe:
              gateway instanceof StripeGateway
                ? gateway.stripe
                : createStripeClient({ secretKey: config.stripe.secretKey, apiBase: config.stripe.apiBase }),
            secret: config.stripe.webhookSecret,
            toleranceSeconds: config.stripe.webhookToleranceSeconds,
            now,
            ...(options.log ? { log: options.log } : {}),
          },
        )
      : null;
    return new BillingService({
      ledger,
      metering,
      holds,
      topUps,
      payees,
      payouts,
      subscriptions,
      webhooks,
      gateway,
      config,
      now,
      listingPrices: options.listingPrices,
      tradeLog: options.tradeLog ?? null,
    });
  }

  // ---- the query engine's API -------------------------------------------------------------

  /** What the query would cost now for this buyer (allowances, subscription, cap applied). Writes nothing. */
  async quoteForQuery(input: {
    buyerId: string;
    listingId: string;
    plan: PricePlan;
    estimate: { epsilon: number; rowsScanned: number };
  }): Promise<QueryPrice> {
    const now = this.now();
    const month = planHasMonthlyState(input.plan) ? (await this.ledger.monthToDate(input.buyerId, input.listingId, monthOf(now))).month : EMPTY_MONTH;
    const subscribed = await this.subscriptions.isActive(input.buyerId, input.listingId, now);
    return quoteQuery(input.plan, input.estimate, month, { subscribed });
  }

  /** Reserves the quoted price before the kernel runs. InsufficientCredit / PriceChanged / IdempotencyConflict / InvalidInput. */
  holdForQuery(input: HoldForQueryInput): Promise<Stored<QueryHold>> {
    return this.holds.holdForQuery(input);
  }

  /** Charges the metered price (≤ the hold), releases the rest, writes the usage record. HoldAlreadyResolved on a second different resolution. */
  postQuery(holdId: string, usage: MeteredUsage): Promise<QueryReceipt> {
    return this.holds.postQuery(holdId, usage);
  }

  /** Releases the hold in full (the query failed). */
  voidQuery(holdId: string, reason?: string): Promise<Stored<QueryHold>> {
    return this.holds.voidQuery(holdId, reason);
  }

  /** The id the hold of this buyer's run key has (or will have): a run records it before holding. */
  holdIdFor(buyerId: string, idempotencyKey: string): string {
    return Holds.idFor(buyerId, idempotencyKey);
  }

  /** Recovery: lets go of the hold of a run that stopped (settles, voids or finishes it). */
  abandonHold(holdId: string, reason: string): Promise<void> {
    return this.holds.abandon(holdId, reason);
  }

  /** Voids expired holds and finishes what a crash left half-done; safe to call often. */
  sweepHolds(): Promise<RecoveryReport["holds"]> {
    return this.holds.recover(OPENING_GRACE_MS);
  }

  // ---- buyers --------------------------------------------------------------------------------

  credit(buyerId: string, currency = this.config.currency): Promise<Balance> {
    return this.ledger.balance(accountKey.buyerCredit(buyerId, currency));
  }

  topUp(buyerId: string, input: { amount: number; currency?: string | null; idempotencyKey: string }): Promise<Stored<TopUp>> {
    return this.topUps.start(buyerId, input);
  }

  grantCredit(adminId: string, buyerId: string, input: { amount: number; currency?: string | null; idempotencyKey: string }): Promise<Stored<TopUp>> {
    return this.topUps.grant(adminId, buyerId, input);
  }

  listHolds(buyerId: string, first: number, after?: string | null): Promise<Page<Stored<QueryHold>>> {
    return this.holds.docs.find({ buyerId }, { sort: [["createdAt", -1]], limit: first, ...(after ? { after } : {}) });
  }

  receipts(buyerId: string, first: number, after?: string | null): Promise<Page<Stored<MeterRecord>>> {
    return this.metering.list({ buyerId }, first, after);
  }

  /** Subscribes to a listing's plan: from credit, or through Stripe Checkout. */
  async subscribe(buyerId: string, listingId: string, payWith: "credit" | "checkout"): Promise<Stored<ListingSubscription>> {
    const listing = await this.listingPrices(listingId);
    if (!listing || !listing.published) throw new NotFound("listing");
    if (!listing.plan.subscription) throw new NoSubscriptionOffered();
    const to = { listingId, ownerId: listing.ownerId, datasetId: listing.datasetId, plan: listing.plan };
    return payWith === "credit" ? this.subscriptions.payFromCredit(buyerId, to) : this.subscriptions.startCheckout(buyerId, to);
  }

  // ---- owners --------------------------------------------------------------------------------

  async earnings(ownerId: string, currency = this.config.currency): Promise<Earnings> {
    const { balance } = await this.ledger.balance(accountKey.ownerPayable(ownerId, currency));
    let paidOut = 0;
    let after: string | null = null;
    do {
      const page: Page<Stored<Payout>> = await this.payouts.docs.find(
        { ownerId, currency, state: { $in: ["ledgered", "paid"] } },
        { limit: 100, ...(after ? { after } : {}) },
      );
      for (const p of page.items) paidOut += p.amount;
      after = page.nextCursor;
    } while (after);
    return { currency, payable: balance, paidOut, earned: balance + paidOut, payoutThreshold: this.config.payoutThreshold };
  }

  startPayoutOnboarding(ownerId: string): Promise<Onboarding> {
    return this.payees.onboard(ownerId);
  }

  requestPayout(ownerId: string, currency = this.config.currency): Promise<Stored<Payout>> {
    return this.payouts.request(ownerId, currency);
  }

  listPayouts(ownerId: string, first: number, after?: string | null): Promise<Page<Stored<Payout>>> {
    return this.payouts.list(ownerId, first, after);
  }

  sales(ownerId: string, first: number, after?: string | null): Promise<Page<Stored<MeterRecord>>> {
    return this.metering.list({ ownerId }, first, after);
  }

  // ---- admins and the server -----------------------------------------------------------------

  sweepPayouts(): Promise<Stored<Payout>[]> {
    return this.payouts.sweep();
  }

  reconcile(): Promise<ReconciliationReport> {
    return reconcile({
      ledger: this.ledger,
      metering: this.metering,
      holds: this.holds,
      topUps: this.topUps,
      payouts: this.payouts,
      gateway: this.gateway,
      now: this.now,
      tradeLog: this.tradeLog,
    });
  }

  /** Finishes or voids what a crash left half-done. Runs at server start; safe to run any time, from any process. */
  async recover(): Promise<RecoveryReport> {
    const { driven } = await this.ledger.transfers.recover();
    const holds = await this.holds.recover(OPENING_GRACE_MS);
    const topUps = await this.topUps.recover();
    const payouts = await this.payouts.recover();
    return { transfersDriven: driven, holds, topUps, payouts };
  }

  /** POST /webhooks/stripe: verifies the signature on the raw body and applies the event. */
  async handleStripeWebhook(rawBody: Buffer, signature: string | undefined): Promise<WebhookResult> {
    if (!this.webhooks) return { status: 404, body: { error: "Stripe webhooks are not configured on this exchange" } };
    return this.webhooks.handle(rawBody, signature);
  }
}

function gatewayFrom(config: BillingConfig, production: boolean): PaymentGateway | null {
  switch (config.gateway) {
    case "stripe":
      if (!config.stripe) throw new PaymentsUnavailable("PAYMENTS_GATEWAY=stripe needs STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET");
      return new StripeGateway({ secretKey: config.stripe.secretKey, apiBase: config.stripe.apiBase });
    case "offline":
      return new OfflineGateway({ production });
    case "none":
      return null;
  }
}
