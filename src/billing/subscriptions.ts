/**
 * Subscriptions to a listing's plan (when the plan has one). A subscription adds the plan's
 * monthly allowance to the free tier while it is paid up:
 *   - paid from credit (any rail): the month's fee moves buyer → owner/platform once per
 *     calendar month (the transfer key names the month), active to the end of that month;
 *   - through Stripe: a Checkout Session in subscription mode; each `invoice.paid` webhook
 *     books the fee (clearing → owner/platform, keyed by the invoice id) and extends the period.
 */
import { DuplicateKeyError, type Collection, type DocumentStore, type Page, type Stored } from "../store/port.ts";
import { monthOf, splitPlatformFee, type PricePlan } from "../../pricing/index.ts";
import { derivedId } from "./keys.ts";
import { InsufficientCredit, NoSubscriptionOffered, PaymentsUnavailable } from "./errors.ts";
import { COLLECTIONS, type ListingSubscription } from "./model.ts";
import type { Ledger } from "./ledger/ledger.ts";
import { accountKey, type Rail } from "./ledger/accounts.ts";
import type { TransferLeg } from "./ledger/transfers.ts";
import type { PaymentGateway } from "./payments/port.ts";

export interface SubscribeTo {
  listingId: string;
  ownerId: string;
  /** For the trade.settled event (the regulator's report by dataset). */
  datasetId: string;
  plan: PricePlan;
}

export class Subscriptions {
  readonly docs: Collection<ListingSubscription>;
  private readonly ledger: Ledger;
  private readonly gateway: PaymentGateway | null;
  private readonly now: () => Date;
  private readonly publicUrl: string;

  private constructor(docs: Collection<ListingSubscription>, ledger: Ledger, gateway: PaymentGateway | null, now: () => Date, publicUrl: string) {
    this.docs = docs;
    this.ledger = ledger;
    this.gateway = gateway;
    this.now = now;
    this.publicUrl = publicUrl;
  }

  static async open(
    store: DocumentStore,
    ledger: Ledger,
    gateway: PaymentGateway | null,
    now: () => Date,
    publicUrl: string,
  ): Promise<Subscriptions> {
    const docs = await store.collection<ListingSubscription>(COLLECTIONS.subscriptions.name, COLLECTIONS.subscriptions.indexes);
    return new Subscriptions(docs, ledger, gateway, now, publicUrl);
  }

  static idFor(buyerId: string, listingId: string): string {
    return derivedId("lsub", `${buyerId}:${listingId}`);
  }

  async isActive(buyerId: string, listingId: string, at: Date): Promise<boolean> {
    const s = await this.docs.get(Subscriptions.idFor(buyerId, listingId));
    return s !== null && s.state === "active" && s.currentPeriodEnd !== null && s.currentPeriodEnd > at.toISOString();
  }

  get(buyerId: string, listingId: string): Promise<Stored<ListingSubscription> | null> {
    return this.docs.get(Subscriptions.idFor(buyerId, listingId));
  }

  list(buyerId: string, first: number, after?: string | null): Promise<Page<Stored<ListingSubscription>>> {
    return this.docs.find({ buyerId }, { sort: [["createdAt", -1]], limit: first, ...(after ? { after } : {}) });
  }

  /** Pays this calendar month's fee from credit; repeating within the month changes nothing. */
  async payFromCredit(buyerId: string, to: SubscribeTo): Promise<Stored<ListingSubscription>> {
    const sub = to.plan.subscription;
    if (!sub) throw new NoSubscriptionOffered();
    const now = this.now();
    const month = monthOf(now);
    const doc = await this.ensure(buyerId, to, "credit");
    const { platformFee, ownerShare } = splitPlatformFee(sub.monthlyFee, to.plan.platformFeeBasisPoints);
    const legs: TransferLeg[] = [
      {
        journal: "money",
        account: accountKey.buyerCredit(buyerId, to.plan.currency),
        delta: { balance: -sub.monthlyFee },
        guard: { kind: "available" },
      },
    ];
    if (ownerShare > 0)
      legs.push({ journal: "money", account: accountKey.ownerPayable(to.ownerId, to.plan.currency), delta: { balance: ownerShare } });
    if (platformFee > 0) legs.push({ journal: "money", account: accountKey.platformRevenue(to.plan.currency), delta: { balance: platformFee } });
    // One payment per month: attempt n of the month is keyed …:<month>:<n>; a refused attempt
    // (not enough credit) does not block a later one, a posted one ends the search.
    let t;
    for (let n = 0; ; n++) {
      const key = `subscription:${doc._id}:${month}:${n}`;
      const earlier = await this.ledger.transfers.byKey(key);
      if (earlier?.state === "rejected") continue;
      t = await this.ledger.transfers.execute({
        key,
        kind: "subscription",
        currency: to.plan.currency,
        legs,
        refs: { subscriptionId: doc._id, buyerId, ownerId: to.ownerId, listingId: to.listingId, datasetId: to.datasetId },
      });
      break;
    }
    if (t.state === "rejected") {
      const seen = t.rejection?.seen ?? {};
      throw new InsufficientCredit(sub.monthlyFee, (seen["balance"] ?? 0) - (seen["held"] ?? 0), to.plan.currency);
    }
    const periodEnd = startOfNextMonth(now).toISOString();
    return (
      (await this.docs.updateOne(
        { _id: doc._id },
        { $set: { state: "active", rail: "credit", currentPeriodEnd: maxIso(doc.currentPeriodEnd, periodEnd), statusAsOf: now.toISOString() } },
      )) ?? doc
    );
  }

  /** Starts a Stripe subscription through Checkout; the webhook activates it when paid. */
  async startCheckout(buyerId: string, to: SubscribeTo): Promise<Stored<ListingSubscription>> {
    const sub = to.plan.subscription;
    if (!sub) throw new NoSubscriptionOffered();
    if (this.gateway?.rail !== "stripe") throw new PaymentsUnavailable("subscription checkout needs Stripe; pay from credit instead");
    const doc = await this.ensure(buyerId, to, "stripe");
    if (doc.state === "active" && doc.rail === "stripe") return doc;
    const started = await this.gateway.startSubscription({
      subscriptionId: doc._id,
      buyerId,
      listingId: to.listingId,
      monthlyFee: sub.monthlyFee,
      currency: to.plan.currency,
      // One checkout per subscription and fee; a changed fee is a new checkout.
      idempotencyKey: `${doc._id}:checkout:${sub.monthlyFee}:${to.plan.currency}`,
      successUrl: `${this.publicUrl}/billing/subscriptions/${doc._id}/done`,
      cancelUrl: `${this.publicUrl}/billing/subscriptions/${doc._id}/cancelled`,
    });
    return (await this.docs.updateOne({ _id: doc._id }, { $set: { checkoutUrl: started.url, rail: "stripe" } })) ?? doc;
  }

  /** Stripe: the subscription exists (checkout completed). */
  async linkStripeSubscription(subscriptionId: string, externalId: string, asOf: string): Promise<void> {
    await this.docs.updateOne({ _id: subscriptionId }, { $set: { externalId } });
    await this.docs.updateOne({ _id: subscriptionId, statusAsOf: { $lte: asOf }, state: "pending" }, { $set: { statusAsOf: asOf } });
  }

  /** Stripe: an invoice of the subscription was paid — book the fee and extend the period. */
  async invoicePaid(input: {
    invoiceId: string;
    subscriptionId: string | null;
    externalSubscriptionId: string | null;
    amountPaid: number;
    currency: string;
    periodEnd: string | null;
    asOf: string;
  }): Promise<boolean> {
    const doc =
      (input.subscriptionId ? await this.docs.get(input.subscriptionId) : null) ??
      (input.externalSubscriptionId ? await this.docs.findOne({ externalId: input.externalSubscriptionId }) : null);
    if (!doc) return false;
    const { platformFee, ownerShare } = splitPlatformFee(input.amountPaid, doc.platformFeeBasisPoints);
    const legs: TransferLeg[] = [{ journal: "money", account: accountKey.clearing("stripe", input.currency), delta: { balance: -input.amountPaid } }];
    if (ownerShare > 0)
      legs.push({ journal: "money", account: accountKey.ownerPayable(doc.ownerId, input.currency), delta: { balance: ownerShare } });
    if (platformFee > 0) legs.push({ journal: "money", account: accountKey.platformRevenue(input.currency), delta: { balance: platformFee } });
    if (input.amountPaid > 0) {
      await this.ledger.transfers.execute({
        key: `subscription-invoice:${input.invoiceId}`,
        kind: "subscription",
        currency: input.currency,
        legs,
        refs: {
          subscriptionId: doc._id,
          buyerId: doc.buyerId,
          ownerId: doc.ownerId,
          listingId: doc.listingId,
          ...(doc.datasetId ? { datasetId: doc.datasetId } : {}),
        },
      });
    }
    const periodEnd = input.periodEnd ?? startOfNextMonth(new Date(input.asOf)).toISOString();
    await this.docs.updateOne(
      { _id: doc._id },
      {
        $set: {
          state: "active",
          currentPeriodEnd: maxIso(doc.currentPeriodEnd, periodEnd),
          ...(input.externalSubscriptionId ? { externalId: input.externalSubscriptionId } : {}),
        },
      },
    );
    return true;
  }

  /** Stripe: the subscription ended. An event older than the last applied status is ignored. */
  async cancelled(externalId: string, asOf: string): Promise<void> {
    const doc = await this.docs.findOne({ externalId });
    if (!doc) return;
    await this.docs.updateOne({ _id: doc._id, statusAsOf: { $lte: asOf } }, { $set: { state: "cancelled", statusAsOf: asOf } });
  }

  private async ensure(buyerId: string, to: SubscribeTo, rail: Rail | "credit"): Promise<Stored<ListingSubscription>> {
    const id = Subscriptions.idFor(buyerId, to.listingId);
    const existing = await this.docs.get(id);
    if (existing) return existing;
    try {
      return await this.docs.insert({
        _id: id,
        buyerId,
        listingId: to.listingId,
        ownerId: to.ownerId,
        datasetId: to.datasetId,
        currency: to.plan.currency,
        monthlyFee: to.plan.subscription!.monthlyFee,
        platformFeeBasisPoints: to.plan.platformFeeBasisPoints,
        rail,
        state: "pending",
        currentPeriodEnd: null,
        externalId: null,
        checkoutUrl: null,
        statusAsOf: new Date(0).toISOString(),
        createdAt: this.now().toISOString(),
      });
    } catch (e) {
      if (!(e instanceof DuplicateKeyError)) throw e;
      return (await this.docs.get(id))!;
    }
  }
}

function startOfNextMonth(d: Date): Date {
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1));
}

function maxIso(a: string | null, b: string): string {
  return a !== null && a > b ? a : b;
}
