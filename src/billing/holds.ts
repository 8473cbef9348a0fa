/**
 * Query holds, the two-phase charge around every query run:
 *   holdForQuery  before the kernel runs: quote against the buyer's month, reserve the price
 *                 from available credit (and count the query in the month), or refuse;
 *   postQuery     after: rate the metered usage against the same month, charge at most the
 *                 hold (the rest is released), split it between owner and platform, meter it;
 *   voidQuery     on failure: release everything.
 * A hold resolves exactly once: the first conditional update from "held" to "resolving" wins;
 * the ledger transfer that follows is derived from the hold and driven to completion by
 * whoever gets there (the caller, a retry, or recovery after a crash).
 */
import { z } from "zod";
import { DuplicateKeyError, type Collection, type DocumentStore, type Stored } from "../store/port.ts";
import { NotFound, invalidInputFromZod } from "../errors.ts";
import {
  EMPTY_MONTH,
  monthOf,
  planHasMonthlyState,
  pricePlanSchema,
  quoteQuery,
  rateUsage,
  splitPlatformFee,
  type PricePlan,
  type QueryPrice,
} from "../../pricing/index.ts";
import { derivedId, fingerprint } from "./keys.ts";
import { HoldAlreadyResolved, IdempotencyConflict, InsufficientCredit, PriceChanged } from "./errors.ts";
import { COLLECTIONS, type HoldResolution, type MeterRecord, type MeteredUsage, type QueryHold } from "./model.ts";
import type { Ledger } from "./ledger/ledger.ts";
import type { TransferLeg, TransferSpec } from "./ledger/transfers.ts";
import { accountKey, usageKey } from "./ledger/accounts.ts";
import type { Metering } from "./metering.ts";

export interface HoldForQueryInput {
  buyerId: string;
  listingId: string;
  ownerId: string;
  /** The listing's price plan as the catalog stores it (snapshotted into the hold). */
  plan: PricePlan;
  /** The planner's estimate: ε to spend and rows to scan. */
  estimate: { epsilon: number; rowsScanned: number };
  /** The caller's key for this query run: a retry with the same key returns the same hold. */
  idempotencyKey: string;
  quoteId?: string | null;
  /** The price the buyer agreed to: refuse (PriceChanged) rather than hold more. */
  maxAmount?: number | null;
}

export interface QueryReceipt {
  hold: Stored<QueryHold>;
  meter: Stored<MeterRecord>;
}

const idish = z.string().min(1, "is required").max(200, "is too long");
const holdInput = z.object({
  buyerId: idish,
  listingId: idish,
  ownerId: idish,
  plan: pricePlanSchema,
  estimate: z.object({
    epsilon: z.number().finite().min(0, "cannot be negative").max(1_000_000),
    rowsScanned: z.number().int("must be a whole number of rows").min(0, "cannot be negative").max(Number.MAX_SAFE_INTEGER),
  }),
  idempotencyKey: z
    .string()
    .min(1, "is required")
    .max(200, "must be at most 200 characters")
    .regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces"),
  quoteId: idish.nullish(),
  maxAmount: z.number().int().min(0).nullish(),
});

const usageInput = z.object({
  epsilon: z.number().finite().min(0, "cannot be negative").max(1_000_000),
  rowsScanned: z.number().int("must be a whole number of rows").min(0, "cannot be negative").max(Number.MAX_SAFE_INTEGER),
  cpuMs: z.number().finite().min(0, "cannot be negative").max(1e12),
});

const MAX_REQUOTES = 50;

export interface HoldsOptions {
  now: () => Date;
  /** How long a hold may stay open before recovery voids it. */
  holdTtlMs: number;
  /** Whether the buyer holds an active subscription to the listing at this instant. */
  isSubscribed: (buyerId: string, listingId: string, at: Date) => Promise<boolean>;
}

export class Holds {
  readonly docs: Collection<QueryHold>;
  private readonly ledger: Ledger;
  private readonly metering: Metering;
  private readonly options: HoldsOptions;

  private constructor(docs: Collection<QueryHold>, ledger: Ledger, metering: Metering, options: HoldsOptions) {
    this.docs = docs;
    this.ledger = ledger;
    this.metering = metering;
    this.options = options;
  }

  static async open(store: DocumentStore, ledger: Ledger, metering: Metering, options: HoldsOptions): Promise<Holds> {
    const docs = await store.collection<QueryHold>(COLLECTIONS.holds.name, COLLECTIONS.holds.indexes);
    return new Holds(docs, ledger, metering, options);
  }

  /** Reserves the quoted price of one query. Throws InsufficientCredit / PriceChanged / IdempotencyConflict. */
  async holdForQuery(raw: HoldForQueryInput): Promise<Stored<QueryHold>> {
    const parsed = holdInput.safeParse(raw);
    if (!parsed.success) throw invalidInputFromZod(parsed.error, "hold");
    const input = parsed.data;
    const key = `query:${input.buyerId}:${input.idempotencyKey}`;
    const id = Holds.idFor(input.buyerId, input.idempotencyKey);
    const fp = fingerprint({
      buyerId: input.buyerId,
      listingId: input.listingId,
      ownerId: input.ownerId,
      plan: input.plan,
      estimate: input.estimate,
      quoteId: input.quoteId ?? null,
      maxAmount: input.maxAmount ?? null,
    });
    let hold = await this.docs.get(id);
    if (!hold) {
      const now = this.options.now();
      const month = monthOf(now);
      const subscribed = await this.options.isSubscribed(input.buyerId, input.listingId, now);
      const { quote, basis, basisSeq } = await this.quote(input.plan, input.estimate, input.buyerId, input.listingId, month, subscribed);
      if (input.maxAmount != null && quote.amount > input.maxAmount) throw new PriceChanged(input.maxAmount, quote.amount);
      try {
        hold = await this.docs.insert({
          _id: id,
          key,
          fingerprint: fp,
          buyerId: input.buyerId,
          listingId: input.listingId,
          ownerId: input.ownerId,
          quoteId: input.quoteId ?? null,
          currency: input.plan.currency,
          plan: input.plan,
          estimate: input.estimate,
          month,
          subscribed,
          attempt: 1,
          amount: quote.amount,
          quote,
          basis,
          basisSeq,
          state: "opening",
          rejection: null,
          resolution: null,
          createdAt: now.toISOString(),
          expiresAt: new Date(now.getTime() + this.options.holdTtlMs).toISOString(),
          resolvedAt: null,
        } as QueryHold & { _id: string });
      } catch (e) {
        if (!(e instanceof DuplicateKeyError)) throw e;
        hold = await this.docs.get(id);
        if (!hold) throw e;
      }
    }
    if (hold.fingerprint !== fp) throw new IdempotencyConflict(input.idempotencyKey);
    return this.open(hold, input.maxAmount ?? null, false);
  }

  /**
   * Drives an opening hold to "held" (re-quoting when the month moved under the quote) or to
   * "rejected". `abandoned` (recovery): do not re-quote; a stale quote just rejects.
   */
  private async open(hold: Stored<QueryHold>, maxAmount: number | null, abandoned: boolean): Promise<Stored<QueryHold>> {
    for (let round = 0; round < MAX_REQUOTES; round++) {
      if (hold.state === "rejected") throw rejectionError(hold);
      if (hold.state !== "opening") return hold;
      const t = await this.ledger.transfers.execute(this.holdTransfer(hold));
      if (t.state === "posted") {
        hold = await this.move(hold, { state: "opening", attempt: hold.attempt }, { state: "held" });
        continue;
      }
      const reason = t.rejection?.reason ?? "refused";
      if (reason === "available") {
        const seen = t.rejection?.seen ?? {};
        const available = (seen["balance"] ?? 0) - (seen["held"] ?? 0);
        const err = new InsufficientCredit(hold.amount, available, hold.currency);
        hold = await this.move(
          hold,
          { state: "opening", attempt: hold.attempt },
          {
            state: "rejected",
            rejection: { code: err.code, message: err.message, required: hold.amount, available },
            resolvedAt: this.options.now().toISOString(),
          },
        );
        continue;
      }
      // "stale": another query of this buyer on this listing changed the month first.
      if (abandoned) {
        hold = await this.move(
          hold,
          { state: "opening", attempt: hold.attempt },
          {
            state: "rejected",
            rejection: {
              code: "ABANDONED",
              message: "the query that opened this hold stopped before it was held",
              required: hold.amount,
              available: 0,
            },
            resolvedAt: this.options.now().toISOString(),
          },
        );
        continue;
      }
      const { quote, basis, basisSeq } = await this.quote(hold.plan, hold.estimate, hold.buyerId, hold.listingId, hold.month, hold.subscribed);
      if (maxAmount !== null && quote.amount > maxAmount) {
        const err = new PriceChanged(maxAmount, quote.amount);
        await this.move(
          hold,
          { state: "opening", attempt: hold.attempt },
          {
            state: "rejected",
            // For a price change: `required` is the new price, `available` the agreed maximum.
            rejection: { code: err.code, message: err.message, required: quote.amount, available: maxAmount },
            resolvedAt: this.options.now().toISOString(),
          },
        );
        throw err;
      }
      hold = await this.move(
        hold,
        { state: "opening", attempt: hold.attempt },
        {
          attempt: hold.attempt + 1,
          amount: quote.amount,
          quote,
          basis,
          basisSeq,
        },
      );
    }
    throw new Error(`hold ${hold._id}: the buyer's month kept changing; gave up after ${MAX_REQUOTES} quotes`);
  }

  /** Charges the metered price (at most the hold), releases the rest, and meters the query. */
  async postQuery(holdId: string, rawUsage: MeteredUsage): Promise<QueryReceipt> {
    const parsed = usageInput.safeParse(rawUsage);
    if (!parsed.success) throw invalidInputFromZod(parsed.error, "usage");
    const usage = parsed.data;
    for (;;) {
      const hold = await this.docs.get(holdId);
      if (!hold) throw new NotFound("hold");
      if (hold.state === "held") {
        const rated = rateUsage(hold.plan, usage, hold.basis, { subscribed: hold.subscribed });
        const charged = Math.min(rated.amount, hold.amount);
        const split = splitPlatformFee(charged, hold.plan.platformFeeBasisPoints);
        const resolution: HoldResolution = { kind: "post", usage, rated, charged, ...split, released: hold.amount - charged };
        const won = await this.docs.updateOne({ _id: holdId, state: "held" }, { $set: { state: "resolving", resolution } as never });
        if (!won) continue; // someone else resolved it first: look again
        return this.finishPost(won);
      }
      const r = hold.resolution;
      if ((hold.state === "resolving" || hold.state === "posted") && r?.kind === "post" && sameUsage(r.usage, usage)) {
        return this.finishPost(hold);
      }
      throw new HoldAlreadyResolved(holdId, describeState(hold));
    }
  }

  /** Releases the whole hold (the query failed or was refused after the hold). */
  async voidQuery(holdId: string, reason = "query failed"): Promise<Stored<QueryHold>> {
    for (;;) {
      const hold = await this.docs.get(holdId);
      if (!hold) throw new NotFound("hold");
      if (hold.state === "held") {
        const won = await this.docs.updateOne(
          { _id: holdId, state: "held" },
          { $set: { state: "resolving", resolution: { kind: "void", reason: reason.slice(0, 200) } } },
        );
        if (!won) continue;
        return this.finishVoid(won);
      }
      if ((hold.state === "resolving" || hold.state === "voided") && hold.resolution?.kind === "void") return this.finishVoid(hold);
      throw new HoldAlreadyResolved(holdId, describeState(hold));
    }
  }

  get(holdId: string): Promise<Stored<QueryHold> | null> {
    return this.docs.get(holdId);
  }

  /** The id `holdForQuery` gives the hold of this buyer's run key: known before the hold exists. */
  static idFor(buyerId: string, idempotencyKey: string): string {
    return derivedId("hld", `query:${buyerId}:${idempotencyKey}`);
  }

  /**
   * Lets go of a hold whose run stopped (recovery): an opening hold is settled without re-quoting,
   * a held one voided, a resolving one finished. No hold, or one already resolved: nothing to do.
   */
  async abandon(holdId: string, reason: string): Promise<void> {
    let hold = await this.docs.get(holdId);
    if (!hold) return;
    if (hold.state === "opening") hold = await this.open(hold, null, true).catch(() => null);
    if (!hold) return;
    if (hold.state === "held") {
      await this.voidQuery(holdId, reason).catch((e) => {
        if (!(e instanceof HoldAlreadyResolved)) throw e;
      });
    } else if (hold.state === "resolving") {
      if (hold.resolution?.kind === "post") await this.finishPost(hold);
      else await this.finishVoid(hold);
    }
  }

  /**
   * Finishes what a crash left half-done: resolving holds are completed, holds opened by a
   * caller that is gone (older than `openingGraceMs`) are settled and released, and holds
   * past their expiry are voided.
   */
  async recover(openingGraceMs: number): Promise<{ resolved: number; abandoned: number; expired: number }> {
    const now = this.options.now();
    let resolved = 0;
    let abandoned = 0;
    let expired = 0;
    for await (const hold of this.each({ state: "resolving" })) {
      if (hold.resolution?.kind === "post") await this.finishPost(hold);
      else await this.finishVoid(hold);
      resolved++;
    }
    const graceEdge = new Date(now.getTime() - openingGraceMs).toISOString();
    for await (const hold of this.each({ state: "opening", createdAt: { $lt: graceEdge } })) {
      const settled = await this.open(hold, null, true).catch(() => null);
      if (settled?.state === "held") await this.voidQuery(settled._id, "abandoned: the query that held it stopped").catch(() => undefined);
      abandoned++;
    }
    for await (const hold of this.each({ state: "held", expiresAt: { $lt: now.toISOString() } })) {
      await this.voidQuery(hold._id, "expired").catch((e) => {
        if (!(e instanceof HoldAlreadyResolved)) throw e;
      });
      expired++;
    }
    return { resolved, abandoned, expired };
  }

  private async *each(filter: Record<string, unknown>): AsyncGenerator<Stored<QueryHold>> {
    let after: string | null = null;
    do {
      const page = await this.docs.find(filter as never, { sort: [["createdAt", 1]], limit: 100, ...(after ? { after } : {}) });
      yield* page.items;
      after = page.nextCursor;
    } while (after);
  }

  private async finishPost(hold: Stored<QueryHold>): Promise<QueryReceipt> {
    const r = hold.resolution;
    if (r?.kind !== "post") throw new Error(`hold ${hold._id} is not being posted`);
    const legs: TransferLeg[] = [];
    const buyer = accountKey.buyerCredit(hold.buyerId, hold.currency);
    if (hold.amount > 0 || r.charged > 0) legs.push({ journal: "money", account: buyer, delta: { balance: -r.charged, held: -hold.amount } });
    if (r.ownerShare > 0)
      legs.push({ journal: "money", account: accountKey.ownerPayable(hold.ownerId, hold.currency), delta: { balance: r.ownerShare } });
    if (r.platformFee > 0) legs.push({ journal: "money", account: accountKey.platformRevenue(hold.currency), delta: { balance: r.platformFee } });
    if (planHasMonthlyState(hold.plan)) {
      const adjust = { charged: r.charged - hold.amount, microEpsilon: r.rated.microEpsilon - hold.quote.microEpsilon };
      if (adjust.charged !== 0 || adjust.microEpsilon !== 0) {
        legs.push({ journal: "usage", account: usageKey(hold.buyerId, hold.listingId, hold.month), delta: adjust });
      }
    }
    const t = await this.ledger.transfers.execute({
      key: `capture:${hold._id}`,
      kind: "capture",
      currency: hold.currency,
      legs,
      refs: refsOf(hold),
    });
    if (t.state !== "posted") throw new Error(`capture of hold ${hold._id} was refused: ${t.rejection?.reason}`);
    const meter = await this.metering.record(hold, r, t._id);
    const done =
      hold.state === "posted"
        ? hold
        : ((await this.docs.updateOne(
            { _id: hold._id, state: "resolving" },
            { $set: { state: "posted", resolvedAt: this.options.now().toISOString() } },
          )) ?? (await this.docs.get(hold._id))!);
    return { hold: done, meter };
  }

  private async finishVoid(hold: Stored<QueryHold>): Promise<Stored<QueryHold>> {
    const legs: TransferLeg[] = [];
    if (hold.amount > 0) legs.push({ journal: "money", account: accountKey.buyerCredit(hold.buyerId, hold.currency), delta: { held: -hold.amount } });
    if (planHasMonthlyState(hold.plan)) {
      legs.push({
        journal: "usage",
        account: usageKey(hold.buyerId, hold.listingId, hold.month),
        delta: { queries: -1, microEpsilon: -hold.quote.microEpsilon, charged: -hold.amount },
      });
    }
    const t = await this.ledger.transfers.execute({ key: `release:${hold._id}`, kind: "release", currency: hold.currency, legs, refs: refsOf(hold) });
    if (t.state !== "posted") throw new Error(`release of hold ${hold._id} was refused: ${t.rejection?.reason}`);
    if (hold.state === "voided") return hold;
    return (
      (await this.docs.updateOne(
        { _id: hold._id, state: "resolving" },
        { $set: { state: "voided", resolvedAt: this.options.now().toISOString() } },
      )) ?? (await this.docs.get(hold._id))!
    );
  }

  private holdTransfer(hold: Stored<QueryHold>): TransferSpec {
    const legs: TransferLeg[] = [];
    if (planHasMonthlyState(hold.plan)) {
      legs.push({
        journal: "usage",
        account: usageKey(hold.buyerId, hold.listingId, hold.month),
        delta: { queries: 1, microEpsilon: hold.quote.microEpsilon, charged: hold.amount },
        guard: { kind: "seqIs", seq: hold.basisSeq },
      });
    }
    if (hold.amount > 0) {
      legs.push({
        journal: "money",
        account: accountKey.buyerCredit(hold.buyerId, hold.currency),
        delta: { held: hold.amount },
        guard: { kind: "available" },
      });
    }
    return { key: `hold:${hold._id}:${hold.attempt}`, kind: "hold", currency: hold.currency, legs, refs: refsOf(hold) };
  }

  private async quote(
    plan: PricePlan,
    estimate: { epsilon: number; rowsScanned: number },
    buyerId: string,
    listingId: string,
    month: string,
    subscribed: boolean,
  ): Promise<{ quote: QueryPrice; basis: typeof EMPTY_MONTH; basisSeq: number }> {
    const state = planHasMonthlyState(plan) ? await this.ledger.monthToDate(buyerId, listingId, month) : { seq: 0, month: EMPTY_MONTH };
    return { quote: quoteQuery(plan, estimate, state.month, { subscribed }), basis: state.month, basisSeq: state.seq };
  }

  /** Conditional state change; returns the updated hold, or the current one if another writer moved it. */
  private async move(hold: Stored<QueryHold>, expect: Record<string, string | number>, set: Partial<QueryHold>): Promise<Stored<QueryHold>> {
    const updated = await this.docs.updateOne({ _id: hold._id, ...expect }, { $set: set as never });
    return updated ?? ((await this.docs.get(hold._id)) as Stored<QueryHold>);
  }
}

function refsOf(hold: Stored<QueryHold>): Record<string, string> {
  return { holdId: hold._id, buyerId: hold.buyerId, ownerId: hold.ownerId, listingId: hold.listingId };
}

/** A replayed post is the same if it would price the same: CPU time differs between runs and prices nothing. */
function sameUsage(a: MeteredUsage, b: MeteredUsage): boolean {
  return a.epsilon === b.epsilon && a.rowsScanned === b.rowsScanned;
}

function describeState(hold: QueryHold): string {
  if (hold.state === "resolving") return hold.resolution?.kind === "post" ? "being posted" : "being voided";
  return hold.state;
}

function rejectionError(hold: Stored<QueryHold>): Error {
  const r = hold.rejection;
  if (r?.code === "INSUFFICIENT_CREDIT") return new InsufficientCredit(r.required, r.available, hold.currency);
  if (r?.code === "PRICE_CHANGED") return new PriceChanged(r.available, r.required);
  return new HoldAlreadyResolved(hold._id, "rejected");
}
