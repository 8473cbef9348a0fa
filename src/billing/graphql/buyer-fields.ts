/** Buyers: credit, holds, receipts and top-ups (Stripe Checkout, or the offline demo rail); admins grant credit offline. */
import { currencyArg } from "./currency-arg.ts";
import { builder } from "../../graphql/builder.ts";
import { pageRequest, toConnection } from "../../graphql/connections.ts";
import { encodeCursor } from "../../store/cursor.ts";
import type { Sort } from "../../store/port.ts";
import { InvalidInput, NotFound } from "../../errors.ts";
import { IdempotencyConflict, PaymentRailError, PaymentsUnavailable } from "../errors.ts";
import { CreditBalanceRef, QueryHoldRef, QueryReceiptRef, TopUpRef } from "./buyer-types.ts";

const NEWEST: Sort = [["createdAt", -1]];
const cursor = (doc: object) => encodeCursor(NEWEST, doc);

builder.queryField("credit", (t) =>
  t.field({
    type: CreditBalanceRef,
    description: "Your credit balance, holds and what you can spend, in one currency (the exchange's default when omitted).",
    authScopes: { buyer: true },
    args: { currency: t.arg.string() },
    resolve: async (_root, { currency }, ctx) => {
      const billing = ctx.services.billing;
      const cur = currencyArg(currency, billing.config.currency);
      return { currency: cur, ...(await billing.credit(ctx.principal!.account._id, cur)) };
    },
  }),
);

builder.queryField("queryHolds", (t) =>
  t.connection({
    type: QueryHoldRef,
    description: "Your query holds, newest first.",
    authScopes: { buyer: true },
    resolve: async (_root, args, ctx) => {
      const { first, after } = pageRequest(args);
      const page = await ctx.services.billing.listHolds(ctx.principal!.account._id, first, after);
      return toConnection(page, cursor, after);
    },
  }),
);

builder.queryField("receipts", (t) =>
  t.connection({
    type: QueryReceiptRef,
    description: "Your receipts, one per query charged, newest first.",
    authScopes: { buyer: true },
    resolve: async (_root, args, ctx) => {
      const { first, after } = pageRequest(args);
      const page = await ctx.services.billing.receipts(ctx.principal!.account._id, first, after);
      return toConnection(page, cursor, after);
    },
  }),
);

builder.queryField("topUps", (t) =>
  t.connection({
    type: TopUpRef,
    description: "Your top-ups, newest first.",
    authScopes: { buyer: true },
    resolve: async (_root, args, ctx) => {
      const { first, after } = pageRequest(args);
      const page = await ctx.services.billing.topUps.list(ctx.principal!.account._id, first, after);
      return toConnection(page, cursor, after);
    },
  }),
);

const TopUpInput = builder.inputType("TopUpCreditInput", {
  fields: (t) => ({
    amount: t.int({ required: true, description: "Minor units (fen for CNY): at least 100." }),
    currency: t.string({ description: 'ISO 4217 code, lower case; the exchange\'s default (e.g. "cny") when omitted.' }),
    idempotencyKey: t.string({ required: true, description: "Your key for this top-up: repeating the call with it returns the same top-up." }),
  }),
});

builder.mutationField("topUpCredit", (t) =>
  t.field({
    type: TopUpRef,
    description: "Tops up your credit. On Stripe: pay at the returned `checkoutUrl`. On the offline demo rail: credited at once.",
    authScopes: { buyer: true },
    errors: { types: [InvalidInput, IdempotencyConflict, PaymentsUnavailable, PaymentRailError] },
    args: { input: t.arg({ type: TopUpInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      ctx.services.billing.topUp(ctx.principal!.account._id, {
        amount: input.amount,
        currency: input.currency ?? null,
        idempotencyKey: input.idempotencyKey,
      }),
  }),
);

const GrantInput = builder.inputType("GrantCreditInput", {
  fields: (t) => ({
    accountId: t.id({ required: true, description: "The buyer's account id." }),
    amount: t.int({ required: true, description: "Minor units: at least 100." }),
    currency: t.string(),
    idempotencyKey: t.string({ required: true }),
  }),
});

builder.mutationField("grantCredit", (t) =>
  t.field({
    type: TopUpRef,
    description: "Grants a buyer credit on the offline demo rail. Admins only; refused unless the exchange runs the offline rail.",
    authScopes: { admin: true },
    errors: { types: [InvalidInput, NotFound, IdempotencyConflict, PaymentsUnavailable] },
    args: { input: t.arg({ type: GrantInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const id = decodeAccountId(String(input.accountId));
      const buyer = id ? await ctx.services.accounts.getAccount(id) : null;
      if (!buyer || !buyer.roles.includes("BUYER")) throw new NotFound("buyer account");
      return ctx.services.billing.grantCredit(ctx.principal!.account._id, buyer._id, {
        amount: input.amount,
        currency: input.currency ?? null,
        idempotencyKey: input.idempotencyKey,
      });
    },
  }),
);

/** Accepts an Account global id or a raw "acc_…" id. */
function decodeAccountId(value: string): string | null {
  if (/^acc_[0-9a-z]+$/.test(value)) return value;
  try {
    const [type, id] = Buffer.from(value, "base64").toString("utf8").split(":");
    return type === "Account" && id ? id : null;
  } catch {
    return null;
  }
}
