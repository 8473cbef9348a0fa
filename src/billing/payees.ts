/**
 * Owners as payees: a connected account on the payment rail (Stripe Connect Express, or an
 * instant pseudo-account on the offline rail) and the link where they finish onboarding.
 * Status comes from Stripe (`account.updated` webhooks, or a refresh): an older event never
 * overwrites a newer status.
 */
import { DuplicateKeyError, type Collection, type DocumentStore, type Stored } from "../store/port.ts";
import { PaymentsUnavailable } from "./errors.ts";
import { COLLECTIONS, type Payee } from "./model.ts";
import type { PaymentGateway } from "./payments/port.ts";

export interface Onboarding {
  payee: Stored<Payee>;
  /** Where the owner completes onboarding on Stripe; null when nothing is left to do. */
  onboardingUrl: string | null;
}

export class Payees {
  readonly docs: Collection<Payee>;
  private readonly gateway: PaymentGateway | null;
  private readonly now: () => Date;
  private readonly publicUrl: string;

  private constructor(docs: Collection<Payee>, gateway: PaymentGateway | null, now: () => Date, publicUrl: string) {
    this.docs = docs;
    this.gateway = gateway;
    this.now = now;
    this.publicUrl = publicUrl;
  }

  static async open(store: DocumentStore, gateway: PaymentGateway | null, now: () => Date, publicUrl: string): Promise<Payees> {
    return new Payees(await store.collection<Payee>(COLLECTIONS.payees.name, COLLECTIONS.payees.indexes), gateway, now, publicUrl);
  }

  get(ownerId: string): Promise<Stored<Payee> | null> {
    return this.docs.get(ownerId);
  }

  /** Creates the owner's connected account once (idempotency key from the owner id) and returns an onboarding link. */
  async onboard(ownerId: string): Promise<Onboarding> {
    const gateway = this.requireGateway();
    let payee = await this.docs.get(ownerId);
    if (!payee || payee.rail !== gateway.rail) {
      const created = await gateway.createPayee(ownerId, `payee:${ownerId}:${gateway.rail}`);
      payee = await this.save(ownerId, gateway.rail, created.externalAccountId, created);
    }
    if (payee.detailsSubmitted && payee.payoutsEnabled) return { payee, onboardingUrl: null };
    // Account links expire within minutes; one per owner per minute is reused on retries.
    const minute = Math.floor(this.now().getTime() / 60_000);
    const url = await gateway.onboardingLink(
      payee.externalAccountId,
      `payee-link:${payee.externalAccountId}:${minute}`,
      `${this.publicUrl}/billing/onboarding/refresh`,
      `${this.publicUrl}/billing/onboarding/done`,
    );
    return { payee, onboardingUrl: url };
  }

  /** Asks the rail for the payee's current status (e.g. before a payout). */
  async refresh(ownerId: string): Promise<Stored<Payee> | null> {
    const payee = await this.docs.get(ownerId);
    if (!payee || !this.gateway || payee.rail !== this.gateway.rail) return payee;
    const status = await this.gateway.payeeStatus(payee.externalAccountId);
    return this.applyStatus(payee.externalAccountId, status, this.now().toISOString());
  }

  /** A status from the rail as of `asOf` (Stripe's event time); ignored if an newer one was applied. */
  async applyStatus(
    externalAccountId: string,
    status: { detailsSubmitted: boolean; payoutsEnabled: boolean },
    asOf: string,
  ): Promise<Stored<Payee> | null> {
    const payee = await this.docs.findOne({ externalAccountId });
    if (!payee) return null;
    const updated = await this.docs.updateOne(
      { _id: payee._id, statusAsOf: { $lte: asOf } },
      { $set: { detailsSubmitted: status.detailsSubmitted, payoutsEnabled: status.payoutsEnabled, statusAsOf: asOf } },
    );
    return updated ?? (await this.docs.get(payee._id));
  }

  private async save(
    ownerId: string,
    rail: Payee["rail"],
    externalAccountId: string,
    status: { detailsSubmitted: boolean; payoutsEnabled: boolean },
  ): Promise<Stored<Payee>> {
    const now = this.now().toISOString();
    const fields = { rail, externalAccountId, detailsSubmitted: status.detailsSubmitted, payoutsEnabled: status.payoutsEnabled, statusAsOf: now };
    try {
      return await this.docs.insert({ _id: ownerId, ...fields, createdAt: now });
    } catch (e) {
      if (!(e instanceof DuplicateKeyError)) throw e;
      // Another request created it first, or the owner moves to another rail.
      const existing = (await this.docs.get(ownerId))!;
      if (existing.rail === rail) return existing;
      return (await this.docs.updateOne({ _id: ownerId, rail: existing.rail }, { $set: fields })) ?? (await this.docs.get(ownerId))!;
    }
  }

  private requireGateway(): PaymentGateway {
    if (!this.gateway) throw new PaymentsUnavailable("no payment rail is configured on this exchange (set STRIPE_SECRET_KEY)");
    return this.gateway;
  }
}
