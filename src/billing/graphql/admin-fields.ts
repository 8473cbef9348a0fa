/** Admins: the reconciliation report and the recovery step, on demand. */
import { builder } from "../../graphql/builder.ts";
import type { CurrencyTotals, RailMismatch, ReconciliationReport } from "../reconciliation.ts";
import type { RecoveryReport } from "../service.ts";
import { MinorUnits } from "./scalars.ts";

const CurrencyTotalsRef = builder.objectRef<CurrencyTotals>("LedgerCurrencyTotals").implement({
  description: "Σ of balances by account kind in one currency. Over all kinds it is 0 when the book balances.",
  fields: (t) => ({
    currency: t.exposeString("currency"),
    buyerCredit: t.field({ type: MinorUnits, resolve: (c) => c.buyerCredit }),
    buyerHeld: t.field({ type: MinorUnits, resolve: (c) => c.buyerHeld }),
    ownerPayable: t.field({ type: MinorUnits, resolve: (c) => c.ownerPayable }),
    platformRevenue: t.field({ type: MinorUnits, resolve: (c) => c.platformRevenue }),
    stripeClearing: t.field({ type: MinorUnits, resolve: (c) => c.stripeClearing }),
    offlineClearing: t.field({ type: MinorUnits, resolve: (c) => c.offlineClearing }),
    refunds: t.field({ type: MinorUnits, resolve: (c) => c.refunds }),
  }),
});

const RailMismatchRef = builder.objectRef<RailMismatch>("RailMismatch").implement({
  fields: (t) => ({
    kind: t.exposeString("kind"),
    id: t.exposeString("id", { description: "The exchange's record id (top-up or payout)." }),
    externalId: t.exposeString("externalId", { nullable: true }),
    ledgerAmount: t.field({ type: MinorUnits, resolve: (m) => m.ledgerAmount }),
    railAmount: t.field({ type: MinorUnits, nullable: true, resolve: (m) => m.railAmount }),
    problem: t.exposeString("problem"),
  }),
});

const ClearingCheckRef = builder.objectRef<ReconciliationReport["rail"]["clearing"][number]>("ClearingCheck").implement({
  fields: (t) => ({
    currency: t.exposeString("currency"),
    ledger: t.field({ type: MinorUnits, description: "Stripe clearing balance in the ledger.", resolve: (c) => c.ledger }),
    fromRecords: t.field({ type: MinorUnits, description: "What paid top-ups, payouts and invoices add up to.", resolve: (c) => c.fromRecords }),
    agrees: t.exposeBoolean("agrees"),
  }),
});

const RailCheckRef = builder.objectRef<ReconciliationReport["rail"]>("RailCheck").implement({
  fields: (t) => ({
    rail: t.exposeString("rail", { nullable: true }),
    checked: t.exposeInt("checked", { description: "Stripe objects fetched and compared." }),
    mismatches: t.field({ type: [RailMismatchRef], resolve: (r) => r.mismatches }),
    clearing: t.field({ type: [ClearingCheckRef], resolve: (r) => r.clearing }),
    error: t.exposeString("error", { nullable: true }),
  }),
});

const LedgerCheckRef = builder.objectRef<ReconciliationReport["integrity"]>("LedgerIntegrity").implement({
  fields: (t) => ({
    ok: t.exposeBoolean("ok"),
    problems: t.exposeStringList("problems"),
    accounts: t.exposeInt("accounts"),
    entries: t.exposeInt("entries"),
    sumOfBalances: t.field({ type: MinorUnits, description: "Σ over every account: 0 when the book balances.", resolve: (i) => i.sumOfBalances }),
    pendingTransfers: t.exposeInt("pendingTransfers"),
  }),
});

const MeterCheckRef = builder.objectRef<ReconciliationReport["meter"]>("MeterCheck").implement({
  fields: (t) => ({
    queries: t.exposeInt("queries", { description: "Usage records." }),
    postedHolds: t.exposeInt("postedHolds"),
    price: t.field({ type: MinorUnits, description: "Σ of usage records' prices.", resolve: (m) => m.price }),
    capturedByLedger: t.field({ type: MinorUnits, description: "Σ charged to buyers by the ledger's captures.", resolve: (m) => m.capturedByLedger }),
    agrees: t.exposeBoolean("agrees"),
  }),
});

const HoldCheckRef = builder.objectRef<ReconciliationReport["holds"]>("HoldCheck").implement({
  fields: (t) => ({
    open: t.exposeInt("open"),
    openAmount: t.field({ type: MinorUnits, resolve: (h) => h.openAmount }),
    heldOnAccounts: t.field({ type: MinorUnits, resolve: (h) => h.heldOnAccounts }),
    agrees: t.exposeBoolean("agrees"),
  }),
});

const LogCheckRef = builder.objectRef<NonNullable<ReconciliationReport["log"]>[number]>("LogCheck").implement({
  description: "One currency's sales, platform revenue and owner payouts: the ledger against the audit log's trade.settled events.",
  fields: (t) => ({
    currency: t.exposeString("currency"),
    ledgerSales: t.field({ type: MinorUnits, resolve: (l) => l.ledgerSalesMinor }),
    loggedSales: t.field({ type: MinorUnits, resolve: (l) => l.salesMinor }),
    ledgerPlatformFee: t.field({ type: MinorUnits, resolve: (l) => l.ledgerPlatformFeeMinor }),
    loggedPlatformFee: t.field({ type: MinorUnits, resolve: (l) => l.platformFeeMinor }),
    ledgerPayouts: t.field({ type: MinorUnits, resolve: (l) => l.ledgerPayoutsMinor }),
    loggedPayouts: t.field({ type: MinorUnits, resolve: (l) => l.payoutsMinor }),
    agrees: t.exposeBoolean("agrees", { description: "False for a moment while a run is between its charge and its log entry." }),
  }),
});

const ReconciliationRef = builder.objectRef<ReconciliationReport>("ReconciliationReport").implement({
  description: "Does the ledger agree with itself, with the meter, with the audit log and with Stripe? `balanced` when everything does.",
  fields: (t) => ({
    generatedAt: t.expose("generatedAt", { type: "DateTime" }),
    balanced: t.exposeBoolean("balanced"),
    ledger: t.field({ type: LedgerCheckRef, resolve: (r) => r.integrity }),
    currencies: t.field({ type: [CurrencyTotalsRef], resolve: (r) => r.currencies }),
    meter: t.field({ type: MeterCheckRef, resolve: (r) => r.meter }),
    holds: t.field({ type: HoldCheckRef, resolve: (r) => r.holds }),
    rail: t.field({ type: RailCheckRef, resolve: (r) => r.rail }),
    log: t.field({ type: [LogCheckRef], nullable: true, resolve: (r) => r.log }),
  }),
});

builder.queryField("reconciliation", (t) =>
  t.field({
    type: ReconciliationRef,
    description: "The reconciliation report (a full scan: for occasional use). Admins only.",
    authScopes: { admin: true },
    resolve: (_root, _args, ctx) => ctx.services.billing.reconcile(),
  }),
);

const RecoveryRef = builder.objectRef<RecoveryReport>("BillingRecovery").implement({
  fields: (t) => ({
    transfersDriven: t.exposeInt("transfersDriven"),
    holdsResolved: t.int({ resolve: (r) => r.holds.resolved }),
    holdsAbandoned: t.int({ resolve: (r) => r.holds.abandoned }),
    holdsExpired: t.int({ resolve: (r) => r.holds.expired }),
    topUps: t.exposeInt("topUps"),
    payouts: t.exposeInt("payouts"),
  }),
});

builder.mutationField("recoverBilling", (t) =>
  t.field({
    type: RecoveryRef,
    description: "Finishes or voids whatever a crash left half-done (it also runs at every start). Admins only.",
    authScopes: { admin: true },
    resolve: (_root, _args, ctx) => ctx.services.billing.recover(),
  }),
);
