/**
 * Metering: one usage record per query run (rows scanned, CPU ms, ε, price), written when its
 * hold is posted. Its `_id` and unique `holdId` derive from the hold, so a retried run, a
 * replayed post or a recovery pass cannot meter a query twice. The record is the buyer's receipt.
 */
import { DuplicateKeyError, type Collection, type DocumentStore, type Filter, type Page, type Stored } from "../store/port.ts";
import { derivedId } from "./keys.ts";
import { COLLECTIONS, type HoldResolution, type MeterRecord, type QueryHold } from "./model.ts";

export interface MeterTotals {
  queries: number;
  price: number;
  platformFee: number;
  ownerShare: number;
  rowsScanned: number;
  microEpsilon: number;
}

export class Metering {
  readonly records: Collection<MeterRecord>;
  private readonly now: () => Date;

  private constructor(records: Collection<MeterRecord>, now: () => Date) {
    this.records = records;
    this.now = now;
  }

  static async open(store: DocumentStore, now: () => Date): Promise<Metering> {
    return new Metering(await store.collection<MeterRecord>(COLLECTIONS.meter.name, COLLECTIONS.meter.indexes), now);
  }

  /** Writes the usage record of a posted hold once; returns the record (the first one on replays). */
  async record(hold: Stored<QueryHold>, r: Extract<HoldResolution, { kind: "post" }>, transferId: string): Promise<Stored<MeterRecord>> {
    const id = derivedId("mtr", hold._id);
    try {
      return await this.records.insert({
        _id: id,
        holdId: hold._id,
        buyerId: hold.buyerId,
        listingId: hold.listingId,
        ownerId: hold.ownerId,
        quoteId: hold.quoteId,
        currency: hold.currency,
        month: hold.month,
        rowsScanned: r.usage.rowsScanned,
        cpuMs: r.usage.cpuMs,
        epsilon: r.usage.epsilon,
        microEpsilon: r.rated.microEpsilon,
        quoted: hold.amount,
        price: r.charged,
        platformFee: r.platformFee,
        ownerShare: r.ownerShare,
        transferId,
        createdAt: this.now().toISOString(),
      });
    } catch (e) {
      if (!(e instanceof DuplicateKeyError)) throw e;
      const existing = (await this.records.get(id)) ?? (await this.records.findOne({ holdId: hold._id }));
      if (!existing) throw e;
      return existing;
    }
  }

  forHold(holdId: string): Promise<Stored<MeterRecord> | null> {
    return this.records.findOne({ holdId });
  }

  /** A buyer's receipts (or an owner's sales), newest first. */
  list(filter: { buyerId: string } | { ownerId: string }, first: number, after?: string | null): Promise<Page<Stored<MeterRecord>>> {
    return this.records.find(filter as Filter, { sort: [["createdAt", -1]], limit: first, ...(after ? { after } : {}) });
  }

  /** Totals over every record matching the filter (a scan: for reports, not hot paths). */
  async totals(filter: Filter = {}): Promise<MeterTotals> {
    const t: MeterTotals = { queries: 0, price: 0, platformFee: 0, ownerShare: 0, rowsScanned: 0, microEpsilon: 0 };
    let after: string | null = null;
    do {
      const page: Page<Stored<MeterRecord>> = await this.records.find(filter, { limit: 500, ...(after ? { after } : {}) });
      for (const r of page.items) {
        t.queries++;
        t.price += r.price;
        t.platformFee += r.platformFee;
        t.ownerShare += r.ownerShare;
        t.rowsScanned += r.rowsScanned;
        t.microEpsilon += r.microEpsilon;
      }
      after = page.nextCursor;
    } while (after);
    return t;
  }
}
