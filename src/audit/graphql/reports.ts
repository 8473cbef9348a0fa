import { builder } from "../../graphql/builder.ts";
import type { AccessDecisionRow, EpsilonReportRow, TradeReportRow } from "../reports.ts";

export const ReportPeriodEnum = builder.enumType("AuditReportPeriod", { values: ["DAY", "MONTH"] as const });
export const TradeGroupingEnum = builder.enumType("AuditTradeGrouping", { values: ["DATASET", "OWNER", "BUYER"] as const });

export const TradeReportRowRef = builder.objectRef<TradeReportRow>("AuditTradeReportRow").implement({
  description: "Trades settled (trade.settled events) in one period for one dataset, owner or buyer, in one currency.",
  fields: (t) => ({
    period: t.exposeString("period", { description: '"2026-03" for MONTH, "2026-03-14" for DAY (UTC).' }),
    groupId: t.exposeString("groupId", { description: "The dataset, owner or buyer id." }),
    currency: t.exposeString("currency"),
    trades: t.exposeInt("trades"),
    amountMinor: t.exposeFloat("amountMinor", { description: "Revenue in minor units (an integer)." }),
  }),
});

export const EpsilonReportRowRef = builder.objectRef<EpsilonReportRow>("AuditEpsilonReportRow").implement({
  description: "Privacy budget consumed on one dataset: ε charged (privacy.budget_debited) and queries answered (query.executed).",
  fields: (t) => ({
    datasetId: t.exposeString("datasetId"),
    debits: t.exposeInt("debits", { description: "Budget debits." }),
    epsilon: t.expose("epsilon", { type: "Epsilon", description: "Total ε charged by those debits." }),
    queries: t.exposeInt("queries", { description: "Queries answered." }),
    rowsScanned: t.exposeFloat("rowsScanned", { description: "Rows priced by those queries (the declared public sizes; no count of the data)." }),
  }),
});

export const AccessDecisionRef = builder.objectRef<AccessDecisionRow>("AuditAccessDecision").implement({
  description: "An owner's decision on an access request, with the purpose the buyer stated (access.decided events).",
  fields: (t) => ({
    seq: t.exposeInt("seq"),
    time: t.expose("time", { type: "DateTime" }),
    decision: t.exposeString("decision"),
    purpose: t.exposeString("purpose"),
    reason: t.exposeString("reason", { nullable: true }),
    actor: t.exposeString("actor"),
    requestId: t.exposeString("requestId", { nullable: true }),
    datasetId: t.exposeString("datasetId", { nullable: true }),
    listingId: t.exposeString("listingId", { nullable: true }),
    ownerId: t.exposeString("ownerId", { nullable: true }),
    buyerId: t.exposeString("buyerId", { nullable: true }),
  }),
});
