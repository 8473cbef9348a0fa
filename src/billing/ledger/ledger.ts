/**
 * The ledger: two journals (money, and buyers' monthly usage counters) and the transfers
 * that move through them. Balances are read from each account's latest journal entry and can
 * be recomputed from all entries at any time (`checkIntegrity`).
 */
import type { Collection, DocumentStore, Page, Sort, Stored } from "../../store/port.ts";
import type { MonthToDate } from "../../../pricing/index.ts";
import { Journal, add, entryId, type JournalEntry, type Totals } from "./journal.ts";
import { Transfers, type AuditTransfer, type Transfer } from "./transfers.ts";
import { describeAccount, usageKey } from "./accounts.ts";

export interface Balance {
  /** Posted balance (minor units). */
  balance: number;
  /** Reserved by open holds. */
  held: number;
  /** balance − held: what can be spent now. */
  available: number;
}

export interface MonthState {
  /** The usage journal's seq the counters were read at (quotes are guarded on it). */
  seq: number;
  month: MonthToDate;
}

export interface IntegrityReport {
  ok: boolean;
  problems: string[];
  accounts: number;
  entries: number;
  /** Σ of every money account's balance: 0 when every transfer is settled. */
  sumOfBalances: number;
  pendingTransfers: number;
  transfers: { posted: number; rejected: number; pending: number };
}

export class Ledger {
  readonly money: Journal;
  readonly usage: Journal;
  readonly transfers: Transfers;

  private constructor(money: Journal, usage: Journal, transfers: Transfers) {
    this.money = money;
    this.usage = usage;
    this.transfers = transfers;
  }

  static async open(store: DocumentStore, options: { now: () => Date; audit: AuditTransfer }): Promise<Ledger> {
    const money = await Journal.open(store, "ledger_entries", options.now);
    const usage = await Journal.open(store, "usage_entries", options.now);
    const transfers = await Transfers.open(store, { money, usage }, options.now, options.audit);
    return new Ledger(money, usage, transfers);
  }

  async balance(account: string): Promise<Balance> {
    const { totals } = await this.money.state(account);
    const balance = totals["balance"] ?? 0;
    const held = totals["held"] ?? 0;
    return { balance, held, available: balance - held };
  }

  async monthToDate(buyerId: string, listingId: string, month: string): Promise<MonthState> {
    const { seq, totals } = await this.usage.state(usageKey(buyerId, listingId, month));
    return {
      seq,
      month: { queries: totals["queries"] ?? 0, microEpsilon: totals["microEpsilon"] ?? 0, charged: totals["charged"] ?? 0 },
    };
  }

  /** An account's entries, newest first. */
  statement(account: string, first: number, after?: string | null): Promise<Page<Stored<JournalEntry>>> {
    return this.money.entries.find({ account, kind: { $ne: "reject" } }, { sort: [["seq", -1]], limit: first, ...(after ? { after } : {}) });
  }

  /** Every money account with its balance (for the reconciliation report). */
  async allBalances(): Promise<Array<{ account: string; kind: string; currency: string } & Balance>> {
    const out: Array<{ account: string; kind: string; currency: string } & Balance> = [];
    let after: string | null = null;
    do {
      const page: Page<Stored<{ kind: string; currency: string }>> = await this.transfers.accounts.find(
        {},
        { limit: 100, ...(after ? { after } : {}) },
      );
      for (const a of page.items) out.push({ account: a._id, kind: a.kind, currency: a.currency, ...(await this.balance(a._id)) });
      after = page.nextCursor;
    } while (after);
    return out;
  }

  /**
   * Recomputes every account from its entries and checks the invariants: entries chain
   * (seq 1, 2, 3… and after = before + delta), buyer credit never below zero nor below its
   * holds, every settled transfer's legs all applied (posted) or all undone (rejected), and
   * Σ of all balances = 0 once no transfer is pending.
   */
  async checkIntegrity(): Promise<IntegrityReport> {
    const problems: string[] = [];
    const latest = new Map<string, { seq: number; after: Totals }>();
    const legs = new Map<string, Set<string>>(); // transferId → entry kinds by leg ("0:apply")
    let entries = 0;
    let sumDeltas = 0;
    for await (const e of scan(this.money.entries)) {
      entries++;
      const set = legs.get(e.transferId) ?? new Set<string>();
      set.add(`${e.legIndex}:${e.kind}`);
      legs.set(e.transferId, set);
      if (e.kind === "reject") continue; // outside the account's sequence; changes nothing
      if (e._id !== entryId(e.account, e.seq)) problems.push(`entry ${e._id} is not at ${entryId(e.account, e.seq)}`);
      const prev = latest.get(e.account) ?? { seq: 0, after: {} };
      if (e.seq !== prev.seq + 1) problems.push(`${e.account}: entry seq ${e.seq} follows ${prev.seq}`);
      const expected = add(prev.after, e.delta);
      for (const k of new Set([...Object.keys(expected), ...Object.keys(e.after)])) {
        if ((expected[k] ?? 0) !== (e.after[k] ?? 0)) problems.push(`${e.account}#${e.seq}: ${k} is ${e.after[k]} but entries give ${expected[k]}`);
      }
      const kind = safeKind(e.account);
      if (kind === "buyer_credit") {
        const bal = e.after["balance"] ?? 0;
        const held = e.after["held"] ?? 0;
        if (bal < 0 || held < 0 || bal - held < 0) problems.push(`${e.account}#${e.seq}: buyer credit went negative (balance ${bal}, held ${held})`);
      }
      if (kind === "owner_payable" && (e.after["balance"] ?? 0) < 0) problems.push(`${e.account}#${e.seq}: owner payable went negative`);
      sumDeltas += e.delta["balance"] ?? 0;
      latest.set(e.account, { seq: e.seq, after: e.after });
    }
    let sumOfBalances = 0;
    for (const { after } of latest.values()) sumOfBalances += after["balance"] ?? 0;
    if (sumOfBalances !== sumDeltas) problems.push(`Σ balances ${sumOfBalances} ≠ Σ entry deltas ${sumDeltas}`);

    const counts = { posted: 0, rejected: 0, pending: 0 };
    for await (const t of scan(this.transfers.docs)) {
      counts[t.state]++;
      let legSum = 0;
      const seen = legs.get(t._id) ?? new Set<string>();
      t.legs.forEach((leg, i) => {
        if (leg.journal === "money") legSum += leg.delta["balance"] ?? 0;
        if (leg.journal !== "money" || t.state === "pending") return;
        if (t.state === "posted" && !seen.has(`${i}:apply`)) problems.push(`transfer ${t._id} is posted but leg ${i} is not applied`);
        if (t.state === "rejected" && t.rejection && i < t.rejection.leg && !seen.has(`${i}:reverse`)) {
          problems.push(`transfer ${t._id} is rejected but leg ${i} was not undone`);
        }
        if (t.state === "rejected" && t.rejection && i > t.rejection.leg && seen.has(`${i}:apply`)) {
          problems.push(`transfer ${t._id} is rejected but leg ${i} was applied`);
        }
      });
      if (legSum !== 0) problems.push(`transfer ${t._id} does not balance (${legSum})`);
    }
    if (counts.pending === 0 && sumOfBalances !== 0) problems.push(`Σ of all balances is ${sumOfBalances}, not 0`);
    return {
      ok: problems.length === 0,
      problems,
      accounts: latest.size,
      entries,
      sumOfBalances,
      pendingTransfers: counts.pending,
      transfers: counts,
    };
  }
}

function safeKind(account: string): string | null {
  try {
    return describeAccount(account).kind;
  } catch {
    return null;
  }
}

/** Every document of a collection, in (account, seq) order for journals, by _id otherwise. */
async function* scan<T extends object>(c: Collection<T>): AsyncGenerator<Stored<T>> {
  const sort: Sort = c.name.endsWith("_entries")
    ? [
        ["account", 1],
        ["seq", 1],
      ]
    : [];
  let after: string | null = null;
  do {
    const page: Page<Stored<T>> = await c.find({}, { sort, limit: 500, ...(after ? { after } : {}) });
    yield* page.items;
    after = page.nextCursor;
  } while (after);
}

export type { Transfer };
