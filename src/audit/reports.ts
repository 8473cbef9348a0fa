/**
 * Regulator reports, computed from the events' own data (see actions.ts for the shapes):
 *   trades and revenue per dataset / owner / buyer per day or month  ← trade.settled
 *   ε consumed per dataset                                          ← query.executed
 *   access decisions with the stated purposes                        ← access.decided
 * Reports read the canonical entry text (the logged truth), never the search copies.
 */
import type { Stored } from "../store/port.ts";
import { ACTIONS, SALE_KINDS } from "../audit-actions.ts";
import type { AuditEntry, AuditEntryDoc } from "./model.ts";
import type { AuditLog } from "./service.ts";
import { toStoreFilter, type EventFilter } from "./search.ts";

export type ReportPeriod = "DAY" | "MONTH";
export type TradeGrouping = "DATASET" | "OWNER" | "BUYER";

export interface TradeReportRow {
  period: string;
  groupId: string;
  currency: string;
  /** Sales (queries, analyses, subscriptions, access) and what they brought in. */
  trades: number;
  amountMinor: number;
  /** The exchange's share of those sales. */
  platformFeeMinor: number;
  /** Refunded to buyers, and paid out to owners (net of reversed payouts). */
  refundsMinor: number;
  payoutsMinor: number;
}

export interface EpsilonReportRow {
  datasetId: string;
  /** Budget debits (privacy.budget_debited) and the ε they charged. */
  debits: number;
  epsilon: number;
  /** Answered queries (query.executed) and the rows they scanned. */
  queries: number;
  rowsScanned: number;
}

export interface AccessDecisionRow {
  seq: number;
  time: string;
  decision: string;
  purpose: string;
  reason: string | null;
  requestId: string | null;
  datasetId: string | null;
  listingId: string | null;
  ownerId: string | null;
  buyerId: string | null;
  actor: string;
}

/** Upper bound on events one report reads: reports answer questions, exports move data. */
export const REPORT_EVENT_LIMIT = 200_000;

async function* eventsOf(audit: AuditLog, actions: string[], filter: EventFilter): AsyncGenerator<{ doc: Stored<AuditEntryDoc>; entry: AuditEntry }> {
  const scoped = toStoreFilter({ ...filter, actions });
  let after: string | null = null;
  let seen = 0;
  for (;;) {
    const page = await audit.findEntries(scoped, 500, after);
    for (const doc of page.items) {
      if (++seen > REPORT_EVENT_LIMIT) throw new Error(`report covers more than ${REPORT_EVENT_LIMIT} events; narrow the time range`);
      yield { doc, entry: JSON.parse(doc.entry) as AuditEntry };
    }
    if (!page.nextCursor) return;
    after = page.nextCursor;
  }
}

function periodOf(time: string, period: ReportPeriod): string {
  return period === "DAY" ? time.slice(0, 10) : time.slice(0, 7);
}

const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);
const str = (v: unknown): string | null => (typeof v === "string" ? v : null);

export async function tradeReport(audit: AuditLog, filter: EventFilter, period: ReportPeriod, groupBy: TradeGrouping): Promise<TradeReportRow[]> {
  const key = groupBy === "DATASET" ? "datasetId" : groupBy === "OWNER" ? "ownerId" : "buyerId";
  const rows = new Map<string, TradeReportRow>();
  for await (const { entry } of eventsOf(audit, [ACTIONS.tradeSettled], filter)) {
    const groupId = entry.subject[key] ?? "(none)";
    const currency = str(entry.data.currency) ?? "?";
    const p = periodOf(entry.time, period);
    const k = `${p}\u0000${groupId}\u0000${currency}`;
    const row = rows.get(k) ?? { period: p, groupId, currency, trades: 0, amountMinor: 0, platformFeeMinor: 0, refundsMinor: 0, payoutsMinor: 0 };
    const amount = num(entry.data.amountMinor);
    const kind = str(entry.data.kind) ?? "query";
    if ((SALE_KINDS as readonly string[]).includes(kind)) {
      row.trades++;
      row.amountMinor += amount;
      row.platformFeeMinor += num(entry.data.platformFeeMinor);
    } else if (kind === "refund") {
      row.refundsMinor += amount;
      row.platformFeeMinor -= num(entry.data.platformFeeMinor);
    } else if (kind === "payout") row.payoutsMinor += amount;
    else if (kind === "payout_reversal") row.payoutsMinor -= amount;
    rows.set(k, row);
  }
  return [...rows.values()].sort(
    (a, b) => a.period.localeCompare(b.period) || a.groupId.localeCompare(b.groupId) || a.currency.localeCompare(b.currency),
  );
}

/** All trades ever settled, per currency: what billing's reconciliation compares the ledger with. */
export async function tradeTotals(
  audit: AuditLog,
): Promise<Array<{ currency: string; salesMinor: number; platformFeeMinor: number; payoutsMinor: number }>> {
  const rows = await tradeReport(audit, {}, "MONTH", "OWNER");
  const byCurrency = new Map<string, { currency: string; salesMinor: number; platformFeeMinor: number; payoutsMinor: number }>();
  for (const r of rows) {
    const t = byCurrency.get(r.currency) ?? { currency: r.currency, salesMinor: 0, platformFeeMinor: 0, payoutsMinor: 0 };
    t.salesMinor += r.amountMinor - r.refundsMinor;
    t.platformFeeMinor += r.platformFeeMinor;
    t.payoutsMinor += r.payoutsMinor;
    byCurrency.set(r.currency, t);
  }
  return [...byCurrency.values()];
}

/** ε is what the privacy budget charged (privacy.budget_debited, micro-ε); queries and rows from query.executed. */
export async function epsilonReport(audit: AuditLog, filter: EventFilter): Promise<EpsilonReportRow[]> {
  const rows = new Map<string, EpsilonReportRow & { micro: number }>();
  for await (const { entry } of eventsOf(audit, [ACTIONS.privacyBudgetDebited, ACTIONS.queryExecuted], filter)) {
    const datasetId = entry.subject.datasetId ?? "(none)";
    const row = rows.get(datasetId) ?? { datasetId, debits: 0, epsilon: 0, micro: 0, queries: 0, rowsScanned: 0 };
    if (entry.action === ACTIONS.privacyBudgetDebited) {
      row.debits++;
      row.micro += num(entry.data.epsilonMicro); // integers: no float drift while summing
    } else {
      row.queries++;
      row.rowsScanned += num(entry.data.rowsScanned);
    }
    rows.set(datasetId, row);
  }
  return [...rows.values()].map(({ micro, ...r }) => ({ ...r, epsilon: micro / 1_000_000 })).sort((a, b) => a.datasetId.localeCompare(b.datasetId));
}

export async function accessDecisions(audit: AuditLog, filter: EventFilter, first: number, after: string | null) {
  const page = await audit.findEntries(toStoreFilter({ ...filter, actions: [ACTIONS.accessDecided] }), first, after);
  return {
    nextCursor: page.nextCursor,
    items: page.items.map((doc): AccessDecisionRow => {
      const e = JSON.parse(doc.entry) as AuditEntry;
      return {
        seq: e.seq,
        time: e.time,
        actor: e.actor,
        decision: str(e.data.decision) ?? "?",
        purpose: str(e.data.purpose) ?? "",
        reason: str(e.data.reason),
        requestId: e.subject.requestId ?? null,
        datasetId: e.subject.datasetId ?? null,
        listingId: e.subject.listingId ?? null,
        ownerId: e.subject.ownerId ?? null,
        buyerId: e.subject.buyerId ?? null,
      };
    }),
    doc: page.items,
  };
}
