/**
 * The `query.executed` event of an answer that was already released and charged. It goes through
 * the audit outbox (drift.withEvent) with nothing left to write: the intent is stored first, then
 * the event is appended; if the append fails, the buyer still gets the answer they paid for and
 * the sweeper appends the event later — the log never loses it. The fact check can only say yes:
 * an intent of this kind is written after its fact (the released answer) exists.
 */
import type { AuditTrail } from "../audit-trail.ts";
import { ACTIONS, auditEvent } from "../audit-actions.ts";

type ExecutedEvent = Parameters<typeof auditEvent<"query.executed">>[1];

export function registerReleasedFactCheck(audit: AuditTrail): void {
  audit.drift.registerFactCheck(ACTIONS.queryExecuted, async () => true);
}

export async function recordReleased(audit: AuditTrail, event: Omit<ExecutedEvent, "eventId">): Promise<void> {
  const eventId = `${ACTIONS.queryExecuted}:${event.subject.queryId}`;
  await audit.drift.withEvent(auditEvent("query.executed", { ...event, eventId }), async () => undefined);
}
