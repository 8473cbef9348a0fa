/**
 * Koa wiring: request ids and access logs, /health, /ready and /graphql. Routes for uploads
 * and webhooks join here as their modules land.
 */
import Koa from "koa";
import Router from "@koa/router";
import { randomUUID } from "node:crypto";
import type { Services } from "./services.ts";
import type { Logger } from "./logger.ts";
import { createExchangeYoga, type GraphQLLimits } from "./graphql/yoga.ts";
import { registerAuditRoutes } from "./audit/http.ts";
import { registerStripeWebhookRoute } from "./billing/http.ts";
import { datasetUploadRoute } from "./datasets/http/upload-route.ts";

export interface AppOptions {
  services: Services;
  log: Logger;
  graphiql: boolean;
  production: boolean;
  limits: GraphQLLimits;
  /** When set, /metrics requires `Authorization: Bearer <token>`. */
  metricsToken?: string | null;
}

export function createApp(options: AppOptions): Koa {
  const { services, log } = options;
  const app = new Koa({ proxy: false });
  const router = new Router();
  const yoga = createExchangeYoga(options);

  app.use(async (ctx, next) => {
    const given = ctx.get("x-request-id");
    const requestId = /^[A-Za-z0-9_.-]{8,64}$/.test(given) ? given : randomUUID();
    ctx.state.requestId = requestId;
    ctx.set("x-request-id", requestId);
    const started = performance.now();
    try {
      await next();
    } finally {
      const route = (ctx as unknown as { _matchedRoute?: string })._matchedRoute ?? "unmatched";
      services.metrics.httpDuration.observe(
        { method: ctx.method, route: String(route), status: String(ctx.status) },
        (performance.now() - started) / 1000,
      );
      log.info(
        {
          requestId,
          method: ctx.method,
          path: ctx.path,
          status: ctx.status,
          ms: Math.round((performance.now() - started) * 10) / 10,
          key: ctx.state.keyPrefix ?? null,
        },
        "request",
      );
    }
  });

  router.get("/health", (ctx) => {
    ctx.body = { status: "ok" };
  });

  router.get("/ready", async (ctx) => {
    try {
      await services.store.ping();
      ctx.body = { ready: true, store: services.store.kind, blobs: services.blobs.kind };
    } catch (e) {
      log.warn({ err: e }, "readiness check failed");
      ctx.status = 503;
      ctx.body = { ready: false, reason: "document store is not answering" };
    }
  });

  router.get("/metrics", async (ctx) => {
    if (options.metricsToken && ctx.get("authorization") !== `Bearer ${options.metricsToken}`) {
      ctx.status = 401;
      ctx.body = { error: "metrics need Authorization: Bearer <METRICS_TOKEN>" };
      return;
    }
    ctx.type = services.metrics.registry.contentType;
    ctx.body = await services.metrics.registry.metrics();
  });

  // Audit log: checkpoints, verifier key, witness cosignatures, regulator exports.
  registerAuditRoutes(router, services);

  // Stripe webhooks: reads the raw body itself (signature check), so no body parser may run before it.
  registerStripeWebhookRoute(router, services);

  // Streaming dataset upload: reads the raw body itself, so no body parser may run before it.
  router.put("/datasets/:id/versions", datasetUploadRoute({ services, log }));

  router.all("/graphql", async (ctx) => {
    const response = await yoga.handleNodeRequestAndResponse(ctx.req, ctx.res, { koa: ctx });
    ctx.status = response.status;
    response.headers.forEach((value, key) => ctx.append(key, value));
    ctx.body = response.body;
  });

  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
