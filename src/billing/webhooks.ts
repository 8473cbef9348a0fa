/**
 * Stripe webhooks: the only way money from Stripe reaches the ledger.
 *
 * The signature is checked on the exact bytes received (the route reads the raw request
 * stream; nothing may parse the body before it), with a timestamp tolerance against replays.
 * Events are deduplicated by id (a stored record); each handler is idempotent in its own
 * right (ledger transfers keyed by Stripe object ids, statuses guarded by event time), so
 * repeated and out-of-order deliveries are harmless. A handler that fails leaves the event
 * "received" and answers 500, so Stripe delivers it again.
 */
import type Stripe from "stripe";
import { DuplicateKeyError, type Collection, type DocumentStore, type Stored } from "../store/port.ts";
import type { Logger } from "../logger.ts";
import { COLLECTIONS, type StripeEventRecord } from "./model.ts";
import { IdempotencyConflict } from "./errors.ts";
import type { TopUps } from "./topups.ts";
import type { Payees } from "./payees.ts";
import type { Subscriptions } from "./subscriptions.ts";
import type { BillingAudit } from "./audit.ts";

export interface WebhookResult {
  status: number;
  body: Record<string, unknown>;
}

export interface StripeWebhooksOptions {
  stripe: Stripe;
  secret: string;
  toleranceSeconds: number;
  now: () => Date;
  log?: Logger;
}

export class StripeWebhooks {
  readonly events: Collection<StripeEventRecord>;
  private readonly topUps: TopUps;
  private readonly payees: Payees;
  private readonly subscriptions: Subscriptions;
  private readonly audit: BillingAudit;
  private readonly options: StripeWebhooksOptions;

  private constructor(
    events: Collection<StripeEventRecord>,
    deps: { topUps: TopUps; payees: Payees; subscriptions: Subscriptions; audit: BillingAudit },
    options: StripeWebhooksOptions,
  ) {
    this.events = events;
    this.topUps = deps.topUps;
    this.payees = deps.payees;
    this.subscriptions = deps.subscriptions;
    this.audit = deps.audit;
    this.options = options;
  }

  static async open(
    store: DocumentStore,
    deps: { topUps: TopUps; payees: Payees; subscriptions: Subscriptions; audit: BillingAudit },
    options: StripeWebhooksOptions,
  ): Promise<StripeWebhooks> {
    const events = await store.collection<StripeEventRecord>(COLLECTIONS.stripeEvents.name, COLLECTIONS.stripeEvents.indexes);
    return new StripeWebhooks(events, deps, options);
  }

  /** Verifies and handles one delivery. `rawBody` must be the request body exactly as received. */
  async handle(rawBody: Buffer, signature: string | undefined): Promise<WebhookResult> {
    if (!signature) return { status: 400, body: { error: { code: "BAD_REQUEST", message: "missing Stripe-Signature header" } } };
    let event: Stripe.Event;
    try {
      event = this.options.stripe.webhooks.constructEvent(
        rawBody,
        signature,
        this.options.secret,
        this.options.toleranceSeconds,
        undefined,
        this.options.now().getTime(), // milliseconds: the SDK divides by 1000
      );
    } catch (e) {
      // Forged, altered, or replayed outside the tolerance: nothing is stored, nothing changes.
      this.options.log?.warn({ reason: (e as Error).message.slice(0, 200) }, "rejected a Stripe webhook");
      return { status: 400, body: { error: { code: "BAD_REQUEST", message: "invalid Stripe signature or timestamp" } } };
    }
    let record: Stored<StripeEventRecord>;
    try {
      record = await this.events.insert({
        _id: event.id,
        type: event.type,
        created: new Date(event.created * 1000).toISOString(),
        objectId: typeof (event.data.object as { id?: unknown }).id === "string" ? (event.data.object as { id: string }).id : null,
        state: "received",
        note: null,
        receivedAt: this.options.now().toISOString(),
        processedAt: null,
      });
    } catch (e) {
      if (!(e instanceof DuplicateKeyError)) throw e;
      record = (await this.events.get(event.id))!;
      if (record.state !== "received") return { status: 200, body: { received: true, duplicate: true } };
    }
    try {
      const outcome = await this.dispatch(event).catch((e: unknown) => {
        // A second event about the same object that disagrees with the first (e.g. another
        // amount): the first one stands; retrying would never succeed, so do not ask Stripe to.
        if (e instanceof IdempotencyConflict)
          return { handled: false, note: "conflicts with an earlier event about the same object; the first stands", accountId: null, amount: null };
        throw e;
      });
      // Logged before it is marked done: a crash in between replays it, and both steps are idempotent.
      await this.audit.stripeEvent(event.id, event.type, outcome.accountId, outcome.amount);
      await this.events.updateOne(
        { _id: event.id },
        { $set: { state: outcome.handled ? "processed" : "ignored", note: outcome.note, processedAt: this.options.now().toISOString() } },
      );
      return { status: 200, body: { received: true } };
    } catch (e) {
      this.options.log?.error({ err: e, eventId: event.id, type: event.type }, "a Stripe webhook failed; Stripe will deliver it again");
      return { status: 500, body: { error: { code: "INTERNAL_SERVER_ERROR", message: "processing failed; it will be retried" } } };
    }
  }

  private async dispatch(event: Stripe.Event): Promise<{
    handled: boolean;
    note: string | null;
    accountId: string | null;
    amount: { amountMinor: number; currency: string } | null;
  }> {
    const asOf = new Date(event.created * 1000).toISOString();
    const none = { accountId: null, amount: null };
    switch (event.type) {
      case "checkout.session.completed":
      case "checkout.session.async_payment_succeeded": {
        const s = event.data.object;
        if (s.mode === "subscription") {
          const subscriptionId = s.metadata?.["subscriptionId"];
          const ext = typeof s.subscription === "string" ? s.subscription : (s.subscription?.id ?? null);
          if (!subscriptionId || !ext) return { handled: false, note: "not an exchange subscription", ...none };
          await this.subscriptions.linkStripeSubscription(subscriptionId, ext, asOf);
          return { handled: true, note: null, ...none };
        }
        const topUpId = s.metadata?.["topUpId"] ?? s.client_reference_id ?? null;
        const topUp = topUpId ? await this.topUps.get(topUpId) : null;
        if (!topUp || topUp.rail !== "stripe") return { handled: false, note: "not an exchange top-up", ...none };
        if (s.payment_status !== "paid") return { handled: false, note: `payment ${s.payment_status}; waiting for it to succeed`, ...none };
        const amount = s.amount_total ?? topUp.amount;
        const currency = (s.currency ?? topUp.currency).toLowerCase();
        await this.topUps.confirmPaid(topUp._id, amount, currency);
        const note =
          amount !== topUp.amount || currency !== topUp.currency ? `paid ${amount} ${currency}, asked ${topUp.amount} ${topUp.currency}` : null;
        return { handled: true, note, accountId: topUp.buyerId, amount: { amountMinor: amount, currency } };
      }
      case "checkout.session.expired": {
        const s = event.data.object;
        const topUpId = s.metadata?.["topUpId"] ?? s.client_reference_id ?? null;
        if (!topUpId) return { handled: false, note: "not an exchange top-up", ...none };
        await this.topUps.markExpired(topUpId);
        return { handled: true, note: null, ...none };
      }
      case "account.updated": {
        const a = event.data.object;
        const payee = await this.payees.applyStatus(
          a.id,
          { detailsSubmitted: a.details_submitted === true, payoutsEnabled: a.payouts_enabled === true },
          asOf,
        );
        return { handled: payee !== null, note: payee ? null : "not an exchange payee", accountId: payee?._id ?? null, amount: null };
      }
      case "invoice.paid": {
        const inv = event.data.object;
        const details = inv.parent?.subscription_details ?? null;
        const ext = details ? (typeof details.subscription === "string" ? details.subscription : details.subscription.id) : null;
        const periodEnd = inv.lines?.data?.[0]?.period?.end ?? null;
        const ok = await this.subscriptions.invoicePaid({
          invoiceId: inv.id!,
          subscriptionId: details?.metadata?.["subscriptionId"] ?? null,
          externalSubscriptionId: ext,
          amountPaid: inv.amount_paid,
          currency: inv.currency.toLowerCase(),
          periodEnd: periodEnd ? new Date(periodEnd * 1000).toISOString() : null,
          asOf,
        });
        return {
          handled: ok,
          note: ok ? null : "not an exchange subscription",
          accountId: null,
          amount: { amountMinor: inv.amount_paid, currency: inv.currency.toLowerCase() },
        };
      }
      case "customer.subscription.deleted": {
        await this.subscriptions.cancelled(event.data.object.id, asOf);
        return { handled: true, note: null, ...none };
      }
      default:
        return { handled: false, note: "event type not used by the exchange", ...none };
    }
  }
}
