/**
 * POST /webhooks/stripe. The Stripe signature covers the exact bytes sent, so this route reads
 * the raw request stream itself, once: no body parser may run before it (the app mounts none).
 * It keeps its own verification (the signature), not the caller resolved by the HTTP edge.
 */
import type Router from "@koa/router";
import { readBody } from "../http/errors.ts";
import type { BillingService } from "./service.ts";

const MAX_WEBHOOK_BYTES = 1_000_000;

export function registerStripeWebhookRoute(router: Router, billing: BillingService): void {
  router.post("/webhooks/stripe", async (ctx) => {
    const raw = await readBody(ctx.req, MAX_WEBHOOK_BYTES);
    const result = await billing.handleStripeWebhook(raw, ctx.get("stripe-signature") || undefined);
    ctx.status = result.status;
    const error = (result.body as { error?: object }).error;
    ctx.body = error ? { ...result.body, error: { ...error, requestId: String(ctx.state.requestId ?? "") } } : result.body;
  });
}
