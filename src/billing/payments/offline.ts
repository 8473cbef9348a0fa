/**
 * The offline demo rail: no money moves outside the exchange. Top-ups are paid at once, owners
 * are "onboarded" at once, payouts are recorded as sent. It exists so the embedded demo runs
 * with nothing else installed, and it refuses to exist when NODE_ENV=production.
 */
import { PaymentsUnavailable } from "../errors.ts";
import type { PaymentGateway, PayeeStatus, PayoutRequest, RailObject, TopUpRequest, TopUpStart } from "./port.ts";

export class OfflineGatewayRefused extends Error {
  constructor() {
    super("the offline payment gateway is refused when NODE_ENV=production; configure Stripe");
    this.name = "OfflineGatewayRefused";
  }
}

export class OfflineGateway implements PaymentGateway {
  readonly rail = "offline" as const;

  constructor(options: { production: boolean }) {
    if (options.production) throw new OfflineGatewayRefused();
  }

  async startTopUp(req: TopUpRequest): Promise<TopUpStart> {
    return { kind: "paid", reference: `offline_${req.topUpId}` };
  }

  async createPayee(ownerId: string): Promise<{ externalAccountId: string } & PayeeStatus> {
    return { externalAccountId: `offline_${ownerId}`, detailsSubmitted: true, payoutsEnabled: true };
  }

  async onboardingLink(): Promise<string | null> {
    return null;
  }

  async payeeStatus(): Promise<PayeeStatus> {
    return { detailsSubmitted: true, payoutsEnabled: true };
  }

  async sendPayout(req: PayoutRequest): Promise<{ externalId: string }> {
    return { externalId: `offline_${req.payoutId}` };
  }

  async startSubscription(): Promise<{ sessionId: string; url: string }> {
    throw new PaymentsUnavailable("the offline rail has no checkout: pay the subscription from credit");
  }

  async fetchTopUp(): Promise<RailObject | null> {
    return null;
  }

  async fetchPayout(): Promise<RailObject | null> {
    return null;
  }
}
