/**
 * The Stripe adapter. Buyers pay through Checkout Sessions (credited only by the verified
 * webhook), owners are Connect Express accounts onboarded through account links, payouts are
 * Connect Transfers, subscriptions are Checkout Sessions in subscription mode. Every POST
 * carries a deterministic idempotency key from the caller; the SDK's own network retries
 * reuse it. STRIPE_API_BASE points the client at stripe-mock in tests.
 */
import Stripe from "stripe";
import { PaymentRailError } from "../errors.ts";
import type { PaymentGateway, PayeeStatus, PayoutRequest, RailObject, SubscriptionCheckoutRequest, TopUpRequest, TopUpStart } from "./port.ts";

export interface StripeSettings {
  secretKey: string;
  /** e.g. http://127.0.0.1:12111 for stripe-mock; null for api.stripe.com. */
  apiBase: string | null;
}

export function createStripeClient(settings: StripeSettings): Stripe {
  const options: ConstructorParameters<typeof Stripe>[1] = { maxNetworkRetries: 2, timeout: 20_000, appInfo: { name: "data-exchange" } };
  if (settings.apiBase) {
    const u = new URL(settings.apiBase);
    options.host = u.hostname;
    options.port = u.port || (u.protocol === "https:" ? 443 : 80);
    options.protocol = u.protocol === "https:" ? "https" : "http";
  }
  return new Stripe(settings.secretKey, options);
}

export class StripeGateway implements PaymentGateway {
  readonly rail = "stripe" as const;
  readonly stripe: Stripe;

  constructor(settings: StripeSettings) {
    this.stripe = createStripeClient(settings);
  }

  async startTopUp(req: TopUpRequest): Promise<TopUpStart> {
    const session = await call(() =>
      this.stripe.checkout.sessions.create(
        {
          mode: "payment",
          client_reference_id: req.topUpId,
          metadata: { topUpId: req.topUpId, buyerId: req.buyerId },
          payment_intent_data: { metadata: { topUpId: req.topUpId } },
          line_items: [
            {
              quantity: 1,
              price_data: { currency: req.currency, unit_amount: req.amount, product_data: { name: "Data exchange credit" } },
            },
          ],
          success_url: req.successUrl,
          cancel_url: req.cancelUrl,
        },
        { idempotencyKey: req.idempotencyKey },
      ),
    );
    if (!session.url) throw new PaymentRailError("Stripe returned a Checkout Session without a URL");
    return { kind: "checkout", sessionId: session.id, url: session.url };
  }

  async createPayee(ownerId: string, idempotencyKey: string): Promise<{ externalAccountId: string } & PayeeStatus> {
    const account = await call(() =>
      this.stripe.accounts.create({ type: "express", metadata: { ownerId }, capabilities: { transfers: { requested: true } } }, { idempotencyKey }),
    );
    return { externalAccountId: account.id, ...statusOf(account) };
  }

  async onboardingLink(externalAccountId: string, idempotencyKey: string, refreshUrl: string, returnUrl: string): Promise<string | null> {
    const link = await call(() =>
      this.stripe.accountLinks.create(
        { account: externalAccountId, type: "account_onboarding", refresh_url: refreshUrl, return_url: returnUrl },
        { idempotencyKey },
      ),
    );
    return link.url;
  }

  async payeeStatus(externalAccountId: string): Promise<PayeeStatus> {
    return statusOf(await call(() => this.stripe.accounts.retrieve(externalAccountId)));
  }

  async sendPayout(req: PayoutRequest): Promise<{ externalId: string }> {
    const transfer = await call(() =>
      this.stripe.transfers.create(
        {
          amount: req.amount,
          currency: req.currency,
          destination: req.destination,
          // The payout id ties the Stripe object to the ledger (and finds it after the
          // idempotency key's 24 hours have passed).
          transfer_group: req.payoutId,
          metadata: { payoutId: req.payoutId, ownerId: req.ownerId },
        },
        { idempotencyKey: req.idempotencyKey },
      ),
    );
    return { externalId: transfer.id };
  }

  /** A transfer made earlier for this payout, if any (used before re-sending after a crash). */
  async findPayout(payoutId: string): Promise<{ externalId: string } | null> {
    const list = await call(() => this.stripe.transfers.list({ transfer_group: payoutId, limit: 10 }));
    const found = list.data.find((t) => t.metadata?.["payoutId"] === payoutId);
    return found ? { externalId: found.id } : null;
  }

  async startSubscription(req: SubscriptionCheckoutRequest): Promise<{ sessionId: string; url: string }> {
    const session = await call(() =>
      this.stripe.checkout.sessions.create(
        {
          mode: "subscription",
          client_reference_id: req.subscriptionId,
          metadata: { subscriptionId: req.subscriptionId, buyerId: req.buyerId, listingId: req.listingId },
          subscription_data: { metadata: { subscriptionId: req.subscriptionId } },
          line_items: [
            {
              quantity: 1,
              price_data: {
                currency: req.currency,
                unit_amount: req.monthlyFee,
                recurring: { interval: "month" },
                product_data: { name: "Data exchange listing subscription" },
              },
            },
          ],
          success_url: req.successUrl,
          cancel_url: req.cancelUrl,
        },
        { idempotencyKey: req.idempotencyKey },
      ),
    );
    if (!session.url) throw new PaymentRailError("Stripe returned a Checkout Session without a URL");
    return { sessionId: session.id, url: session.url };
  }

  async fetchTopUp(sessionId: string): Promise<RailObject | null> {
    const s = await call(() => this.stripe.checkout.sessions.retrieve(sessionId));
    return { id: s.id, amount: s.amount_total ?? null, currency: s.currency ?? null, settled: s.payment_status === "paid" };
  }

  async fetchPayout(externalId: string): Promise<RailObject | null> {
    const t = await call(() => this.stripe.transfers.retrieve(externalId));
    return { id: t.id, amount: t.amount, currency: t.currency, settled: !t.reversed };
  }
}

function statusOf(account: Stripe.Account): PayeeStatus {
  return { detailsSubmitted: account.details_submitted === true, payoutsEnabled: account.payouts_enabled === true };
}

/**
 * Stripe's definitive refusals (bad request, card declined, permission, idempotency misuse)
 * become PaymentRailError; connection errors, 5xx and rate limits stay as they are: transient.
 */
async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isDefinitive(e)) throw new PaymentRailError(`Stripe refused the request: ${(e as Error).message}`);
    throw e;
  }
}

export function isDefinitive(e: unknown): boolean {
  const errors = Stripe.errors;
  return (
    e instanceof errors.StripeInvalidRequestError ||
    e instanceof errors.StripeCardError ||
    e instanceof errors.StripePermissionError ||
    e instanceof errors.StripeIdempotencyError ||
    e instanceof errors.StripeAuthenticationError
  );
}
