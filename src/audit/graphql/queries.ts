/** Read-only regulator queries over the audit log (REGULATOR and ADMIN), plus the public log info. */
import { builder } from "../../graphql/builder.ts";
import { pageRequest, toConnection } from "../../graphql/connections.ts";
import { NotFound } from "../../errors.ts";
import { encodeCursor } from "../../store/cursor.ts";
import { toStoreFilter } from "../search.ts";
import { accessDecisions, epsilonReport, tradeReport } from "../reports.ts";
import { ProofUnavailable } from "../errors.ts";
import { AuditEventRef } from "./event.ts";
import { AuditCheckpointRef, AuditLogInfoRef } from "./checkpoint.ts";
import { ConsistencyProofRef, InclusionProofRef } from "./proofs.ts";
import { AccessDecisionRef, EpsilonReportRowRef, ReportPeriodEnum, TradeGroupingEnum, TradeReportRowRef } from "./reports.ts";
import { REGULATOR_SCOPES, filterOrBadInput } from "./scopes.ts";
import { nameConditions } from "./names.ts";

const SEQ_ASC = [["seq", 1]] as Array<[string, 1]>;

const AuditEventFilter = builder.inputType("AuditEventFilter", {
  description: "Every condition given must hold. Times are UTC instants; `to` is exclusive.",
  fields: (t) => ({
    from: t.field({ type: "DateTime" }),
    to: t.field({ type: "DateTime" }),
    actions: t.stringList({ description: 'Any of these actions, e.g. ["query.executed", "trade.settled"].' }),
    actorId: t.string({ description: 'The account that acted (or "system").' }),
    datasetId: t.string(),
    ownerId: t.string({ description: "The data owner's account id." }),
    buyerId: t.string({ description: "The buyer's account id." }),
    subjectId: t.string({ description: "Any id the event is about." }),
    seq: t.int({ description: "The entry at this position." }),
  }),
});

const AuditNameFilter = builder.inputType("AuditNameFilter", {
  description:
    "Find events by what people know instead of internal ids: a listing's title or an account's email, or the global ids the API " +
    "shows. Names are resolved when you ask (the log holds ids only). Every condition given must hold.",
  fields: (t) => ({
    listing: t.string({
      description: "Words of a published listing's title (Chinese or English, as searchListings matches): events about it or its dataset.",
    }),
    listingId: t.id({ description: "A listing's global id: events about it." }),
    account: t.string({ description: "An email, or part of one (case-insensitive): events the account did or that name it." }),
    accountId: t.id({ description: "An account's global id: events it did or that name it." }),
  }),
});

builder.queryField("auditLog", (t) =>
  t.field({
    type: AuditLogInfoRef,
    description: "The audit log's origin and public key, and its latest signed checkpoint. Public.",
    authScopes: { public: true },
    resolve: (_r, _a, ctx) => ({ origin: ctx.services.audit.origin, verifierKey: ctx.services.audit.verifierKey }),
  }),
);

builder.queryField("auditEvents", (t) =>
  t.connection({
    type: AuditEventRef,
    description: "Searches the audit log, oldest first. Regulators and admins.",
    authScopes: REGULATOR_SCOPES,
    args: { filter: t.arg({ type: AuditEventFilter }), names: t.arg({ type: AuditNameFilter }) },
    resolve: async (_r, args, ctx) => {
      const { first, after } = pageRequest(args);
      const filter = filterOrBadInput(args.filter);
      const byName = await nameConditions(ctx, args.names);
      const base = toStoreFilter(filter);
      const page = await ctx.services.audit.findEntries(byName ? { $and: [base, byName] } : base, first, after);
      return toConnection(page, (d) => encodeCursor(SEQ_ASC, d), after);
    },
  }),
);

builder.queryField("auditEvent", (t) =>
  t.field({
    type: AuditEventRef,
    description: "One entry by its position in the log.",
    authScopes: REGULATOR_SCOPES,
    errors: { types: [NotFound] },
    args: { seq: t.arg.int({ required: true }) },
    resolve: async (_r, { seq }, ctx) => {
      const doc = seq >= 0 ? await ctx.services.audit.getEntry(seq) : null;
      if (!doc) throw new NotFound("audit event");
      return doc;
    },
  }),
);

builder.queryField("auditCheckpoints", (t) =>
  t.connection({
    type: AuditCheckpointRef,
    description: "Every signed checkpoint, newest first.",
    authScopes: REGULATOR_SCOPES,
    resolve: async (_r, args, ctx) => {
      const { first, after } = pageRequest(args);
      const page = await ctx.services.audit.listCheckpoints(first, after);
      return toConnection(page, (c) => encodeCursor([["size", -1]], c), after);
    },
  }),
);

builder.queryField("auditInclusionProof", (t) =>
  t.field({
    type: InclusionProofRef,
    description: "Proof that entry `index` is in the signed tree of `treeSize` entries (default: the latest checkpoint).",
    authScopes: REGULATOR_SCOPES,
    errors: { types: [ProofUnavailable] },
    args: { index: t.arg.int({ required: true }), treeSize: t.arg.int() },
    resolve: (_r, { index, treeSize }, ctx) => ctx.services.audit.inclusionProof(index, treeSize ?? null),
  }),
);

builder.queryField("auditConsistencyProof", (t) =>
  t.field({
    type: ConsistencyProofRef,
    description: "Proof that the tree of `first` entries is a prefix of the signed tree of `second` (default: latest).",
    authScopes: REGULATOR_SCOPES,
    errors: { types: [ProofUnavailable] },
    args: { first: t.arg.int({ required: true }), second: t.arg.int() },
    resolve: (_r, { first, second }, ctx) => ctx.services.audit.consistencyProof(first, second ?? null),
  }),
);

builder.queryField("auditTradeReport", (t) =>
  t.field({
    type: [TradeReportRowRef],
    description: "Trades and revenue per dataset, owner or buyer per day or month (from trade.settled events).",
    authScopes: REGULATOR_SCOPES,
    args: {
      filter: t.arg({ type: AuditEventFilter }),
      period: t.arg({ type: ReportPeriodEnum, defaultValue: "MONTH" }),
      groupBy: t.arg({ type: TradeGroupingEnum, defaultValue: "DATASET" }),
    },
    resolve: (_r, args, ctx) => tradeReport(ctx.services.audit, filterOrBadInput(args.filter), args.period ?? "MONTH", args.groupBy ?? "DATASET"),
  }),
);

builder.queryField("auditEpsilonReport", (t) =>
  t.field({
    type: [EpsilonReportRowRef],
    description: "Privacy budget ε charged per dataset (privacy.budget_debited events) and queries answered (query.executed).",
    authScopes: REGULATOR_SCOPES,
    args: { filter: t.arg({ type: AuditEventFilter }) },
    resolve: (_r, args, ctx) => epsilonReport(ctx.services.audit, filterOrBadInput(args.filter)),
  }),
);

builder.queryField("auditAccessDecisions", (t) =>
  t.connection({
    type: AccessDecisionRef,
    description: "Access decisions with the purposes buyers stated, oldest first (from access.decided events).",
    authScopes: REGULATOR_SCOPES,
    args: { filter: t.arg({ type: AuditEventFilter }) },
    resolve: async (_r, args, ctx) => {
      const { first, after } = pageRequest(args);
      const page = await accessDecisions(ctx.services.audit, filterOrBadInput(args.filter), first, after);
      const cursors = new Map(page.doc.map((d) => [d.seq, encodeCursor(SEQ_ASC, d)]));
      return toConnection({ items: page.items, nextCursor: page.nextCursor }, (row) => cursors.get(row.seq)!, after);
    },
  }),
);
