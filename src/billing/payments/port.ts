/**
 * The payments port: what billing needs from a payment rail. Two adapters: Stripe (the rail in
 * production) and the offline demo rail (an admin grants credit; refused in production).
 * Every mutating call carries a deterministic idempotency key derived from a ledger or record
 * id, so a retry after a crash returns the first result instead of paying twice.
 * Adapters throw PaymentRailError when the rail definitively refuses a request; any other
 * error is transient (network, 5xx) and the operation may be retried with the same key.
 */
import type { Rail } from "../ledger/accounts.ts";

export interface TopUpRequest {
  topUpId: string;
  buyerId: string;
  amount: number;
  currency: string;
  idempotencyKey: string;
  successUrl: string;
  cancelUrl: string;
}

export type TopUpStart =
  /** Stripe: the buyer pays on this page; credit arrives with the verified webhook. */
  | { kind: "checkout"; sessionId: string; url: string }
  /** Offline rail: paid at once. */
  | { kind: "paid"; reference: string };

export interface PayeeStatus {
  detailsSubmitted: boolean;
  payoutsEnabled: boolean;
}

export interface PayoutRequest {
  payoutId: string;
  ownerId: string;
  destination: string;
  amount: number;
  currency: string;
  idempotencyKey: string;
}

export interface SubscriptionCheckoutRequest {
  subscriptionId: string;
  buyerId: string;
  listingId: string;
  monthlyFee: number;
  currency: string;
  idempotencyKey: string;
  successUrl: string;
  cancelUrl: string;
}

/** What the rail says about an object, for reconciliation. */
export interface RailObject {
  id: string;
  amount: number | null;
  currency: string | null;
  /** Paid (top-up) or not reversed (payout). */
  settled: boolean;
}

export interface PaymentGateway {
  readonly rail: Rail;
  startTopUp(req: TopUpRequest): Promise<TopUpStart>;
  createPayee(ownerId: string, idempotencyKey: string): Promise<{ externalAccountId: string } & PayeeStatus>;
  /** A page where the owner completes onboarding, or null when the rail needs none. */
  onboardingLink(externalAccountId: string, idempotencyKey: string, refreshUrl: string, returnUrl: string): Promise<string | null>;
  payeeStatus(externalAccountId: string): Promise<PayeeStatus>;
  sendPayout(req: PayoutRequest): Promise<{ externalId: string }>;
  startSubscription(req: SubscriptionCheckoutRequest): Promise<{ sessionId: string; url: string }>;
  fetchTopUp(sessionId: string): Promise<RailObject | null>;
  fetchPayout(externalId: string): Promise<RailObject | null>;
}
