/**
 * Keeping a fact and its audit event together without transactions (an outbox of intents).
 *
 *   1. withEvent() first stores the event as an *intent* under its deterministic event id;
 *   2. then runs the module's write (the fact);
 *   3. then records the event (idempotent: recording an event id twice returns the first entry)
 *      and deletes the intent.
 *
 * A crash after 1 leaves an intent. repair() (run by the server at start, and every minute)
 * asks the owning module's fact check whether the fact exists: if it does, the event is recorded
 * (a replay is harmless, the id makes it idempotent); if it does not and the intent is older than
 * the grace period (so it is no longer in flight in another process), the intent is dropped: the
 * fact never happened, so no event is owed. Either way fact and log end up agreeing.
 */
import type { Collection, Stored } from "../store/port.ts";
import type { Logger } from "../logger.ts";
import type { AuditEventInput, AuditRecorder, AuditedWrites, FactCheck, PendingEvent } from "../audit-trail.ts";
import type { AuditIntentDoc } from "./model.ts";
import { DuplicateKeyError } from "../store/port.ts";
import { canonicalJson } from "./canonical.ts";

export interface RepairReport {
  /** Events recorded because their fact exists. */
  recorded: number;
  /** Intents dropped because their fact never happened. */
  abandoned: number;
  /** Intents left for later (too young to judge, or no fact check registered). */
  pending: number;
}

export const DEFAULT_GRACE_MS = 5 * 60_000;

export class DriftGuard implements AuditedWrites {
  private readonly intents: Collection<AuditIntentDoc>;
  private readonly recorder: AuditRecorder;
  private readonly now: () => Date;
  private readonly log: Logger | undefined;
  private readonly checks = new Map<string, FactCheck>();
  private sweeper: NodeJS.Timeout | null = null;

  constructor(intents: Collection<AuditIntentDoc>, recorder: AuditRecorder, now: () => Date, log: Logger | undefined) {
    this.intents = intents;
    this.recorder = recorder;
    this.now = now;
    this.log = log;
  }

  registerFactCheck(action: string, check: FactCheck): void {
    this.checks.set(action, check);
  }

  async withEvent<T>(event: AuditEventInput & { eventId: string }, write: () => Promise<T>): Promise<T> {
    const check = this.checks.get(event.action);
    if (!check) throw new Error(`no fact check registered for audit action ${event.action}: call registerFactCheck first`);
    const intent: AuditIntentDoc = {
      actor: event.actor,
      action: event.action,
      subject: { ...event.subject },
      data: { ...(event.data ?? {}) },
      createdAt: this.now().toISOString(),
    };
    try {
      await this.intents.insert({ _id: event.eventId, ...intent });
    } catch (e) {
      if (!(e instanceof DuplicateKeyError)) throw e;
      // The same operation is already pending (a retry): fine if it is the same event.
      const pending = await this.intents.get(event.eventId);
      if (pending && contentOf(pending) !== contentOf(intent)) throw new Error(`audit event ${event.eventId} is pending with different content`);
    }
    let result: T;
    try {
      result = await write();
    } catch (e) {
      // The write failed; the fact check says whether anything landed regardless.
      await this.settle(toPending(event.eventId, intent), check, 0).catch((err: unknown) =>
        this.log?.warn({ err, eventId: event.eventId }, "audit intent left for repair"),
      );
      throw e;
    }
    try {
      await this.recorder.record(event);
      await this.intents.delete(event.eventId);
    } catch (err) {
      // The fact stands; its event is still owed and the intent says so: repair records it.
      this.log?.error({ err, eventId: event.eventId, action: event.action }, "audit event not recorded yet; repair will record it");
    }
    return result;
  }

  /**
   * Settles every pending intent: records owed events, drops intents whose fact never happened
   * (once older than `graceMs`), leaves the rest. Safe to run concurrently with live writes.
   */
  async repair(options: { graceMs?: number } = {}): Promise<RepairReport> {
    const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
    const report: RepairReport = { recorded: 0, abandoned: 0, pending: 0 };
    let after: string | null = null;
    do {
      const page: { items: Stored<AuditIntentDoc>[]; nextCursor: string | null } = await this.intents.find(
        {},
        { sort: [["createdAt", 1]], limit: 200, ...(after ? { after } : {}) },
      );
      for (const doc of page.items) {
        const check = this.checks.get(doc.action);
        if (!check) {
          report.pending++;
          this.log?.warn({ eventId: doc._id, action: doc.action }, "pending audit intent has no fact check registered");
          continue;
        }
        report[await this.settle(toPending(doc._id, doc), check, graceMs)]++;
      }
      after = page.nextCursor;
    } while (after);
    if (report.recorded + report.abandoned > 0) this.log?.info(report, "audit drift repaired");
    return report;
  }

  private async settle(event: PendingEvent, check: FactCheck, graceMs: number): Promise<keyof RepairReport> {
    if (await check(event)) {
      const { createdAt: _created, ...input } = event;
      await this.recorder.record(input);
      await this.intents.delete(event.eventId);
      return "recorded";
    }
    if (this.now().getTime() - Date.parse(event.createdAt) >= graceMs) {
      await this.intents.delete(event.eventId);
      return "abandoned";
    }
    return "pending";
  }

  /** Repairs every `intervalMs` in the background (for intents left by a crashed peer process). */
  startSweeping(intervalMs = 60_000): void {
    if (this.sweeper) return;
    this.sweeper = setInterval(() => {
      this.repair().catch((err: unknown) => this.log?.warn({ err }, "audit drift sweep failed"));
    }, intervalMs);
  }

  stopSweeping(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
  }
}

function toPending(eventId: string, doc: AuditIntentDoc): PendingEvent {
  return { eventId, actor: doc.actor, action: doc.action, subject: doc.subject, data: doc.data, createdAt: doc.createdAt };
}

function contentOf(doc: AuditIntentDoc): string {
  return canonicalJson({ actor: doc.actor, action: doc.action, subject: doc.subject, data: doc.data });
}
