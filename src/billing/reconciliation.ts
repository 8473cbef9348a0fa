/**
 * The admin's reconciliation report: does the book agree with itself, with the meter and with
 * the payment rail?
 *   - ledger integrity: every balance recomputed from its entries, Σ of all accounts = 0;
 *   - per currency: totals by account kind;
 *   - meter vs ledger: Σ of usage records' prices = Σ charged by posted captures, one record per posted hold;
 *   - holds: open holds = buyer credit held;
 *   - log: sales, platform revenue and payouts against the audit log's trade.settled events;
 *   - rail: every paid Stripe top-up and sent payout (most recent first, up to `railLimit`)
 *     fetched from Stripe and compared with the ledger, and the clearing balance against the
 *     sum of those records.
 * Reports are scans: for an admin's occasional look, not for hot paths.
 */
import type { Filter, Page, Stored } from "../store/port.ts";
import type { Ledger, IntegrityReport } from "./ledger/ledger.ts";
import type { Metering, MeterTotals } from "./metering.ts";
import type { Holds } from "./holds.ts";
import type { TopUps } from "./topups.ts";
import type { Payouts } from "./payouts.ts";
import type { PaymentGateway } from "./payments/port.ts";
import type { Collection } from "../store/port.ts";
import { reconcileWithLog, type LogAgreement, type TradeLogTotals } from "./log-reconciliation.ts";

export interface CurrencyTotals {
  currency: string;
  buyerCredit: number;
  buyerHeld: number;
  ownerPayable: number;
  platformRevenue: number;
  stripeClearing: number;
  offlineClearing: number;
  refunds: number;
}

export interface RailMismatch {
  kind: "top_up" | "payout";
  id: string;
  externalId: string | null;
  ledgerAmount: number;
  railAmount: number | null;
  problem: string;
}

export interface ReconciliationReport {
  generatedAt: string;
  balanced: boolean;
  integrity: IntegrityReport;
  currencies: CurrencyTotals[];
  meter: MeterTotals & { capturedByLedger: number; postedHolds: number; agrees: boolean };
  holds: { open: number; openAmount: number; heldOnAccounts: number; agrees: boolean };
  rail: {
    rail: string | null;
    checked: number;
    mismatches: RailMismatch[];
    /** The Stripe clearing balance vs what the top-up, payout and subscription records add up to, per currency. */
    clearing: Array<{ currency: string; ledger: number; fromRecords: number; agrees: boolean }>;
    error: string | null;
  };
  /** Sales, platform revenue and payouts in the ledger against the log's trade.settled events, per currency. */
  log: LogAgreement[] | null;
}

export async function reconcile(deps: {
  ledger: Ledger;
  metering: Metering;
  holds: Holds;
  topUps: TopUps;
  payouts: Payouts;
  gateway: PaymentGateway | null;
  now: () => Date;
  railLimit?: number;
  /** The audit log's trade totals; the log check is left out (null) without it. */
  tradeLog?: TradeLogTotals | null;
}): Promise<ReconciliationReport> {
  const integrity = await deps.ledger.checkIntegrity();
  const byCurrency = new Map<string, CurrencyTotals>();
  for (const a of await deps.ledger.allBalances()) {
    const t = byCurrency.get(a.currency) ?? {
      currency: a.currency,
      buyerCredit: 0,
      buyerHeld: 0,
      ownerPayable: 0,
      platformRevenue: 0,
      stripeClearing: 0,
      offlineClearing: 0,
      refunds: 0,
    };
    if (a.kind === "buyer_credit") {
      t.buyerCredit += a.balance;
      t.buyerHeld += a.held;
    }
    if (a.kind === "owner_payable") t.ownerPayable += a.balance;
    if (a.kind === "platform_revenue") t.platformRevenue += a.balance;
    if (a.kind === "stripe_clearing") t.stripeClearing += a.balance;
    if (a.kind === "offline_clearing") t.offlineClearing += a.balance;
    if (a.kind === "refunds") t.refunds += a.balance;
    byCurrency.set(a.currency, t);
  }

  const meterTotals = await deps.metering.totals();
  let capturedByLedger = 0;
  for await (const t of scan(deps.ledger.transfers.docs, { kind: "capture", state: "posted" })) {
    const buyerLeg = t.legs.find((l) => l.account.startsWith("buyer:"));
    capturedByLedger -= buyerLeg?.delta["balance"] ?? 0;
  }
  const postedHolds = await deps.holds.docs.count({ state: "posted" });

  let open = 0;
  let openAmount = 0;
  for await (const h of scan(deps.holds.docs, { state: { $in: ["opening", "held", "resolving"] } })) {
    open++;
    // An opening hold may not hold yet; a resolving one may have released already: count what the ledger says.
    if (h.state === "held") openAmount += h.amount;
  }
  const heldOnAccounts = [...byCurrency.values()].reduce((s, t) => s + t.buyerHeld, 0);
  // Holds between two steps cannot be compared with the accounts; the check needs a quiet moment.
  const inFlight = await deps.holds.docs.count({ state: { $in: ["opening", "resolving"] } });

  const rail = await checkRail(deps, byCurrency);
  const log = deps.tradeLog ? await reconcileWithLog(deps.ledger.transfers.docs, scan, deps.tradeLog) : null;
  const meterAgrees = meterTotals.price === capturedByLedger && meterTotals.queries === postedHolds;
  const holdsAgree = inFlight > 0 || openAmount === heldOnAccounts;
  return {
    generatedAt: deps.now().toISOString(),
    balanced:
      integrity.ok &&
      integrity.sumOfBalances === 0 &&
      meterAgrees &&
      holdsAgree &&
      rail.mismatches.length === 0 &&
      rail.clearing.every((c) => c.agrees) &&
      (log?.every((l) => l.agrees) ?? true),
    integrity,
    currencies: [...byCurrency.values()].sort((a, b) => a.currency.localeCompare(b.currency)),
    meter: { ...meterTotals, capturedByLedger, postedHolds, agrees: meterAgrees },
    holds: { open, openAmount, heldOnAccounts, agrees: holdsAgree },
    rail,
    log,
  };
}

async function checkRail(
  deps: { ledger: Ledger; topUps: TopUps; payouts: Payouts; gateway: PaymentGateway | null; railLimit?: number },
  byCurrency: Map<string, CurrencyTotals>,
): Promise<ReconciliationReport["rail"]> {
  const mismatches: RailMismatch[] = [];
  const fromRecords = new Map<string, number>();
  const limit = deps.railLimit ?? 100;
  let checked = 0;
  let error: string | null = null;
  const gw = deps.gateway?.rail === "stripe" ? deps.gateway : null;
  // What the records say Stripe clearing should hold: −paid top-ups, +payouts out of the
  // payable (and not reversed), −subscription invoices (booked from transfers, keyed by invoice).
  const addTo = (currency: string, amount: number) => fromRecords.set(currency, (fromRecords.get(currency) ?? 0) + amount);
  for await (const top of scan(deps.topUps.docs, { rail: "stripe", state: "paid" })) addTo(top.currency, -(top.paidAmount ?? 0));
  for await (const p of scan(deps.payouts.docs, { rail: "stripe", state: { $in: ["ledgered", "paid"] } })) addTo(p.currency, p.amount);
  for await (const t of scan(deps.ledger.transfers.docs, { kind: "subscription", state: "posted" })) {
    for (const leg of t.legs) if (leg.account.startsWith("clearing:stripe:")) addTo(t.currency, leg.delta["balance"] ?? 0);
  }
  try {
    if (gw) {
      for await (const top of scan(deps.topUps.docs, { rail: "stripe", state: "paid" })) {
        if (checked >= limit) break;
        checked++;
        const obj = top.checkoutSessionId ? await gw.fetchTopUp(top.checkoutSessionId) : null;
        const paid = top.paidAmount ?? 0;
        if (!obj)
          mismatches.push({
            kind: "top_up",
            id: top._id,
            externalId: top.checkoutSessionId,
            ledgerAmount: paid,
            railAmount: null,
            problem: "not found on Stripe",
          });
        else if (!obj.settled)
          mismatches.push({
            kind: "top_up",
            id: top._id,
            externalId: obj.id,
            ledgerAmount: paid,
            railAmount: obj.amount,
            problem: "credited, but Stripe says unpaid",
          });
        else if (obj.amount !== paid)
          mismatches.push({ kind: "top_up", id: top._id, externalId: obj.id, ledgerAmount: paid, railAmount: obj.amount, problem: "amounts differ" });
      }
      for await (const p of scan(deps.payouts.docs, { rail: "stripe", state: "paid" })) {
        if (checked >= 2 * limit) break;
        checked++;
        const obj = p.externalId ? await gw.fetchPayout(p.externalId) : null;
        if (!obj)
          mismatches.push({
            kind: "payout",
            id: p._id,
            externalId: p.externalId,
            ledgerAmount: p.amount,
            railAmount: null,
            problem: "not found on Stripe",
          });
        else if (!obj.settled)
          mismatches.push({
            kind: "payout",
            id: p._id,
            externalId: obj.id,
            ledgerAmount: p.amount,
            railAmount: obj.amount,
            problem: "paid out, but Stripe says reversed",
          });
        else if (obj.amount !== p.amount)
          mismatches.push({
            kind: "payout",
            id: p._id,
            externalId: obj.id,
            ledgerAmount: p.amount,
            railAmount: obj.amount,
            problem: "amounts differ",
          });
      }
    }
  } catch (e) {
    error = `could not reach the payment rail: ${(e as Error).message.slice(0, 200)}`;
  }
  const currencies = new Set([...byCurrency.keys(), ...fromRecords.keys()]);
  const clearing = [...currencies]
    .map((currency) => {
      const ledger = byCurrency.get(currency)?.stripeClearing ?? 0;
      const records = fromRecords.get(currency) ?? 0;
      return { currency, ledger, fromRecords: records, agrees: ledger === records };
    })
    .filter((c) => c.ledger !== 0 || c.fromRecords !== 0);
  return { rail: deps.gateway?.rail ?? null, checked, mismatches, clearing, error };
}

async function* scan<T extends object>(c: Collection<T>, filter: Filter): AsyncGenerator<Stored<T>> {
  let after: string | null = null;
  do {
    const page: Page<Stored<T>> = await c.find(filter, { limit: 200, ...(after ? { after } : {}) });
    yield* page.items;
    after = page.nextCursor;
  } while (after);
}
