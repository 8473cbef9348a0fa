/**
 * POST /webhooks/stripe. The Stripe signature covers the exact bytes sent, so this route reads
 * the raw request stream itself: no body parser may run before it (app.ts mounts none; if one
 * is ever added globally, it must skip this path).
 */
import type Router from "@koa/router";
import type { Services } from "../services.ts";
import { readRawBody } from "./webhooks.ts";

export function registerStripeWebhookRoute(router: Router, services: Pick<Services, "billing">): void {
  router.post("/webhooks/stripe", async (ctx) => {
    const raw = await readRawBody(ctx.req, 1_000_000);
    if (raw === null) {
      ctx.status = 413;
      ctx.body = { error: "webhook body too large" };
      return;
    }
    const result = await services.billing.handleStripeWebhook(raw, ctx.get("stripe-signature") || undefined);
    ctx.status = result.status;
    ctx.body = result.body;
  });
}
