/**
 * An append-only journal of per-account entries, each carrying the account's running totals.
 *
 * Without multi-document transactions, a leg of a transfer is applied by ONE insert:
 *   - `_id` = `<account>#<seq>` serialises each account: an entry is seq n+1 of its account
 *     only if nobody else wrote n+1 first, so the guard (e.g. "available stays ≥ 0") is
 *     checked against the exact previous totals, and a loser re-reads and tries again;
 *   - the unique `leg` (`<transferId>/<leg>`) makes the leg idempotent: a second attempt (a
 *     retry, a recovery run, another process) clashes on it and finds the first outcome.
 * A refused leg is recorded too (kind "reject", `_id` = `reject:<leg>`) under the same unique
 * `leg`, so "applied" and "refused" can never both happen to one leg; a refusal changes no
 * totals and stays out of the account's sequence, so refusals never make others retry.
 * Totals are reproducible from the entries at any time: each entry's `after` is the previous
 * `after` plus its `delta`, and seqs run 1, 2, 3… without gaps (n+1 is only written after n
 * was read), which also lets the latest entry be found by `_id` look-ups alone (a hint per
 * process, then probing forward) instead of a sorted query.
 */
import { randomInt } from "node:crypto";
import { DuplicateKeyError, type Collection, type DocumentStore, type Stored } from "../../store/port.ts";

export type Totals = Record<string, number>;

/** A rule a leg must satisfy against the totals it would produce (or the totals it sees). */
export type LegGuard =
  /** balance − held stays ≥ 0 (buyer credit). */
  | { kind: "available" }
  /** this total stays ≥ 0 (owner payable on payout). */
  | { kind: "nonNegative"; field: string }
  /** the account's last seq is still this one: nothing changed since a quote was made on it. */
  | { kind: "seqIs"; seq: number };

export interface JournalEntry {
  account: string;
  /** Position in the account's sequence, from 1 (0 for refusals, which are outside it). */
  seq: number;
  /** `<transferId>/<legIndex>` (or `…/rev` for an undo): unique, so a leg is decided once. */
  leg: string;
  transferId: string;
  legIndex: number;
  kind: "apply" | "reject" | "reverse";
  delta: Totals;
  /** Totals after this entry (for a refusal: the totals it was refused against). */
  after: Totals;
  /** For "reject": which rule failed. */
  reason: string | null;
  at: string;
}

export interface LegOutcome {
  applied: boolean;
  /** For a refused leg: the rule that failed and the totals it was checked against. */
  reason: string | null;
  seen: Totals;
}

export interface AccountState {
  seq: number;
  totals: Totals;
}

const MAX_ATTEMPTS = 2000;
const MAX_HINTS = 50_000;

export const entryId = (account: string, seq: number) => `${account}#${seq}`;

export class Journal {
  readonly entries: Collection<JournalEntry>;
  private readonly now: () => Date;
  /** The latest entry this process has seen per account: where probing starts. */
  private readonly heads = new Map<string, Stored<JournalEntry>>();

  private constructor(entries: Collection<JournalEntry>, now: () => Date) {
    this.entries = entries;
    this.now = now;
  }

  static async open(store: DocumentStore, name: string, now: () => Date): Promise<Journal> {
    const entries = await store.collection<JournalEntry>(name, [
      { fields: ["leg"], unique: true },
      { fields: ["account", "seq"] },
      { fields: ["transferId"] },
    ]);
    return new Journal(entries, now);
  }

  /** The account's latest totals (zeros and seq 0 for an account with no entries). */
  async state(account: string): Promise<AccountState> {
    const last = await this.latest(account);
    return last ? { seq: last.seq, totals: last.after } : { seq: 0, totals: {} };
  }

  /** Applies leg `legIndex` of `transferId` once, or records its refusal once; returns the outcome. */
  async applyLeg(transferId: string, legIndex: number, account: string, delta: Totals, guard?: LegGuard): Promise<LegOutcome> {
    const leg = `${transferId}/${legIndex}`;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const last = await this.latest(account);
      const seq = last?.seq ?? 0;
      const totals = last?.after ?? {};
      const after = add(totals, delta);
      const reason = guard ? check(guard, seq, after) : null;
      const base = { account, leg, transferId, legIndex, at: this.now().toISOString() };
      const inserted = reason
        ? await this.tryInsert({ _id: `reject:${leg}`, ...base, seq: 0, kind: "reject", delta: {}, after: totals, reason })
        : await this.tryInsert({ _id: entryId(account, seq + 1), ...base, seq: seq + 1, kind: "apply", delta, after, reason: null });
      if (inserted === "ok") return { applied: !reason, reason, seen: totals };
      // The leg exists already (a refusal's `_id` also names its leg): its first outcome stands.
      if (inserted === "leg" || reason) return this.decided(leg);
      await backoff(attempt); // another entry took seq+1 first: read again
    }
    throw new Error(`journal ${this.entries.name}: could not append to ${account} after ${MAX_ATTEMPTS} attempts`);
  }

  /** Undoes an applied leg once (for a transfer refused at a later leg). */
  async reverseLeg(transferId: string, legIndex: number, account: string, delta: Totals): Promise<void> {
    const leg = `${transferId}/${legIndex}/rev`;
    const negated = Object.fromEntries(Object.entries(delta).map(([k, v]) => [k, -v]));
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const last = await this.latest(account);
      const seq = last?.seq ?? 0;
      const inserted = await this.tryInsert({
        _id: entryId(account, seq + 1),
        account,
        seq: seq + 1,
        leg,
        transferId,
        legIndex,
        kind: "reverse",
        delta: negated,
        after: add(last?.after ?? {}, negated),
        reason: null,
        at: this.now().toISOString(),
      });
      if (inserted === "ok" || inserted === "leg") return;
      await backoff(attempt);
    }
    throw new Error(`journal ${this.entries.name}: could not reverse on ${account} after ${MAX_ATTEMPTS} attempts`);
  }

  /** The outcome of a leg known to exist: refused if its refusal is there, else applied. */
  private async decided(leg: string): Promise<LegOutcome> {
    const refused = await this.entries.get(`reject:${leg}`);
    if (refused) return { applied: false, reason: refused.reason, seen: refused.after };
    return { applied: true, reason: null, seen: {} };
  }

  /** The account's latest entry: from this process's hint, probing forward by `_id`. */
  private async latest(account: string): Promise<Stored<JournalEntry> | null> {
    let cur = this.heads.get(account) ?? (await this.search(account));
    for (;;) {
      const next = await this.entries.get(entryId(account, (cur?.seq ?? 0) + 1));
      if (!next) break;
      cur = next;
    }
    if (cur) {
      if (this.heads.size >= MAX_HINTS) this.heads.clear();
      this.heads.set(account, cur);
    }
    return cur;
  }

  /** Finds the latest entry without a hint: doubling, then bisecting, over `_id` look-ups. */
  private async search(account: string): Promise<Stored<JournalEntry> | null> {
    let low = await this.entries.get(entryId(account, 1));
    if (!low) return null;
    let hi = 2;
    for (;;) {
      const d = await this.entries.get(entryId(account, hi));
      if (!d) break;
      low = d;
      hi *= 2;
    }
    while (hi - low.seq > 1) {
      const mid = Math.floor((low.seq + hi) / 2);
      const d = await this.entries.get(entryId(account, mid));
      if (d) low = d;
      else hi = mid;
    }
    return low;
  }

  /** "ok", or which uniqueness stopped it: "leg" (already decided) or "seq" (someone else appended). */
  private async tryInsert(entry: JournalEntry & { _id: string }): Promise<"ok" | "leg" | "seq"> {
    try {
      const stored = await this.entries.insert(entry);
      if (entry.kind !== "reject") this.heads.set(entry.account, stored);
      return "ok";
    } catch (e) {
      if (!(e instanceof DuplicateKeyError)) throw e;
      return e.fields.includes("leg") ? "leg" : "seq";
    }
  }
}

export function add(totals: Totals, delta: Totals): Totals {
  const out: Totals = { ...totals };
  for (const [k, v] of Object.entries(delta)) out[k] = (out[k] ?? 0) + v;
  return out;
}

function check(guard: LegGuard, seq: number, after: Totals): string | null {
  switch (guard.kind) {
    case "available":
      return (after["balance"] ?? 0) - (after["held"] ?? 0) >= 0 ? null : "available";
    case "nonNegative":
      return (after[guard.field] ?? 0) >= 0 ? null : `nonNegative:${guard.field}`;
    case "seqIs":
      return seq === guard.seq ? null : "stale";
  }
}

/** Contention is progress elsewhere; after a few clashes, wait a little so others finish. */
async function backoff(attempt: number): Promise<void> {
  if (attempt < 3) return;
  const ms = Math.min(50, 2 ** Math.min(attempt, 5)) * (0.5 + randomInt(1000) / 1000);
  await new Promise((r) => setTimeout(r, ms));
}
