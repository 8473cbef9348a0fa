/**
 * Buyer top-ups. On Stripe: a Checkout Session is created (idempotency key from the top-up id)
 * and the buyer pays on Stripe's page; the ledger is credited ONLY when the verified webhook
 * says the session is paid. On the offline demo rail the top-up is paid at once, and admins
 * may grant credit; both go through the same `confirmPaid`, whose ledger transfer is keyed by
 * the top-up id, so a repeated webhook or a retry credits once.
 */
import { z } from "zod";
import { DuplicateKeyError, type Collection, type DocumentStore, type Page, type Stored } from "../store/port.ts";
import { NotFound, invalidInputFromZod } from "../errors.ts";
import { derivedId, fingerprint } from "./keys.ts";
import { IdempotencyConflict, PaymentsUnavailable } from "./errors.ts";
import { COLLECTIONS, type TopUp } from "./model.ts";
import type { Ledger } from "./ledger/ledger.ts";
import { accountKey, type Rail } from "./ledger/accounts.ts";
import type { PaymentGateway } from "./payments/port.ts";

export const MIN_TOP_UP = 100;
export const MAX_TOP_UP = 100_000_000;

const topUpInput = z.object({
  amount: z
    .number()
    .int("must be whole minor units (e.g. fen)")
    .min(MIN_TOP_UP, `must be at least ${MIN_TOP_UP} minor units`)
    .max(MAX_TOP_UP, `must be at most ${MAX_TOP_UP} minor units`),
  currency: z.string().regex(/^[a-z]{3}$/, 'must be an ISO 4217 code in lower case, e.g. "cny"'),
  idempotencyKey: z
    .string()
    .min(1, "is required")
    .max(200, "must be at most 200 characters")
    .regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces"),
});

export interface TopUpsOptions {
  now: () => Date;
  gateway: PaymentGateway | null;
  publicUrl: string;
  defaultCurrency: string;
}

export class TopUps {
  readonly docs: Collection<TopUp>;
  private readonly ledger: Ledger;
  private readonly options: TopUpsOptions;

  private constructor(docs: Collection<TopUp>, ledger: Ledger, options: TopUpsOptions) {
    this.docs = docs;
    this.ledger = ledger;
    this.options = options;
  }

  static async open(store: DocumentStore, ledger: Ledger, options: TopUpsOptions): Promise<TopUps> {
    return new TopUps(await store.collection<TopUp>(COLLECTIONS.topUps.name, COLLECTIONS.topUps.indexes), ledger, options);
  }

  /** The buyer starts a top-up: a Checkout URL on Stripe, paid at once on the offline rail. */
  async start(buyerId: string, raw: { amount: number; currency?: string | null; idempotencyKey: string }): Promise<Stored<TopUp>> {
    const gateway = this.options.gateway;
    if (!gateway) throw new PaymentsUnavailable("no payment rail is configured on this exchange (set STRIPE_SECRET_KEY)");
    const input = this.parse(raw);
    const doc = await this.create(`topup:${buyerId}:${input.idempotencyKey}`, buyerId, input.amount, input.currency, gateway.rail);
    return this.advance(doc);
  }

  /** An admin grants credit (offline demo rail only): recorded as a top-up paid at once. */
  async grant(adminId: string, buyerId: string, raw: { amount: number; currency?: string | null; idempotencyKey: string }): Promise<Stored<TopUp>> {
    if (this.options.gateway?.rail !== "offline") {
      throw new PaymentsUnavailable("credit grants exist only on the offline demo rail; buyers top up through Stripe Checkout");
    }
    const input = this.parse(raw);
    const doc = await this.create(`grant:${adminId}:${input.idempotencyKey}`, buyerId, input.amount, input.currency, "offline");
    return this.confirmPaid(doc._id, doc.amount, doc.currency);
  }

  /**
   * The rail says the top-up is paid: credit the buyer once (the transfer's key is the top-up
   * id, so repeats return the first transfer), then mark the top-up paid.
   */
  async confirmPaid(topUpId: string, paidAmount: number, currency: string): Promise<Stored<TopUp>> {
    const doc = await this.docs.get(topUpId);
    if (!doc) throw new NotFound("top-up");
    const t = await this.ledger.transfers.execute({
      key: `topup:${topUpId}`,
      kind: doc.key.startsWith("grant:") ? "grant" : "topup",
      currency,
      legs: [
        { journal: "money", account: accountKey.clearing(doc.rail, currency), delta: { balance: -paidAmount } },
        { journal: "money", account: accountKey.buyerCredit(doc.buyerId, currency), delta: { balance: paidAmount } },
      ],
      refs: { topUpId, buyerId: doc.buyerId },
    });
    if (doc.state === "paid") return doc;
    return (
      (await this.docs.updateOne(
        { _id: topUpId, state: { $ne: "paid" } },
        { $set: { state: "paid", paidAmount, transferId: t._id, paidAt: this.options.now().toISOString() } },
      )) ?? (await this.docs.get(topUpId))!
    );
  }

  /** Stripe says the Checkout Session expired unpaid. A paid top-up stays paid (events may arrive out of order). */
  async markExpired(topUpId: string): Promise<void> {
    await this.docs.updateOne({ _id: topUpId, state: { $in: ["created", "open"] } }, { $set: { state: "expired" } });
  }

  get(id: string): Promise<Stored<TopUp> | null> {
    return this.docs.get(id);
  }

  list(buyerId: string, first: number, after?: string | null): Promise<Page<Stored<TopUp>>> {
    return this.docs.find({ buyerId }, { sort: [["createdAt", -1]], limit: first, ...(after ? { after } : {}) });
  }

  /** Finishes top-ups a crash left between steps: sessions not yet created, credits not yet marked. */
  async recover(): Promise<number> {
    let n = 0;
    let after: string | null = null;
    do {
      const page: Page<Stored<TopUp>> = await this.docs.find({ state: { $in: ["created", "open"] } }, { limit: 100, ...(after ? { after } : {}) });
      for (const doc of page.items) {
        const credited = await this.ledger.transfers.byKey(`topup:${doc._id}`);
        if (credited?.state === "posted") {
          await this.confirmPaid(doc._id, -(credited.legs[0]?.delta["balance"] ?? 0), credited.currency);
          n++;
        } else if (doc.state === "created" && this.options.gateway?.rail === doc.rail) {
          await this.advance(doc).catch(() => undefined); // still failing: the next recovery tries again
          n++;
        }
      }
      after = page.nextCursor;
    } while (after);
    return n;
  }

  private parse(raw: { amount: number; currency?: string | null; idempotencyKey: string }) {
    const parsed = topUpInput.safeParse({ ...raw, currency: raw.currency ?? this.options.defaultCurrency });
    if (!parsed.success) throw invalidInputFromZod(parsed.error, "input");
    return parsed.data;
  }

  private async create(key: string, buyerId: string, amount: number, currency: string, rail: Rail): Promise<Stored<TopUp>> {
    const id = derivedId("top", key);
    const fp = fingerprint({ buyerId, amount, currency, rail });
    try {
      return await this.docs.insert({
        _id: id,
        key,
        fingerprint: fp,
        buyerId,
        amount,
        currency,
        rail,
        state: "created",
        checkoutSessionId: null,
        checkoutUrl: null,
        paidAmount: null,
        transferId: null,
        createdAt: this.options.now().toISOString(),
        paidAt: null,
      });
    } catch (e) {
      if (!(e instanceof DuplicateKeyError)) throw e;
      const existing = await this.docs.get(id);
      if (!existing) throw e;
      if (existing.fingerprint !== fp) throw new IdempotencyConflict(key.split(":").slice(2).join(":"));
      return existing;
    }
  }

  /** Created → open (Stripe: the session exists) or paid (offline). Safe to repeat. */
  private async advance(doc: Stored<TopUp>): Promise<Stored<TopUp>> {
    if (doc.state !== "created") return doc;
    const gateway = this.options.gateway!;
    const started = await gateway.startTopUp({
      topUpId: doc._id,
      buyerId: doc.buyerId,
      amount: doc.amount,
      currency: doc.currency,
      idempotencyKey: `${doc._id}:checkout`,
      successUrl: `${this.options.publicUrl}/billing/top-ups/${doc._id}/done`,
      cancelUrl: `${this.options.publicUrl}/billing/top-ups/${doc._id}/cancelled`,
    });
    if (started.kind === "paid") return this.confirmPaid(doc._id, doc.amount, doc.currency);
    return (
      (await this.docs.updateOne(
        { _id: doc._id, state: "created" },
        { $set: { state: "open", checkoutSessionId: started.sessionId, checkoutUrl: started.url } },
      )) ?? (await this.docs.get(doc._id))!
    );
  }
}
