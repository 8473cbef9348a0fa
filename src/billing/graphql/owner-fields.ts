/** Owners: earnings, sales, payouts, payout onboarding. Admins: sweep payouts. */
import { currencyArg } from "./currency-arg.ts";
import { builder } from "../../graphql/builder.ts";
import { pageRequest, toConnection } from "../../graphql/connections.ts";
import { encodeCursor } from "../../store/cursor.ts";
import type { Sort } from "../../store/port.ts";
import { BelowPayoutThreshold, PaymentRailError, PaymentsUnavailable, PayoutAccountNotReady } from "../errors.ts";
import { EarningsRef, PayoutAccountRef, PayoutOnboardingRef, PayoutRef, SaleRef } from "./owner-types.ts";

const NEWEST: Sort = [["createdAt", -1]];
const cursor = (doc: object) => encodeCursor(NEWEST, doc);

builder.queryField("earnings", (t) =>
  t.field({
    type: EarningsRef,
    description: "Your earnings, payable and payouts in one currency (the exchange's default when omitted).",
    authScopes: { owner: true },
    args: { currency: t.arg.string() },
    resolve: (_root, { currency }, ctx) =>
      ctx.services.billing.earnings(ctx.principal!.account._id, currencyArg(currency, ctx.services.billing.config.currency)),
  }),
);

builder.queryField("sales", (t) =>
  t.connection({
    type: SaleRef,
    description: "Queries charged on your listings, newest first.",
    authScopes: { owner: true },
    resolve: async (_root, args, ctx) => {
      const { first, after } = pageRequest(args);
      return toConnection(await ctx.services.billing.sales(ctx.principal!.account._id, first, after), cursor, after);
    },
  }),
);

builder.queryField("payouts", (t) =>
  t.connection({
    type: PayoutRef,
    description: "Your payouts, newest first.",
    authScopes: { owner: true },
    resolve: async (_root, args, ctx) => {
      const { first, after } = pageRequest(args);
      return toConnection(await ctx.services.billing.listPayouts(ctx.principal!.account._id, first, after), cursor, after);
    },
  }),
);

builder.queryField("payoutAccount", (t) =>
  t.field({
    type: PayoutAccountRef,
    nullable: true,
    description: "Your payout account, or null before onboarding.",
    authScopes: { owner: true },
    resolve: (_root, _args, ctx) => ctx.services.billing.payees.get(ctx.principal!.account._id),
  }),
);

builder.mutationField("startPayoutOnboarding", (t) =>
  t.field({
    type: PayoutOnboardingRef,
    description: "Creates your payout account (once) and returns the link where you finish onboarding on Stripe.",
    authScopes: { owner: true },
    errors: { types: [PaymentsUnavailable, PaymentRailError] },
    resolve: (_root, _args, ctx) => ctx.services.billing.startPayoutOnboarding(ctx.principal!.account._id),
  }),
);

builder.mutationField("requestPayout", (t) =>
  t.field({
    type: PayoutRef,
    description: "Pays out your whole payable in one currency, once it reached the payout threshold.",
    authScopes: { owner: true },
    errors: { types: [BelowPayoutThreshold, PayoutAccountNotReady, PaymentsUnavailable, PaymentRailError] },
    args: { currency: t.arg.string() },
    resolve: (_root, { currency }, ctx) =>
      ctx.services.billing.requestPayout(ctx.principal!.account._id, currencyArg(currency, ctx.services.billing.config.currency)),
  }),
);

builder.mutationField("runPayouts", (t) =>
  t.field({
    type: [PayoutRef],
    description: "Pays out every owner whose payable reached the threshold and whose payout account is ready. Admins only.",
    authScopes: { admin: true },
    errors: { types: [PaymentsUnavailable] },
    resolve: (_root, _args, ctx) => ctx.services.billing.sweepPayouts(),
  }),
);
