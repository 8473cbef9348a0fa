/**
 * The budget ledger's debit as a small state machine over single-document writes (no
 * transactions, so it holds on SQLite, MongoDB and FerretDB alike):
 *
 *   1. begin   insert the entry (the request) keyed by (buyer, query id): insert-once, so a
 *              repeated query id finds the first request instead of starting a second one;
 *   2. open    insert the entry's "open debit" document: work is owed on it (recovery's list);
 *   3. charge  the buyer's account: one conditional update
 *                {_id, spentMicro ≤ cap − ε, inflight.<marker> absent} → $inc spentMicro, set marker
 *              so it can neither overshoot the cap nor land twice for the same entry;
 *   4. charge  the dataset's global account the same way;
 *   5. settle  insert the outcome, "debited", or "refused" naming the cap when step 3 or 4 did not
 *              fit. Insert-once: the first driver to settle an entry decides, for good;
 *   6. tidy    clear the entry's markers: a debited entry keeps its charges; a REFUSED entry's
 *              charges are refunded (the buyer charge of step 3 when step 4 refused). Then the
 *              audit event is recorded and the open-debit document deleted.
 *
 * Why this never under-counts: the only decrement is the refund in step 6, and it runs only for
 * an entry whose stored outcome is "refused" — an outcome no one can ever replace, and for which
 * no kernel ever runs (the caller runs only after "debited"). Every charge of a debited entry
 * stays: its markers are cleared without a refund.
 *
 * Crash recovery (`recover`) walks the open debits: an entry with no outcome (older than a grace
 * period) is driven through steps 3–6 again — the same code as the live path. Charges are
 * idempotent by marker, so a step that already landed is not repeated, and a pending entry is
 * ROLLED FORWARD: charged, if the caps still fit, though the query behind it may never run. That
 * over-counts at worst (the safe direction) and gives a client that retries the query id a
 * definite outcome. Several drivers of one entry (a slow live process, a retry, recovery) are
 * safe together: the first outcome stands, the others tidy after it (refunding their own charges
 * on a refused entry). The one cost of a race: a stale driver whose charge lands after a DEBITED
 * entry was tidied leaves that charge counted (an over-count, again the safe direction).
 */
import { createHash } from "node:crypto";
import { DuplicateKeyError, type Collection, type Stored } from "../../store/port.ts";
import type { AuditRecorder } from "../../audit-trail.ts";
import type { Logger } from "../../logger.ts";
import {
  buyerAccountId,
  datasetAccountId,
  entryDocId,
  type BudgetAccount,
  type BudgetEntry,
  type BudgetOutcome,
  type CapKind,
  type OpenDebit,
} from "./model.ts";
import { BudgetDebitConflict } from "./errors.ts";

export const BUDGET_ACTIONS = {
  debited: "privacy.budget_debited",
  refused: "privacy.budget_refused",
} as const;

export interface DebitRequest {
  queryId: string;
  buyerId: string;
  datasetId: string;
  epsilonMicro: number;
  buyerCapMicro: number;
  globalCapMicro: number;
}

export interface ChargeResult {
  charged: boolean;
  /** What is left under this cap after the charge (charged) or now (not charged); never negative. */
  remainingMicro: number;
}

/** Where a driver may be stopped (tests interleave drivers there, as crashes and slow processes would). */
export type DriveStep = "charge buyer" | "charge dataset" | "settle" | "tidy";

export type SettleOutcome = Pick<BudgetOutcome, "state" | "refusedBy" | "buyerRemainingMicro" | "globalRemainingMicro">;

export interface RecoveryReport {
  /** Entries without an outcome, driven to one. */
  resumed: number;
  /** Settled entries whose markers / audit event were still owed. */
  tidied: number;
  /** Entries without an outcome younger than the grace period, left to their live driver. */
  inFlight: number;
}

/** Pending entries younger than this may still have a live driver; recovery leaves them. */
export const DEFAULT_RECOVERY_GRACE_MS = 60_000;

/** The field of `BudgetAccount.inflight` that marks this entry's charge. */
export function markerKey(entryId: string): string {
  return `q${createHash("sha256").update(entryId, "utf8").digest("hex").slice(0, 32)}`;
}

export interface LedgerCollections {
  buyerAccounts: Collection<BudgetAccount>;
  datasetAccounts: Collection<BudgetAccount>;
  entries: Collection<BudgetEntry>;
  outcomes: Collection<BudgetOutcome>;
  open: Collection<OpenDebit>;
}

export class BudgetLedger {
  readonly buyerAccounts: Collection<BudgetAccount>;
  readonly datasetAccounts: Collection<BudgetAccount>;
  readonly entries: Collection<BudgetEntry>;
  readonly outcomes: Collection<BudgetOutcome>;
  readonly open: Collection<OpenDebit>;
  private readonly audit: AuditRecorder;
  private readonly now: () => Date;
  private readonly log: Logger | undefined;

  constructor(cols: LedgerCollections, audit: AuditRecorder, now: () => Date, log: Logger | undefined) {
    this.buyerAccounts = cols.buyerAccounts;
    this.datasetAccounts = cols.datasetAccounts;
    this.entries = cols.entries;
    this.outcomes = cols.outcomes;
    this.open = cols.open;
    this.audit = audit;
    this.now = now;
    this.log = log;
  }

  /** Step 1: the entry for this request, inserted now (`fresh`) or found from an earlier call. */
  async begin(req: DebitRequest): Promise<{ entry: Stored<BudgetEntry>; fresh: boolean }> {
    const id = entryDocId(req.buyerId, req.queryId);
    try {
      const entry = await this.entries.insert({
        _id: id,
        queryId: req.queryId,
        buyerId: req.buyerId,
        datasetId: req.datasetId,
        epsilonMicro: req.epsilonMicro,
        buyerCapMicro: req.buyerCapMicro,
        globalCapMicro: req.globalCapMicro,
        createdAt: this.now().toISOString(),
      });
      return { entry, fresh: true };
    } catch (e) {
      if (!(e instanceof DuplicateKeyError)) throw e;
    }
    const existing = await this.entries.get(id);
    if (!existing) throw new Error(`budget entry ${id} clashed on insert but cannot be read`);
    // The same query id is the same request only if it debits the same ε on the same dataset.
    // (Caps are not part of it: they come from the policy at call time and may have changed.)
    if (existing.datasetId !== req.datasetId || existing.epsilonMicro !== req.epsilonMicro) {
      throw new BudgetDebitConflict(req.queryId);
    }
    return { entry: existing, fresh: false };
  }

  outcomeOf(entryId: string): Promise<Stored<BudgetOutcome> | null> {
    return this.outcomes.get(entryId);
  }

  /**
   * Steps 2–6 from wherever the entry stands; returns its outcome. Tidying is best effort unless
   * `strict` (recovery wants to know): the outcome stands either way and recovery finishes it.
   * `fresh` says the entry was just inserted by this caller (so it has no outcome yet).
   */
  async drive(
    entry: Stored<BudgetEntry>,
    options: { fresh?: boolean; strict?: boolean; pauseBefore?: (step: DriveStep) => Promise<void> } = {},
  ): Promise<Stored<BudgetOutcome>> {
    const pause = options.pauseBefore;
    let outcome = options.fresh ? null : await this.outcomeOf(entry._id);
    // Tidy whenever we drove it (even if another driver settled first: our own charges may have
    // landed after its tidy-up, and are given back on a refused entry), or if work is still owed.
    let owed = outcome === null;
    if (!outcome) {
      await this.markOpen(entry);
      await pause?.("charge buyer");
      const buyer = await this.charge(entry, "BUYER");
      let decided: SettleOutcome;
      if (!buyer.charged) {
        decided = { state: "refused", refusedBy: "BUYER", buyerRemainingMicro: buyer.remainingMicro, globalRemainingMicro: null };
      } else {
        await pause?.("charge dataset");
        const global = await this.charge(entry, "DATASET");
        decided = global.charged
          ? { state: "debited", refusedBy: null, buyerRemainingMicro: buyer.remainingMicro, globalRemainingMicro: global.remainingMicro }
          : { state: "refused", refusedBy: "DATASET", buyerRemainingMicro: null, globalRemainingMicro: global.remainingMicro };
      }
      await pause?.("settle");
      outcome = await this.settle(entry, decided);
    } else {
      owed = (await this.open.get(entry._id)) !== null;
    }
    if (owed) {
      await pause?.("tidy");
      try {
        await this.tidy(entry, outcome);
      } catch (err) {
        if (options.strict) throw err;
        this.log?.warn({ err, entryId: entry._id }, "budget entry tidy-up left for recovery");
      }
    }
    return outcome;
  }

  /** Step 2: work is owed on this entry until it is tidied (a concurrent driver may have marked it). */
  async markOpen(entry: Stored<BudgetEntry>): Promise<void> {
    try {
      await this.open.insert({ _id: entry._id, buyerId: entry.buyerId, datasetId: entry.datasetId, createdAt: this.now().toISOString() });
    } catch (e) {
      if (!(e instanceof DuplicateKeyError)) throw e;
    }
  }

  /** Steps 3 and 4: charge one account for the entry, unless its cap would be passed. */
  async charge(entry: Stored<BudgetEntry>, cap: CapKind): Promise<ChargeResult> {
    const { accounts, id, capMicro } = this.accountOf(entry, cap);
    const key = markerKey(entry._id);
    const marker = `inflight.${key}`;
    const amount = entry.epsilonMicro;
    for (let attempt = 0; attempt < 20; attempt++) {
      const updated = await accounts.updateOne(
        { _id: id, spentMicro: { $lte: capMicro - amount }, [marker]: { $exists: false } },
        { $inc: { spentMicro: amount, debits: 1 }, $set: { [marker]: amount, updatedAt: this.now().toISOString() } },
      );
      if (updated) return { charged: true, remainingMicro: Math.max(0, capMicro - updated.spentMicro) };
      const current = await accounts.get(id);
      if (!current) {
        await this.openAccount(accounts, id, cap, entry);
        continue;
      }
      const remainingMicro = Math.max(0, capMicro - current.spentMicro);
      // Already charged for this entry (by an earlier driver of it): not again.
      if (current.inflight?.[key] !== undefined) return { charged: true, remainingMicro };
      // It fits now (a refund landed in between): try again; otherwise the cap refuses it.
      if (current.spentMicro + amount <= capMicro) continue;
      return { charged: false, remainingMicro };
    }
    throw new Error(`budget account ${id} kept changing under the debit of ${entry._id}`);
  }

  /** Step 5: the first outcome inserted for an entry stands; a later driver gets that one. */
  async settle(entry: Stored<BudgetEntry>, decided: SettleOutcome): Promise<Stored<BudgetOutcome>> {
    try {
      return await this.outcomes.insert({
        _id: entry._id,
        queryId: entry.queryId,
        buyerId: entry.buyerId,
        datasetId: entry.datasetId,
        epsilonMicro: entry.epsilonMicro,
        ...decided,
        settledAt: this.now().toISOString(),
      });
    } catch (e) {
      if (!(e instanceof DuplicateKeyError)) throw e;
    }
    const first = await this.outcomes.get(entry._id);
    if (!first) throw new Error(`budget outcome ${entry._id} clashed on insert but cannot be read`);
    return first;
  }

  /** Step 6: clear (debited) or refund (refused) the entry's charges, record its audit event, close it. */
  async tidy(entry: Stored<BudgetEntry>, outcome: BudgetOutcome): Promise<void> {
    const key = markerKey(entry._id);
    const marker = `inflight.${key}`;
    for (const cap of ["BUYER", "DATASET"] as const) {
      const { accounts, id } = this.accountOf(entry, cap);
      // A plain read first: most refusals never charged, and an update is dearer (a lease on FerretDB).
      if ((await accounts.get(id))?.inflight?.[key] === undefined) continue;
      if (outcome.state === "debited") {
        // Unconditional by id (idempotent): the charge stays, only its marker goes.
        await accounts.updateOne({ _id: id }, { $unset: [marker] });
      } else {
        // Refused: nothing ran, so a charge that landed for it is given back (once: the marker goes with it).
        await accounts.updateOne(
          { _id: id, [marker]: entry.epsilonMicro },
          { $inc: { spentMicro: -entry.epsilonMicro, debits: -1 }, $unset: [marker], $set: { updatedAt: this.now().toISOString() } },
        );
      }
    }
    const action = outcome.state === "debited" ? BUDGET_ACTIONS.debited : BUDGET_ACTIONS.refused;
    // Idempotent by event id: a second tidy of the same entry returns the first event.
    await this.audit.record({
      actor: entry.buyerId,
      action,
      subject: { datasetId: entry.datasetId, buyerId: entry.buyerId },
      data: {
        epsilonMicro: entry.epsilonMicro,
        queryId: entry.queryId,
        ...(outcome.refusedBy ? { cap: outcome.refusedBy } : {}),
      },
      eventId: `${action}:${entry.buyerId}:${entry.queryId}`,
    });
    await this.open.delete(entry._id);
  }

  /**
   * Finishes what crashes left, from the open debits: entries without an outcome older than
   * `graceMs` are driven to one (rolled forward); settled ones are tidied.
   */
  async recover(options: { graceMs?: number } = {}): Promise<RecoveryReport> {
    const cutoff = this.now().getTime() - (options.graceMs ?? DEFAULT_RECOVERY_GRACE_MS);
    const report: RecoveryReport = { resumed: 0, tidied: 0, inFlight: 0 };
    let after: string | null = null;
    do {
      const page: { items: Stored<OpenDebit>[]; nextCursor: string | null } = await this.open.find(
        {},
        { sort: [["createdAt", 1]], limit: 200, ...(after ? { after } : {}) },
      );
      for (const open of page.items) {
        const entry = await this.entries.get(open._id);
        if (!entry) {
          await this.open.delete(open._id); // cannot happen (the entry is written first); nothing owed
          continue;
        }
        const outcome = await this.outcomeOf(entry._id);
        if (outcome) {
          await this.tidy(entry, outcome);
          report.tidied++;
        } else if (Date.parse(open.createdAt) > cutoff) {
          report.inFlight++;
        } else {
          await this.drive(entry, { strict: true });
          report.resumed++;
        }
      }
      after = page.nextCursor;
    } while (after);
    if (report.resumed + report.tidied > 0) this.log?.info(report, "privacy budget ledger recovered");
    return report;
  }

  accountOf(entry: BudgetEntry, cap: CapKind): { accounts: Collection<BudgetAccount>; id: string; capMicro: number } {
    return cap === "BUYER"
      ? { accounts: this.buyerAccounts, id: buyerAccountId(entry.datasetId, entry.buyerId), capMicro: entry.buyerCapMicro }
      : { accounts: this.datasetAccounts, id: datasetAccountId(entry.datasetId), capMicro: entry.globalCapMicro };
  }

  /** Creates an account at zero spend (a concurrent creator may win: fine). */
  private async openAccount(accounts: Collection<BudgetAccount>, id: string, cap: CapKind, entry: BudgetEntry): Promise<void> {
    const at = this.now().toISOString();
    try {
      await accounts.insert({
        _id: id,
        kind: cap === "BUYER" ? "buyer" : "dataset",
        datasetId: entry.datasetId,
        buyerId: cap === "BUYER" ? entry.buyerId : null,
        spentMicro: 0,
        debits: 0,
        inflight: {},
        createdAt: at,
        updatedAt: at,
      });
    } catch (e) {
      if (!(e instanceof DuplicateKeyError)) throw e;
    }
  }
}
