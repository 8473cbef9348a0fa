/**
 * The book against the audit log: for each currency, the sales the ledger posted (query and
 * analysis captures, subscription fees), the platform's revenue and the owners' payouts must
 * equal what the log's trade.settled events say. The log is read through a port the composition
 * root supplies (billing never imports the audit module). A run between its charge and its log
 * entry makes them differ for a moment; recovery closes the gap, so compare at a quiet moment.
 */
import type { Collection, Filter, Stored } from "../store/port.ts";
import type { Transfer } from "./ledger/transfers.ts";

/** Per currency, from the log's trade.settled events. */
export interface LoggedTradeTotals {
  currency: string;
  salesMinor: number;
  platformFeeMinor: number;
  payoutsMinor: number;
}

export type TradeLogTotals = () => Promise<LoggedTradeTotals[]>;

export interface LogAgreement extends LoggedTradeTotals {
  ledgerSalesMinor: number;
  ledgerPlatformFeeMinor: number;
  ledgerPayoutsMinor: number;
  agrees: boolean;
}

const money = (t: Transfer, prefix: string) =>
  t.legs.filter((l) => l.journal === "money" && l.account.startsWith(prefix)).reduce((s, l) => s + (l.delta["balance"] ?? 0), 0);

export async function reconcileWithLog(
  transfers: Collection<Transfer>,
  scan: <T extends object>(docs: Collection<T>, filter: Filter) => AsyncGenerator<Stored<T>>,
  log: TradeLogTotals,
): Promise<LogAgreement[]> {
  const ledger = new Map<string, { sales: number; fee: number; payouts: number }>();
  const at = (c: string) => ledger.get(c) ?? ledger.set(c, { sales: 0, fee: 0, payouts: 0 }).get(c)!;
  for await (const t of scan(transfers, { state: "posted", kind: { $in: ["capture", "subscription", "refund", "payout", "payout_reversal"] } })) {
    const row = at(t.currency);
    if (t.kind === "capture" || t.kind === "subscription") {
      // What left the buyer (credit) or the rail (an invoice paid through Stripe).
      row.sales += -(money(t, "buyer:") + money(t, "clearing:"));
      row.fee += money(t, "platform:");
    } else if (t.kind === "refund") {
      row.sales -= money(t, "buyer:");
      row.fee += money(t, "platform:");
    } else if (t.kind === "payout") row.payouts += -money(t, "owner:");
    else row.payouts -= money(t, "owner:");
  }
  const logged = new Map((await log()).map((r) => [r.currency, r]));
  const currencies = [...new Set([...ledger.keys(), ...logged.keys()])].sort();
  return currencies.map((currency) => {
    const l = ledger.get(currency) ?? { sales: 0, fee: 0, payouts: 0 };
    const g = logged.get(currency) ?? { currency, salesMinor: 0, platformFeeMinor: 0, payoutsMinor: 0 };
    return {
      ...g,
      currency,
      ledgerSalesMinor: l.sales,
      ledgerPlatformFeeMinor: l.fee,
      ledgerPayoutsMinor: l.payouts,
      agrees: l.sales === g.salesMinor && l.fee === g.platformFeeMinor && l.payouts === g.payoutsMinor,
    };
  });
}
