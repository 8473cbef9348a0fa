/**
 * The one run path for queries and analyses. Read top to bottom, a run is:
 *
 *   record   the run record (state "started"), before anything has an effect
 *   reserve  hold the quoted price (billing) → "held"; claim the answer key; debit ε → "debited"
 *   compute  the caller's step (kernel or per-unit code, then bounding and noise)
 *   stage    the noised answer and the usage to charge, in the record → "staged" (not readable)
 *   settle   post the hold with the staged usage (idempotent)
 *   log      the audit outbox: `query.executed` and, for a charge, `trade.settled` (idempotent)
 *   durable  one group commit of the store: everything above survives a power loss, not only a
 *            crash (each step's own write is atomic and survives the process dying)
 *   release  store the answer in the answer cache (now readable) → "released"
 *
 * A failure before "staged" compensates: the hold is voided, the claim released, ε stays
 * debited (noise may have been drawn). From "staged" on, a run only goes forward; recovery
 * (`recover`) finishes staged runs and compensates the others once their lease has passed, so
 * after a crash at any point a buyer has either a paid, logged answer or their credit back. No
 * answer is readable before its charge is posted and its events are in the outbox.
 */
import { createHash } from "node:crypto";
import canonicalize from "canonicalize";
import { DuplicateKeyError, type JsonValue, type Stored } from "../store/port.ts";
import type { Logger } from "../logger.ts";
import type { AuditTrail } from "../audit-trail.ts";
import { ACTIONS, auditEvent } from "../audit-actions.ts";
import { InvalidInput } from "../errors.ts";
import type { BillingService, HoldForQueryInput } from "../billing/index.ts";
import { QueryInProgress, type PrivacyBudgetService } from "../privacy/budget/index.ts";
import { NO_CRASHES, type CrashHook, type CrashPoint } from "./crash-points.ts";
import type { RunRecord, RunRecords, StagedResult } from "./run-record.ts";

/** What a caller (query or analysis) hands the run path: who, what, the price, and the compute step. */
export interface RunPlan
  extends Pick<RunRecord, "kind" | "buyerId" | "ownerId" | "listingId" | "datasetId" | "versionId" | "queryHash" | "quoteId" | "epsilonMicro"> {
  runId: string;
  caps: { buyerCapMicro: number; globalCapMicro: number };
  /** The hold to open; null when nothing is charged (no billing, or the quote was a cached answer). */
  hold: Omit<HoldForQueryInput, "idempotencyKey" | "quoteId"> | null;
  /** Computes the released (noised) answer and the usage to charge. Runs after ε is debited. */
  compute(): Promise<StagedResult>;
}

export interface RunOutcome {
  runId: string;
  answer: JsonValue;
  cached: boolean;
  charged: { amount: number; currency: string; platformFee: number } | null;
}

export interface RunPathDeps {
  runs: RunRecords;
  budgets: PrivacyBudgetService;
  billing: BillingService | null;
  audit: AuditTrail;
  /**
   * The store's group commit (`DocumentStore.sync`): called once per run, after the charge and
   * the log events are written and before the answer is stored, so that no answer can be read
   * whose charge or log entry a power loss could still take back.
   */
  durable: () => Promise<void>;
  log?: Logger;
  crash?: CrashHook;
  /** How long a run may go without renewing its lease before recovery takes it over. */
  leaseMs?: number;
  now?: () => Date;
}

const DEFAULT_LEASE_MS = 30_000;

export class RunPath {
  private readonly deps: RunPathDeps;
  private readonly crash: CrashHook;
  private readonly leaseMs: number;
  private readonly now: () => Date;

  constructor(deps: RunPathDeps) {
    this.deps = deps;
    this.crash = deps.crash ?? NO_CRASHES;
    this.leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
    this.now = deps.now ?? (() => new Date());
    // Both events are written to the outbox only once their fact (a staged, posted run) exists.
    deps.audit.drift.registerFactCheck(ACTIONS.queryExecuted, async () => true);
    deps.audit.drift.registerFactCheck(ACTIONS.tradeSettled, async () => true);
  }

  async run(plan: RunPlan): Promise<RunOutcome> {
    const record = await this.record(plan);
    if (record.state !== "started") return this.resume(record);
    const point = (p: CrashPoint) => this.crash(p, plan.kind);
    point("after-record");
    const renew = setInterval(() => {
      this.deps.runs.renew(plan.runId, this.leaseMs).catch(() => undefined);
    }, this.leaseMs / 3);
    try {
      return await this.drive(plan, record, point);
    } finally {
      clearInterval(renew);
    }
  }

  private async drive(plan: RunPlan, record: Stored<RunRecord>, point: (p: CrashPoint) => void): Promise<RunOutcome> {
    const { runs, budgets, billing } = this.deps;
    const answerKey = { queryId: plan.runId, buyerId: plan.buyerId, datasetVersionId: plan.versionId, canonicalQueryHash: plan.queryHash };
    try {
      // reserve: money first (a refusal here costs nothing), then the answer key, then ε.
      if (record.holdId && billing && plan.hold) {
        const hold = await billing.holdForQuery({ ...plan.hold, idempotencyKey: plan.runId, quoteId: plan.quoteId });
        if (hold.state !== "held") throw new Error(`hold ${hold._id} is ${hold.state}, not held`);
      }
      await this.expect(runs.move(plan.runId, ["started"], "held"), plan.runId, "held");
      point("after-hold");
      const claim = await budgets.claimAnswer(answerKey);
      if (claim.kind === "cached") {
        // Asked and answered before: the cached answer, free (the hold is let go).
        if (record.holdId && billing) await billing.voidQuery(record.holdId, "answered from cache");
        await runs.move(plan.runId, ["held"], "released", {
          cached: true,
          staged: { answer: claim.cached.answer, usage: zeroUsage(), event: { ir: null, epsilon: 0, rowsScanned: 0 } },
        });
        return { runId: plan.runId, answer: claim.cached.answer, cached: true, charged: null };
      }
      await budgets.debit({ ...answerKey, datasetId: plan.datasetId, epsilonMicro: plan.epsilonMicro, ...plan.caps });
      await this.expect(runs.move(plan.runId, ["held"], "debited"), plan.runId, "debited");
      point("after-debit");
      const staged = await plan.compute();
      const ready = await this.expect(runs.move(plan.runId, ["debited"], "staged", { staged }), plan.runId, "staged");
      point("after-stage");
      return await this.finish(ready, point);
    } catch (e) {
      const now = await runs.get(plan.runId);
      if (now && (now.state === "started" || now.state === "held" || now.state === "debited")) {
        await this.compensate(now, e instanceof Error ? e.message : String(e)).catch((err: unknown) =>
          this.deps.log?.warn({ err, runId: plan.runId }, "run not compensated yet; recovery will"),
        );
      }
      throw e;
    }
  }

  /** settle → log → release, for a staged run (live, retried or recovered): every step is idempotent. */
  async finish(record: Stored<RunRecord>, point: (p: CrashPoint) => void = () => undefined): Promise<RunOutcome> {
    const { runs, budgets, billing, audit } = this.deps;
    const staged = record.staged;
    if (!staged) throw new Error(`run ${record._id} has nothing staged`);
    let charged = record.charged;
    if (record.holdId && billing) {
      const receipt = await billing.postQuery(record.holdId, staged.usage);
      charged = { amount: receipt.meter.price, currency: receipt.meter.currency, platformFee: receipt.meter.platformFee };
    }
    point("after-post");
    const subject = {
      queryId: record._id,
      datasetId: record.datasetId,
      ownerId: record.ownerId,
      buyerId: record.buyerId,
      listingId: record.listingId,
      versionId: record.versionId,
    };
    const executed = auditEvent("query.executed", {
      eventId: `${ACTIONS.queryExecuted}:${record._id}`,
      actor: record.buyerId,
      subject,
      data: {
        ...staged.event,
        priceMinor: charged?.amount ?? 0,
        currency: charged?.currency ?? "CNY",
        resultDigest: createHash("sha256").update(canonicalize(staged.answer)!).digest("hex"),
      },
    });
    await audit.drift.withEvent(executed, async () => undefined);
    if (charged && charged.amount > 0) {
      const trade = auditEvent("trade.settled", {
        eventId: `${ACTIONS.tradeSettled}:${record._id}`,
        actor: record.buyerId,
        subject: {
          tradeId: record._id,
          datasetId: record.datasetId,
          ownerId: record.ownerId,
          buyerId: record.buyerId,
          listingId: record.listingId,
          queryId: record._id,
        },
        data: {
          kind: record.kind,
          amountMinor: charged.amount,
          currency: charged.currency,
          platformFeeMinor: charged.platformFee,
          runId: record._id,
        },
      });
      await audit.drift.withEvent(trade, async () => undefined);
    }
    point("after-log");
    await this.deps.durable();
    const stored = await budgets.storeAnswer({
      queryId: record._id,
      buyerId: record.buyerId,
      datasetId: record.datasetId,
      datasetVersionId: record.versionId,
      canonicalQueryHash: record.queryHash,
      epsilonMicro: record.epsilonMicro,
      answer: staged.answer,
    });
    await runs.move(record._id, ["staged"], "released", { charged });
    point("after-release");
    return { runId: record._id, answer: stored.answer, cached: false, charged };
  }

  /** Before "staged": let go of the hold and the claim; ε stays debited. */
  async compensate(record: Stored<RunRecord>, reason: string): Promise<void> {
    const { runs, budgets, billing } = this.deps;
    if (record.holdId && billing) await billing.abandonHold(record.holdId, reason.slice(0, 200));
    await budgets.releaseClaim({
      queryId: record._id,
      buyerId: record.buyerId,
      datasetVersionId: record.versionId,
      canonicalQueryHash: record.queryHash,
    });
    await runs.move(record._id, ["started", "held", "debited"], "failed", { failure: reason.slice(0, 500) });
  }

  /** Finishes or compensates every open run whose lease has passed. */
  async recover(): Promise<{ finished: number; compensated: number }> {
    let finished = 0;
    let compensated = 0;
    for await (const record of this.deps.runs.abandoned()) {
      try {
        if (record.state === "staged") {
          await this.finish(record);
          finished++;
        } else {
          await this.compensate(record, "the run stopped before its answer was computed (recovered)");
          compensated++;
        }
      } catch (err) {
        this.deps.log?.warn({ err, runId: record._id }, "run recovery failed; will retry");
      }
    }
    if (finished + compensated > 0) this.deps.log?.info({ finished, compensated }, "runs recovered");
    return { finished, compensated };
  }

  /** Inserts the run record, or returns the existing one for this run id (a retry). */
  private async record(plan: RunPlan): Promise<Stored<RunRecord>> {
    const fingerprint = createHash("sha256")
      .update(
        canonicalize({
          kind: plan.kind,
          listingId: plan.listingId,
          versionId: plan.versionId,
          queryHash: plan.queryHash,
          epsilonMicro: plan.epsilonMicro,
        })!,
      )
      .digest("hex");
    const now = this.now();
    const record: RunRecord = {
      kind: plan.kind,
      buyerId: plan.buyerId,
      ownerId: plan.ownerId,
      listingId: plan.listingId,
      datasetId: plan.datasetId,
      versionId: plan.versionId,
      queryHash: plan.queryHash,
      quoteId: plan.quoteId,
      fingerprint,
      epsilonMicro: plan.epsilonMicro,
      holdId: plan.hold && this.deps.billing ? this.deps.billing.holdIdFor(plan.buyerId, plan.runId) : null,
      state: "started",
      leaseUntil: new Date(now.getTime() + this.leaseMs).toISOString(),
      staged: null,
      cached: false,
      charged: null,
      failure: null,
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
    };
    try {
      return await this.deps.runs.insert(plan.runId, record);
    } catch (e) {
      if (!(e instanceof DuplicateKeyError)) throw e;
      const existing = await this.deps.runs.get(plan.runId);
      if (!existing) throw e;
      if (existing.fingerprint !== fingerprint || existing.buyerId !== plan.buyerId) {
        throw new InvalidInput([{ path: "input.idempotencyKey", message: "this key was used for a different run; use a new key" }]);
      }
      return existing;
    }
  }

  /** A retried run id: its answer if it was released (or can be finished now), else a clear refusal. */
  private async resume(record: Stored<RunRecord>): Promise<RunOutcome> {
    if (record.state === "released") {
      return { runId: record._id, answer: record.staged?.answer ?? null, cached: record.cached, charged: record.charged };
    }
    if (record.state === "staged") return this.finish(record);
    if (record.state === "failed") {
      throw new InvalidInput([
        { path: "input.idempotencyKey", message: "this key belongs to a run that failed and was not charged; retry with a new key" },
      ]);
    }
    if (Date.parse(record.leaseUntil) > this.now().getTime()) throw new QueryInProgress("this run is still in progress; ask again in a few seconds");
    await this.compensate(record, "the run stopped before its answer was computed (retried)");
    throw new InvalidInput([
      { path: "input.idempotencyKey", message: "this key belongs to a run that stopped and was not charged; retry with a new key" },
    ]);
  }

  private async expect(moved: Promise<Stored<RunRecord> | null>, runId: string, to: string): Promise<Stored<RunRecord>> {
    const record = await moved;
    if (!record) throw new Error(`run ${runId} could not move to ${to}: recovery took it over`);
    return record;
  }
}

function zeroUsage(): StagedResult["usage"] {
  return { epsilon: 0, rowsScanned: 0, cpuMs: 0 };
}
