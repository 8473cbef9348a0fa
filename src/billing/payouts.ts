/**
 * Payouts: owner payable → the owner's connected account.
 *   1. a payout record, then a ledger transfer (payable → clearing, guarded: payable stays ≥ 0),
 *      so the money is out of the payable exactly once before anything is sent;
 *   2. the rail call (a Stripe Transfer) with an idempotency key derived from that ledger
 *      transfer's id, so a retry after a crash returns the first Transfer instead of a second;
 *   3. the record marked paid. A definitive refusal from the rail reverses the ledger transfer.
 * Recovery re-drives step 1 and repeats step 2 (looking the Transfer up by its transfer_group
 * first, for crashes older than Stripe's 24-hour idempotency window).
 */
import { type Collection, type DocumentStore, type Page, type Stored } from "../store/port.ts";
import { newId } from "../ids.ts";
import { BelowPayoutThreshold, PaymentRailError, PaymentsUnavailable, PayoutAccountNotReady } from "./errors.ts";
import { COLLECTIONS, type Payout } from "./model.ts";
import type { Ledger } from "./ledger/ledger.ts";
import { Transfers, type TransferSpec } from "./ledger/transfers.ts";
import { accountKey } from "./ledger/accounts.ts";
import type { PaymentGateway } from "./payments/port.ts";
import { StripeGateway } from "./payments/stripe.ts";
import type { Payees } from "./payees.ts";
import type { BillingAudit } from "./audit.ts";

export interface PayoutsOptions {
  now: () => Date;
  gateway: PaymentGateway | null;
  threshold: number;
}

export class Payouts {
  readonly docs: Collection<Payout>;
  private readonly ledger: Ledger;
  private readonly payees: Payees;
  private readonly audit: BillingAudit;
  private readonly options: PayoutsOptions;
  /** Test hook: simulate a crash right after the rail call returned, before it is recorded. */
  crashAfterRailCall = false;

  private constructor(docs: Collection<Payout>, ledger: Ledger, payees: Payees, audit: BillingAudit, options: PayoutsOptions) {
    this.docs = docs;
    this.ledger = ledger;
    this.payees = payees;
    this.audit = audit;
    this.options = options;
  }

  static async open(store: DocumentStore, ledger: Ledger, payees: Payees, audit: BillingAudit, options: PayoutsOptions): Promise<Payouts> {
    const docs = await store.collection<Payout>(COLLECTIONS.payouts.name, COLLECTIONS.payouts.indexes);
    return new Payouts(docs, ledger, payees, audit, options);
  }

  get threshold(): number {
    return this.options.threshold;
  }

  /** Pays out the owner's whole payable in `currency` if it reached the threshold. */
  async request(ownerId: string, currency: string): Promise<Stored<Payout>> {
    const gateway = this.options.gateway;
    if (!gateway) throw new PaymentsUnavailable("no payment rail is configured on this exchange (set STRIPE_SECRET_KEY)");
    let payee = await this.payees.get(ownerId);
    if (!payee || payee.rail !== gateway.rail) throw new PayoutAccountNotReady("set up payouts first (startPayoutOnboarding)");
    if (!payee.payoutsEnabled) payee = (await this.payees.refresh(ownerId)) ?? payee;
    if (!payee.payoutsEnabled) throw new PayoutAccountNotReady("your payout account cannot receive payouts yet: finish onboarding on Stripe");
    const { balance } = await this.ledger.balance(accountKey.ownerPayable(ownerId, currency));
    if (balance <= 0 || balance < this.options.threshold) throw new BelowPayoutThreshold(balance, this.options.threshold, currency);
    const id = newId("pay");
    const transferKey = `payout:${id}`;
    const payout = await this.docs.insert({
      _id: id,
      ownerId,
      amount: balance,
      currency,
      rail: gateway.rail,
      destination: payee.externalAccountId,
      state: "requested",
      transferId: Transfers.idFor(transferKey),
      externalId: null,
      failure: null,
      createdAt: this.options.now().toISOString(),
      paidAt: null,
    });
    const ledgered = await this.debit(payout);
    if (ledgered.state === "rejected") {
      // Another payout took the payable first.
      const now = await this.ledger.balance(accountKey.ownerPayable(ownerId, currency));
      throw new BelowPayoutThreshold(now.balance, this.options.threshold, currency);
    }
    return this.send(ledgered);
  }

  /** Pays out every owner whose payable reached the threshold and whose account is ready. */
  async sweep(): Promise<Stored<Payout>[]> {
    const paid: Stored<Payout>[] = [];
    for (const a of await this.ledger.allBalances()) {
      if (a.kind !== "owner_payable" || a.balance < Math.max(1, this.options.threshold)) continue;
      const ownerId = a.account.split(":")[1]!;
      try {
        paid.push(await this.request(ownerId, a.currency));
      } catch (e) {
        if (!(e instanceof PayoutAccountNotReady || e instanceof BelowPayoutThreshold)) throw e;
      }
    }
    return paid;
  }

  list(ownerId: string, first: number, after?: string | null): Promise<Page<Stored<Payout>>> {
    return this.docs.find({ ownerId }, { sort: [["createdAt", -1]], limit: first, ...(after ? { after } : {}) });
  }

  /** Finishes payouts a crash interrupted: requested → debited, debited → sent (no double payment). */
  async recover(): Promise<number> {
    let n = 0;
    let after: string | null = null;
    do {
      const page: Page<Stored<Payout>> = await this.docs.find(
        { state: { $in: ["requested", "ledgered"] } },
        { limit: 100, ...(after ? { after } : {}) },
      );
      for (let p of page.items) {
        if (p.state === "requested") p = await this.debit(p);
        if (p.state === "ledgered" && this.options.gateway?.rail === p.rail) await this.send(p).catch(() => undefined);
        n++;
      }
      after = page.nextCursor;
    } while (after);
    return n;
  }

  private spec(p: Payout & { _id: string }): TransferSpec {
    return {
      key: `payout:${p._id}`,
      kind: "payout",
      currency: p.currency,
      legs: [
        {
          journal: "money",
          account: accountKey.ownerPayable(p.ownerId, p.currency),
          delta: { balance: -p.amount },
          guard: { kind: "nonNegative", field: "balance" },
        },
        { journal: "money", account: accountKey.clearing(p.rail, p.currency), delta: { balance: p.amount } },
      ],
      refs: { payoutId: p._id, ownerId: p.ownerId },
    };
  }

  private async debit(p: Stored<Payout>): Promise<Stored<Payout>> {
    const t = await this.ledger.transfers.execute(this.spec(p));
    const state = t.state === "posted" ? "ledgered" : "rejected";
    return (await this.docs.updateOne({ _id: p._id, state: "requested" }, { $set: { state } })) ?? (await this.docs.get(p._id))!;
  }

  private async send(p: Stored<Payout>): Promise<Stored<Payout>> {
    if (p.state !== "ledgered") return p;
    const gateway = this.options.gateway!;
    let externalId: string;
    try {
      const earlier = gateway instanceof StripeGateway ? await gateway.findPayout(p._id).catch(() => null) : null;
      externalId =
        earlier?.externalId ??
        (
          await gateway.sendPayout({
            payoutId: p._id,
            ownerId: p.ownerId,
            destination: p.destination,
            amount: p.amount,
            currency: p.currency,
            idempotencyKey: `payout:${p.transferId}`,
          })
        ).externalId;
    } catch (e) {
      if (!(e instanceof PaymentRailError)) throw e; // transient: stays "ledgered", recovery retries with the same key
      await this.ledger.transfers.execute({
        key: `payout-reversal:${p._id}`,
        kind: "payout_reversal",
        currency: p.currency,
        legs: [
          { journal: "money", account: accountKey.clearing(p.rail, p.currency), delta: { balance: -p.amount } },
          { journal: "money", account: accountKey.ownerPayable(p.ownerId, p.currency), delta: { balance: p.amount } },
        ],
        refs: { payoutId: p._id, ownerId: p.ownerId },
      });
      return (
        (await this.docs.updateOne({ _id: p._id, state: "ledgered" }, { $set: { state: "failed", failure: e.message.slice(0, 300) } })) ??
        (await this.docs.get(p._id))!
      );
    }
    if (this.crashAfterRailCall) throw new Error("simulated crash after the rail call");
    // Logged before it is marked paid: after a crash in between, recovery sends again with the
    // same idempotency key (the rail answers with the first Transfer) and logs again (same event id).
    await this.audit.payoutSent({ ...p, state: "paid", externalId });
    return (
      (await this.docs.updateOne(
        { _id: p._id, state: "ledgered" },
        { $set: { state: "paid", externalId, paidAt: this.options.now().toISOString() } },
      )) ?? (await this.docs.get(p._id))!
    );
  }
}
