/**
 * Ledger transfers: an intent document, then its legs applied one by one through the journals.
 *
 * A transfer is inserted first (state "pending", `_id` derived from its idempotency key), so
 * the same key can never make a second transfer: the same content returns the first result,
 * different content is an IdempotencyConflict. Then `drive` applies each leg (idempotent by
 * leg id) and marks the transfer "posted" — or, when a guarded leg is refused, reverses the
 * legs before it and marks it "rejected". Guarded legs come first, so a refusal never has to
 * undo money that reached an unguarded account. Driving is safe to repeat and to run
 * concurrently from several processes; recovery simply drives every pending transfer.
 */
import { DuplicateKeyError, type Collection, type DocumentStore, type Filter, type JsonValue, type Page, type Stored } from "../../store/port.ts";
import { IdempotencyConflict } from "../errors.ts";
import { derivedId, fingerprint } from "../keys.ts";
import type { Journal, LegGuard, Totals } from "./journal.ts";
import { describeAccount, type LedgerAccount } from "./accounts.ts";

export const TRANSFER_KINDS = ["topup", "grant", "hold", "capture", "release", "payout", "payout_reversal", "subscription", "refund"] as const;
export type TransferKind = (typeof TRANSFER_KINDS)[number];

export interface TransferLeg {
  /** "money" legs move balances (they sum to zero); "usage" legs count a buyer's month. */
  journal: "money" | "usage";
  account: string;
  delta: Totals;
  guard?: LegGuard;
}

export interface Transfer {
  /** The scoped idempotency key this transfer was made for. */
  key: string;
  /** Fingerprint of the content; the same key with another fingerprint is a conflict. */
  fingerprint: string;
  kind: TransferKind;
  currency: string;
  legs: TransferLeg[];
  /** Money accounts touched, for `$contains` look-ups (statements). */
  accounts: string[];
  state: "pending" | "posted" | "rejected";
  rejection: { leg: number; reason: string; seen: Totals } | null;
  /** Ids this transfer is about: buyerId, ownerId, listingId, holdId, payoutId, topUpId… */
  refs: Record<string, string>;
  /** Whether the audit log has this transfer's outcome (recovery records it if not). */
  audited: boolean;
  createdAt: string;
  settledAt: string | null;
}

export interface TransferSpec {
  key: string;
  kind: TransferKind;
  currency: string;
  legs: TransferLeg[];
  refs?: Record<string, string>;
}

export type AuditTransfer = (t: Stored<Transfer>) => Promise<void>;

export class Transfers {
  readonly docs: Collection<Transfer>;
  readonly accounts: Collection<LedgerAccount>;
  private readonly journals: Record<TransferLeg["journal"], Journal>;
  private readonly now: () => Date;
  private readonly audit: AuditTransfer;
  /** Account keys known to be registered (registration is insert-once; this saves a read per leg). */
  private readonly known = new Set<string>();
  /** Test hook: throws between steps to simulate a crash ("after-insert", "after-leg-N"). */
  crashAt: string | null = null;

  private constructor(
    docs: Collection<Transfer>,
    accounts: Collection<LedgerAccount>,
    journals: Record<TransferLeg["journal"], Journal>,
    now: () => Date,
    audit: AuditTransfer,
  ) {
    this.docs = docs;
    this.accounts = accounts;
    this.journals = journals;
    this.now = now;
    this.audit = audit;
  }

  static async open(
    store: DocumentStore,
    journals: Record<TransferLeg["journal"], Journal>,
    now: () => Date,
    audit: AuditTransfer,
  ): Promise<Transfers> {
    const docs = await store.collection<Transfer>("ledger_transfers", [
      { fields: ["state", "createdAt"] },
      { fields: ["kind", "createdAt"] },
      { fields: ["createdAt"] },
    ]);
    const accounts = await store.collection<LedgerAccount>("ledger_accounts", [{ fields: ["kind", "currency"] }]);
    return new Transfers(docs, accounts, journals, now, audit);
  }

  static idFor(key: string): string {
    return derivedId("trf", key);
  }

  /**
   * Records and drives a transfer. Returns it posted or rejected (a rejection is an outcome,
   * not an exception: callers turn it into their own error). Replays return the first outcome.
   */
  async execute(spec: TransferSpec): Promise<Stored<Transfer>> {
    const t = await this.record(spec);
    return t.state === "pending" ? this.drive(t) : t;
  }

  /** Inserts the transfer (or finds the one made for the same key). */
  async record(spec: TransferSpec): Promise<Stored<Transfer>> {
    assertBalanced(spec);
    const content = { kind: spec.kind, currency: spec.currency, legs: spec.legs, refs: spec.refs ?? {} };
    const fp = fingerprint(content as unknown as JsonValue);
    const id = Transfers.idFor(spec.key);
    const moneyAccounts = [...new Set(spec.legs.filter((l) => l.journal === "money").map((l) => l.account))];
    await this.registerAccounts(moneyAccounts);
    try {
      const t = await this.docs.insert({
        _id: id,
        key: spec.key,
        fingerprint: fp,
        ...content,
        accounts: moneyAccounts,
        state: "pending",
        rejection: null,
        audited: false,
        createdAt: this.now().toISOString(),
        settledAt: null,
      });
      this.maybeCrash("after-insert");
      return t;
    } catch (e) {
      if (!(e instanceof DuplicateKeyError)) throw e;
      const existing = await this.docs.get(id);
      if (!existing) throw e;
      if (existing.key !== spec.key || existing.fingerprint !== fp) throw new IdempotencyConflict(spec.key);
      return existing;
    }
  }

  /** Applies a pending transfer's legs and settles it. Idempotent; safe to run concurrently. */
  async drive(t: Stored<Transfer>): Promise<Stored<Transfer>> {
    if (t.state === "pending") {
      let rejection: Transfer["rejection"] = null;
      for (let i = 0; i < t.legs.length; i++) {
        const leg = t.legs[i]!;
        const outcome = await this.journals[leg.journal].applyLeg(t._id, i, leg.account, leg.delta, leg.guard);
        if (!outcome.applied) {
          rejection = { leg: i, reason: outcome.reason ?? "refused", seen: outcome.seen };
          for (let j = i - 1; j >= 0; j--) {
            const back = t.legs[j]!;
            await this.journals[back.journal].reverseLeg(t._id, j, back.account, back.delta);
          }
          break;
        }
        this.maybeCrash(`after-leg-${i}`);
      }
      // Every leg is decided now, so the outcome is a fact: log it (idempotent by event id),
      // then settle and mark it logged in one write.
      const state = rejection ? "rejected" : "posted";
      await this.audit({ ...t, state, rejection });
      const settled = await this.docs.updateOne(
        { _id: t._id, state: "pending" },
        { $set: { state, rejection, settledAt: this.now().toISOString(), audited: true } },
      );
      t = settled ?? ((await this.docs.get(t._id)) as Stored<Transfer>);
    }
    if (!t.audited) {
      await this.audit(t);
      t = (await this.docs.updateOne({ _id: t._id }, { $set: { audited: true } })) ?? t;
    }
    return t;
  }

  get(id: string): Promise<Stored<Transfer> | null> {
    return this.docs.get(id);
  }

  byKey(key: string): Promise<Stored<Transfer> | null> {
    return this.docs.get(Transfers.idFor(key));
  }

  /** Drives every transfer still pending, or posted/rejected but not yet audited. */
  async recover(): Promise<{ driven: number }> {
    let driven = 0;
    for (const filter of [{ state: "pending" }, { audited: false }] as Filter[]) {
      let after: string | null = null;
      do {
        const page: Page<Stored<Transfer>> = await this.docs.find(filter, { sort: [["createdAt", 1]], limit: 100, ...(after ? { after } : {}) });
        for (const t of page.items) {
          await this.drive(t);
          driven++;
        }
        after = page.nextCursor;
      } while (after);
    }
    return { driven };
  }

  private async registerAccounts(keys: string[]): Promise<void> {
    for (const key of keys) {
      if (this.known.has(key) || (await this.accounts.get(key))) {
        this.known.add(key);
        continue;
      }
      try {
        await this.accounts.insert({ _id: key, ...describeAccount(key), createdAt: this.now().toISOString() });
      } catch (e) {
        if (!(e instanceof DuplicateKeyError)) throw e;
      }
      if (this.known.size >= 100_000) this.known.clear();
      this.known.add(key);
    }
  }

  private maybeCrash(point: string): void {
    if (this.crashAt === point) throw new SimulatedCrash(point);
  }
}

/** Thrown by the crash-injection hook in tests. */
export class SimulatedCrash extends Error {
  constructor(point: string) {
    super(`simulated crash at ${point}`);
    this.name = "SimulatedCrash";
  }
}

function assertBalanced(spec: TransferSpec): void {
  let sum = 0;
  let sawUnguarded = false;
  for (const leg of spec.legs) {
    for (const v of Object.values(leg.delta)) {
      if (!Number.isSafeInteger(v)) throw new Error(`transfer ${spec.key}: amounts must be safe integers`);
    }
    if (leg.journal === "money") sum += leg.delta["balance"] ?? 0;
    if (leg.guard && sawUnguarded) throw new Error(`transfer ${spec.key}: guarded legs must come before unguarded ones`);
    if (!leg.guard) sawUnguarded = true;
  }
  if (sum !== 0) throw new Error(`transfer ${spec.key} does not balance: its money legs sum to ${sum}`);
}
