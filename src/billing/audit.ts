/**
 * What billing writes into the audit log: posted ledger transfers, Stripe events and payouts.
 * Event ids are deterministic (derived from ledger / event ids), so recording again after a
 * crash returns the first entry. Only ids, amounts and hashes: never emails or card data.
 */
import { createHash } from "node:crypto";
import type { AuditRecorder } from "../audit-trail.ts";
import { ACTIONS, SYSTEM_ACTOR, auditEvent, type TradeKind } from "../audit-actions.ts";
import type { Stored } from "../store/port.ts";
import type { Transfer } from "./ledger/transfers.ts";
import type { Payout } from "./model.ts";

export class BillingAudit {
  private readonly recorder: AuditRecorder;

  constructor(recorder: AuditRecorder) {
    this.recorder = recorder;
  }

  /** A posted transfer that moved money. Rejected transfers moved nothing and are not logged. */
  async transfer(t: Stored<Transfer>): Promise<void> {
    if (t.state !== "posted") return;
    const money = t.legs.filter((l) => l.journal === "money");
    let debit: { account: string; amount: number } | null = null;
    let credit: { account: string; amount: number } | null = null;
    let moved = 0;
    for (const leg of money) {
      const b = leg.delta["balance"] ?? 0;
      if (b > 0) moved += b;
      if (b < 0 && (!debit || b < debit.amount)) debit = { account: leg.account, amount: b };
      if (b > 0 && (!credit || b > credit.amount)) credit = { account: leg.account, amount: b };
    }
    // Holds and releases only reserve or free credit (no balance moves): the capture or the
    // void that ends them is what the log needs. Usage counters alone involve no money at all.
    if (moved === 0) return;
    // Subscriptions, refunds and payouts are trades too (queries and analyses log theirs on the run path).
    const trade = tradeOf(t);
    await this.recorder.record(
      auditEvent(ACTIONS.ledgerTransferPosted, {
        actor: SYSTEM_ACTOR,
        eventId: `ledger.transfer_posted:${t._id}`,
        subject: {
          transferId: t._id,
          ...(debit ? { debitAccountId: debit.account } : {}),
          ...(credit ? { creditAccountId: credit.account } : {}),
          ...(t.refs["holdId"] ? { holdId: t.refs["holdId"] } : {}),
        },
        data: { kind: t.kind, amountMinor: moved, currency: t.currency, idempotencyKeyHash: sha256(t.key) },
      }),
    );
    if (trade) await this.recorder.record(trade);
  }

  async stripeEvent(
    eventId: string,
    type: string,
    accountId: string | null,
    amount: { amountMinor: number; currency: string } | null,
  ): Promise<void> {
    await this.recorder.record(
      auditEvent(ACTIONS.stripeEventReceived, {
        actor: SYSTEM_ACTOR,
        eventId: `stripe.event_received:${eventId}`,
        subject: { stripeEventId: eventId, ...(accountId ? { accountId } : {}) },
        data: { type, ...(amount ?? {}) },
      }),
    );
  }

  async payoutSent(p: Stored<Payout>): Promise<void> {
    await this.recorder.record(
      auditEvent(ACTIONS.payoutSent, {
        actor: SYSTEM_ACTOR,
        eventId: `payout.sent:${p._id}`,
        subject: { payoutId: p._id, ownerId: p.ownerId, transferId: p.transferId },
        data: { amountMinor: p.amount, currency: p.currency, rail: p.rail },
      }),
    );
  }
}

const TRADE_TRANSFERS: Partial<Record<Transfer["kind"], TradeKind>> = {
  subscription: "subscription",
  refund: "refund",
  payout: "payout",
  payout_reversal: "payout_reversal",
};

/** The trade.settled event of a posted subscription, refund or payout transfer; null for other kinds. */
function tradeOf(t: Stored<Transfer>) {
  const kind = TRADE_TRANSFERS[t.kind];
  const ownerId = t.refs["ownerId"];
  if (!kind || !ownerId) return null;
  const balance = (prefix: string) =>
    t.legs.filter((l) => l.journal === "money" && l.account.startsWith(prefix)).reduce((s, l) => s + (l.delta["balance"] ?? 0), 0);
  // The amount is what left the paying side: the buyer's credit or the rail's clearing account for
  // a sale, the owner's payable for a payout; the platform's share is its revenue leg.
  const amountMinor = t.legs.filter((l) => l.journal === "money").reduce((s, l) => s + Math.max(0, -(l.delta["balance"] ?? 0)), 0);
  const optional = (k: string) => (t.refs[k] ? { [k]: t.refs[k]! } : {});
  return auditEvent(ACTIONS.tradeSettled, {
    actor: SYSTEM_ACTOR,
    eventId: `${ACTIONS.tradeSettled}:${t._id}`,
    subject: {
      tradeId: t._id,
      ownerId,
      transferId: t._id,
      ...optional("datasetId"),
      ...optional("buyerId"),
      ...optional("listingId"),
    },
    data: { kind, amountMinor, currency: t.currency, platformFeeMinor: Math.abs(balance("platform")) },
  });
}

function sha256(s: string): string {
  return createHash("sha256").update(s).digest("hex");
}
