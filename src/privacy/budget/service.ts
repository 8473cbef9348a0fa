/**
 * The privacy budget: pure-ε sequential composition, two caps (a buyer's on a dataset, and the
 * dataset's global one), debited atomically BEFORE any kernel runs and never refunded once data
 * was touched. See ledger.ts for how the debit stays exact without transactions, and
 * answer-cache.ts for how identical queries are answered once.
 *
 * The query engine's order of calls around one query (or `answerOnce`, which does exactly this):
 *
 *   1. claimAnswer(...)   → "cached": return that answer; no ε, no kernel.
 *                         → "claimed": this query computes the answer.
 *   2. debit(...)         → ok (the ε is spent) or BudgetExhausted (nothing spent): releaseClaim.
 *   3. run the kernel, bound contributions, add noise — the released aggregate.
 *   4. storeAnswer(...)   → the answer to release (the first one stored for the key).
 *   5. release it. On any failure after 2, releaseClaim; the ε stays spent.
 */
import { performance } from "node:perf_hooks";
import { z } from "zod";
import type { DocumentStore, JsonValue, Stored } from "../../store/port.ts";
import type { AuditRecorder } from "../../audit-trail.ts";
import type { Logger } from "../../logger.ts";
import { invalidInputFromZod } from "../../errors.ts";
import type { EpsilonSpentLookup } from "../policy/index.ts";
import {
  BUDGET_COLLECTIONS as C,
  buyerAccountId,
  datasetAccountId,
  entryDocId,
  type AnswerClaim,
  type BudgetAccount,
  type BudgetEntry,
  type BudgetOutcome,
  type CapKind,
  type OpenDebit,
  type ReleasedAnswer,
} from "./model.ts";
import { BudgetLedger, DEFAULT_RECOVERY_GRACE_MS, type DebitRequest, type RecoveryReport } from "./ledger.ts";
import { AnswerCache, answerKey, type ClaimOutcome } from "./answer-cache.ts";
import { BudgetExhausted, QueryInProgress } from "./errors.ts";
import { backoffMs, sleep } from "./backoff.ts";
import { microToEpsilon } from "./micro.ts";
import type { BudgetCaps, BudgetDirectory } from "./directory.ts";

export type { DebitRequest, RecoveryReport } from "./ledger.ts";

/** The most ε a cap may hold: 10^6 ε, far above any policy (policies stop at 1000). */
const MAX_MICRO = 1e12;
/** The queries' planner keeps every answer below this (queries/answer-size.ts); a last check here. */
const MAX_ANSWER_BYTES = 12 * 1024 * 1024;

// Ids as the exchange makes them ("acc_…", "ds_…", "ds_…@3"); no "|" or ":" so composed ids stay unambiguous.
const id = z.string().regex(/^[A-Za-z0-9_.@-]{1,64}$/, "must be 1–64 letters, digits, '_', '.', '@' or '-'");
const queryId = z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/, "must be 1–100 letters, digits, '_', '.', ':' or '-'");
const micro = (min: number) => z.number().int("must be a whole number of micro-ε").min(min).max(MAX_MICRO);
const queryHash = z.string().regex(/^[0-9a-f]{64}$/, "must be a lower-case hex SHA-256");

const debitInput = z.object({
  queryId,
  buyerId: id,
  datasetId: id,
  epsilonMicro: micro(1),
  buyerCapMicro: micro(0),
  globalCapMicro: micro(0),
});

const answerKeyInput = z.object({ buyerId: id, datasetVersionId: id, canonicalQueryHash: queryHash });
const claimInput = answerKeyInput.extend({ queryId });
const storeInput = claimInput.extend({ datasetId: id, epsilonMicro: micro(1) });

export interface Debited {
  queryId: string;
  buyerId: string;
  datasetId: string;
  epsilonMicro: number;
  /** Left under the buyer's cap right after this debit. */
  buyerRemainingMicro: number;
  /** Left under the dataset's global cap right after this debit. */
  globalRemainingMicro: number;
  /** True when this call repeated an earlier debit of the same query id (nothing charged now). */
  replayed: boolean;
}

export interface AnswerRequest {
  queryId: string;
  buyerId: string;
  datasetId: string;
  datasetVersionId: string;
  /** Hex SHA-256 of the canonical query IR (see `canonicalQueryHash`). */
  canonicalQueryHash: string;
  epsilonMicro: number;
  buyerCapMicro: number;
  globalCapMicro: number;
}

export interface CachedAnswer {
  answer: JsonValue;
  /** The query that paid for it. */
  queryId: string;
  epsilonMicro: number;
  createdAt: string;
}

export interface Answered {
  answer: JsonValue;
  /** True when the answer came from the cache (no ε spent by this call). */
  cached: boolean;
  /** The debit this call made (or replayed); null when cached. */
  debit: Debited | null;
}

export interface SpentView {
  spentMicro: number;
  debits: number;
}

export interface CapView {
  capMicro: number | null;
  spentMicro: number;
  /** Never negative: a cap lowered below the spend leaves zero. Null when no cap is known. */
  remainingMicro: number | null;
  debits: number;
}

export interface BuyerBudgetView {
  datasetId: string;
  buyer: CapView;
  dataset: CapView;
  perQueryMicro: number | null;
}

export interface PrivacyBudgetServiceDeps {
  audit: AuditRecorder;
  /** Caps, ownership and listings for the read side (GraphQL), from the policy and catalog modules. */
  directory: BudgetDirectory;
  now?: () => Date;
  log?: Logger;
  /** How long a duplicate debit or an identical query waits for the first one (default 10 s). */
  waitMs?: number;
  /** A claim on an answer older than this is taken to be dead and is overtaken (default 2 min). */
  claimTtlMs?: number;
  /** Pending entries younger than this are left to their live driver by recovery (default 60 s). */
  recoveryGraceMs?: number;
}

export class PrivacyBudgetService {
  /** The ledger's steps, for recovery and for tests that stop between them. */
  readonly ledger: BudgetLedger;
  readonly cache: AnswerCache;
  private readonly directory: BudgetDirectory;
  private readonly now: () => Date;
  private readonly log: Logger | undefined;
  private readonly waitMs: number;
  private readonly recoveryGraceMs: number;
  private sweeper: NodeJS.Timeout | null = null;

  private constructor(ledger: BudgetLedger, cache: AnswerCache, deps: PrivacyBudgetServiceDeps) {
    this.ledger = ledger;
    this.cache = cache;
    this.directory = deps.directory;
    this.now = deps.now ?? (() => new Date());
    this.log = deps.log;
    this.waitMs = deps.waitMs ?? 10_000;
    this.recoveryGraceMs = deps.recoveryGraceMs ?? DEFAULT_RECOVERY_GRACE_MS;
  }

  static async open(store: DocumentStore, deps: PrivacyBudgetServiceDeps): Promise<PrivacyBudgetService> {
    const now = deps.now ?? (() => new Date());
    const ledger = new BudgetLedger(
      {
        buyerAccounts: await store.collection<BudgetAccount>(C.buyerAccounts.name, C.buyerAccounts.indexes),
        datasetAccounts: await store.collection<BudgetAccount>(C.datasetAccounts.name, C.datasetAccounts.indexes),
        entries: await store.collection<BudgetEntry>(C.entries.name, C.entries.indexes),
        outcomes: await store.collection<BudgetOutcome>(C.outcomes.name, C.outcomes.indexes),
        open: await store.collection<OpenDebit>(C.open.name, C.open.indexes),
      },
      deps.audit,
      now,
      deps.log,
    );
    const cache = new AnswerCache(
      {
        answers: await store.collection<ReleasedAnswer>(C.answers.name, C.answers.indexes),
        claims: await store.collection<AnswerClaim>(C.claims.name, C.claims.indexes),
      },
      now,
      deps.claimTtlMs ?? 120_000,
    );
    return new PrivacyBudgetService(ledger, cache, { ...deps, now });
  }

  // ── Debit ─────────────────────────────────────────────────────────────────────────────────

  /**
   * Debits ε for one query under both caps, atomically, before anything runs. Returns what is
   * left, or throws BudgetExhausted naming the cap (nothing charged), BudgetDebitConflict (query
   * id reused for a different debit), InvalidInput, or QueryInProgress (the same query id is being
   * debited elsewhere right now). Repeating a query id returns its first outcome.
   */
  async debit(input: DebitRequest): Promise<Debited> {
    const parsed = debitInput.safeParse(input);
    if (!parsed.success) throw invalidInputFromZod(parsed.error, "debit");
    const { entry, fresh } = await this.ledger.begin(parsed.data);
    const outcome = fresh ? await this.ledger.drive(entry, { fresh: true }) : await this.firstOutcome(entry);
    return toDebited(outcome, !fresh);
  }

  /** A repeated query id: the first call's outcome, waited for; driven here once past the grace. */
  private async firstOutcome(entry: Stored<BudgetEntry>): Promise<Stored<BudgetOutcome>> {
    const deadline = performance.now() + this.waitMs;
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.ledger.outcomeOf(entry._id);
      if (outcome) return outcome;
      if (Date.parse(entry.createdAt) <= this.now().getTime() - this.recoveryGraceMs) return this.ledger.drive(entry);
      if (performance.now() > deadline) throw new QueryInProgress("a debit with this query id is in progress; ask again in a few seconds");
      await sleep(backoffMs(attempt));
    }
  }

  /**
   * Finishes what a crash left between the debit's steps (run at start, and callable): pending
   * entries older than the grace period are rolled forward, settled ones tidied. Never refunds a
   * debited entry, so spend is never under-counted.
   */
  recover(options: { graceMs?: number } = {}): Promise<RecoveryReport> {
    return this.ledger.recover({ graceMs: options.graceMs ?? this.recoveryGraceMs });
  }

  /** Runs recovery every `intervalMs` in the background (for entries left by a crashed peer). */
  startSweeping(intervalMs = 60_000): void {
    if (this.sweeper) return;
    this.sweeper = setInterval(() => {
      this.recover().catch((err: unknown) => this.log?.warn({ err }, "privacy budget recovery sweep failed"));
    }, intervalMs);
  }

  stopSweeping(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
  }

  // ── Released answers ──────────────────────────────────────────────────────────────────────

  /** The answer already released to this buyer for this canonical query on this version, if any. */
  async getCachedAnswer(buyerId: string, datasetVersionId: string, canonicalQueryHash: string): Promise<CachedAnswer | null> {
    const parsed = answerKeyInput.safeParse({ buyerId, datasetVersionId, canonicalQueryHash });
    if (!parsed.success) throw invalidInputFromZod(parsed.error, "answer");
    const found = await this.cache.get({ buyerId, datasetVersionId, queryHash: canonicalQueryHash });
    return found ? cachedOf(found) : null;
  }

  /**
   * The cached answer, or the right to compute it. While another query holds the claim on the
   * same key, waits for its answer (up to the wait), then throws QueryInProgress.
   */
  async claimAnswer(
    req: Pick<AnswerRequest, "queryId" | "buyerId" | "datasetVersionId" | "canonicalQueryHash">,
  ): Promise<{ kind: "cached"; cached: CachedAnswer } | { kind: "claimed" }> {
    const parsed = claimInput.safeParse(req);
    if (!parsed.success) throw invalidInputFromZod(parsed.error, "answer");
    const { queryId, buyerId, datasetVersionId, canonicalQueryHash } = parsed.data;
    const outcome: ClaimOutcome = await this.cache.claim({ queryId, buyerId, datasetVersionId, queryHash: canonicalQueryHash }, this.waitMs);
    return outcome.kind === "cached" ? { kind: "cached", cached: cachedOf(outcome.answer) } : { kind: "claimed" };
  }

  /** Gives back a claim whose query will not store an answer (refused, or its run failed). */
  async releaseClaim(req: Pick<AnswerRequest, "queryId" | "buyerId" | "datasetVersionId" | "canonicalQueryHash">): Promise<void> {
    await this.cache.release(
      answerKey({ buyerId: req.buyerId, datasetVersionId: req.datasetVersionId, queryHash: req.canonicalQueryHash }),
      req.queryId,
    );
  }

  /**
   * Stores the released (already noised) answer once per key and returns the answer to release:
   * this one, or the one stored first if another run got there before. Only a query whose debit
   * went through may store an answer.
   */
  async storeAnswer(req: Omit<AnswerRequest, "buyerCapMicro" | "globalCapMicro"> & { answer: JsonValue }): Promise<CachedAnswer> {
    const { answer, ...rest } = req;
    const parsed = storeInput.safeParse(rest);
    if (!parsed.success) throw invalidInputFromZod(parsed.error, "answer");
    const p = parsed.data;
    const outcome = await this.ledger.outcomeOf(entryDocId(p.buyerId, p.queryId));
    if (!outcome || outcome.state !== "debited" || outcome.datasetId !== p.datasetId || outcome.epsilonMicro !== p.epsilonMicro) {
      throw new Error(`query ${p.queryId} has no matching debited budget entry: its answer cannot be cached`);
    }
    if (Buffer.byteLength(JSON.stringify(answer), "utf8") > MAX_ANSWER_BYTES) throw new Error(`answer of query ${p.queryId} is too large to cache`);
    const stored = await this.cache.store({
      buyerId: p.buyerId,
      datasetId: p.datasetId,
      datasetVersionId: p.datasetVersionId,
      queryHash: p.canonicalQueryHash,
      queryId: p.queryId,
      epsilonMicro: p.epsilonMicro,
      answer,
      createdAt: this.now().toISOString(),
    });
    return cachedOf(stored);
  }

  /**
   * The whole protocol around one query: the cached answer if there is one (no ε), else claim,
   * debit, `run` (kernel + noise, returning the released aggregate), store, and return the answer
   * to release. BudgetExhausted and run failures release the claim; ε once debited stays spent.
   */
  async answerOnce(req: AnswerRequest, run: (debit: Debited) => Promise<JsonValue>): Promise<Answered> {
    const claim = await this.claimAnswer(req);
    if (claim.kind === "cached") return { answer: claim.cached.answer, cached: true, debit: null };
    try {
      const debit = await this.debit(req);
      const released = await run(debit);
      const stored = await this.storeAnswer({ ...req, answer: released });
      return { answer: stored.answer, cached: false, debit };
    } catch (e) {
      await this.releaseClaim(req).catch((err: unknown) => this.log?.warn({ err, queryId: req.queryId }, "answer claim not released"));
      throw e;
    }
  }

  // ── Reads ─────────────────────────────────────────────────────────────────────────────────

  /** What a buyer and everyone together have spent on a dataset (in-flight debits included). */
  async spent(ids: { buyerId: string; datasetId: string }): Promise<{ buyer: SpentView; dataset: SpentView }> {
    const [buyer, dataset] = await Promise.all([
      this.ledger.buyerAccounts.get(buyerAccountId(ids.datasetId, ids.buyerId)),
      this.ledger.datasetAccounts.get(datasetAccountId(ids.datasetId)),
    ]);
    return { buyer: spentOf(buyer), dataset: spentOf(dataset) };
  }

  /**
   * A buyer's own budget on a dataset, with the dataset's global one (which also limits them).
   * Caps from `caps`, else from the directory (the current policy); null caps when neither knows.
   */
  async remaining(ids: { buyerId: string; datasetId: string }, caps?: BudgetCaps | null): Promise<BuyerBudgetView> {
    const known = caps ?? (await this.directory.caps(ids.datasetId)) ?? null;
    const spent = await this.spent(ids);
    return {
      datasetId: ids.datasetId,
      buyer: capView(spent.buyer, known?.buyerCapMicro ?? null),
      dataset: capView(spent.dataset, known?.globalCapMicro ?? null),
      perQueryMicro: known?.perQueryMicro ?? null,
    };
  }

  /**
   * The dataset's global budget: for its owner. With `ownerId`, the owner's own spend (contribution
   * profiles, debited like a buyer's) is reported apart and not counted as a buyer.
   */
  async globalRemaining(
    datasetId: string,
    caps?: BudgetCaps | null,
    ownerId?: string,
  ): Promise<CapView & { buyers: number; perBuyerCapMicro: number | null; ownerSpentMicro: number }> {
    const known = caps ?? (await this.directory.caps(datasetId)) ?? null;
    const [account, buyers, owner] = await Promise.all([
      this.ledger.datasetAccounts.get(datasetAccountId(datasetId)),
      this.ledger.buyerAccounts.count(
        ownerId ? { datasetId, spentMicro: { $gt: 0 }, buyerId: { $ne: ownerId } } : { datasetId, spentMicro: { $gt: 0 } },
      ),
      ownerId ? this.ledger.buyerAccounts.findOne({ datasetId, buyerId: ownerId }) : Promise.resolve(null),
    ]);
    return {
      ...capView(spentOf(account), known?.globalCapMicro ?? null),
      buyers,
      perBuyerCapMicro: known?.buyerCapMicro ?? null,
      ownerSpentMicro: owner?.spentMicro ?? 0,
    };
  }

  /**
   * What each buyer has spent on a dataset, largest first (at most `limit`): for its owner, who
   * sees which buyers use up the budget. Buyers who never spent are left out, and so is the
   * owner's own spend (`ownerId`), which globalRemaining reports apart.
   */
  async spentByBuyer(datasetId: string, limit: number, ownerId?: string): Promise<Array<{ buyerId: string } & SpentView>> {
    const filter = ownerId ? { datasetId, spentMicro: { $gt: 0 }, buyerId: { $ne: ownerId } } : { datasetId, spentMicro: { $gt: 0 } };
    const page = await this.ledger.buyerAccounts.find(filter, { sort: [["spentMicro", -1]], limit });
    return page.items.map((a) => ({ buyerId: a.buyerId!, ...spentOf(a) }));
  }

  /**
   * For the policy service: a budget may never be lowered below what was spent. The owner's own
   * spend (contribution profiles) counts against the dataset's budget, not against the per-buyer cap.
   */
  spentLookup(): EpsilonSpentLookup {
    return {
      spent: async (datasetId, ownerId) => {
        const [dataset, top] = await Promise.all([
          this.ledger.datasetAccounts.get(datasetAccountId(datasetId)),
          this.ledger.buyerAccounts.findOne(ownerId ? { datasetId, buyerId: { $ne: ownerId } } : { datasetId }, { sort: [["spentMicro", -1]] }),
        ]);
        return { dataset: microToEpsilon(dataset?.spentMicro ?? 0), maxPerBuyer: microToEpsilon(top?.spentMicro ?? 0) };
      },
    };
  }

  /** The read side's directory (caps, owners, listings). */
  requireDirectory(): BudgetDirectory {
    return this.directory;
  }
}

function toDebited(entry: BudgetOutcome, replayed: boolean): Debited {
  if (entry.state === "refused") {
    const cap: CapKind = entry.refusedBy ?? "BUYER";
    const left = cap === "BUYER" ? entry.buyerRemainingMicro : entry.globalRemainingMicro;
    throw new BudgetExhausted(cap, entry.epsilonMicro, left ?? 0);
  }
  return {
    queryId: entry.queryId,
    buyerId: entry.buyerId,
    datasetId: entry.datasetId,
    epsilonMicro: entry.epsilonMicro,
    buyerRemainingMicro: entry.buyerRemainingMicro ?? 0,
    globalRemainingMicro: entry.globalRemainingMicro ?? 0,
    replayed,
  };
}

function cachedOf(a: Stored<ReleasedAnswer>): CachedAnswer {
  return { answer: a.answer, queryId: a.queryId, epsilonMicro: a.epsilonMicro, createdAt: a.createdAt };
}

function spentOf(account: Stored<BudgetAccount> | null): SpentView {
  return { spentMicro: account?.spentMicro ?? 0, debits: account?.debits ?? 0 };
}

function capView(spent: SpentView, capMicro: number | null): CapView {
  return {
    capMicro,
    spentMicro: spent.spentMicro,
    remainingMicro: capMicro === null ? null : Math.max(0, capMicro - spent.spentMicro),
    debits: spent.debits,
  };
}
