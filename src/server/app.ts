/**
 * The Koa app: the HTTP edge's middleware (request ids and access logs, one error body, the
 * caller resolved once), then the routes — /health, /ready, /metrics, /graphql, the audit
 * files, the Stripe webhook and the streaming dataset upload — and the built web console at `/`
 * (with GraphiQL from bundled assets at GET /graphql for browsers).
 */
import Koa from "koa";
import Router from "@koa/router";
import { randomUUID } from "node:crypto";
import type { Logger } from "../logger.ts";
import type { ExchangeServices as Services } from "../graphql/context.ts";
import { errorBodies, errorBody, HttpError, requireContentType } from "../http/errors.ts";
import { resolveViewer } from "../http/viewer.ts";
import { registerAuditRoutes } from "../audit/http.ts";
import { registerStripeWebhookRoute } from "../billing/http.ts";
import { datasetUploadRoute } from "../datasets/http/upload-route.ts";
import { createExchangeYoga, type GraphQLLimits } from "./yoga.ts";
import { loadConsoleAssets, serveConsole } from "./console-assets.ts";

export interface AppOptions {
  services: Services;
  log: Logger;
  graphiql: boolean;
  production: boolean;
  limits: GraphQLLimits;
  /** When set, /metrics requires `Authorization: Bearer <token>`. */
  metricsToken?: string | null;
  /** True once the exchange is closing: new requests get 503. */
  closing?: () => boolean;
}

/** What a POST to /graphql may carry (GraphQL over HTTP, and the multipart upload spec). */
const GRAPHQL_BODY_TYPES = ["application/json", "application/graphql-response+json", "multipart/form-data"] as const;

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
  app.use(errorBodies(log));
  app.use(async (ctx, next) => {
    if (options.closing?.()) throw new HttpError(503, "SHUTTING_DOWN", "the exchange is shutting down; retry on another instance or later");
    await next();
  });
  app.use(resolveViewer(services.accounts));
  // The console's files are public (sign-in happens in the page), and come before the API routes.
  app.use(serveConsole(loadConsoleAssets(), { graphiql: options.graphiql }));

  router.get("/health", (ctx) => {
    ctx.body = { status: "ok" };
  });

  router.get("/ready", async (ctx) => {
    const halted = services.audit.halted;
    if (halted) {
      ctx.status = 503;
      ctx.body = { ready: false, ...errorBody(ctx, "NOT_READY", `audit log integrity: ${halted}`) };
      return;
    }
    try {
      await services.store.ping();
      ctx.body = { ready: true, store: services.store.kind, blobs: services.blobs.kind };
    } catch (e) {
      log.warn({ err: e }, "readiness check failed");
      ctx.status = 503;
      ctx.body = { ready: false, ...errorBody(ctx, "NOT_READY", "document store is not answering") };
    }
  });

  router.get("/metrics", async (ctx) => {
    if (options.metricsToken && ctx.get("authorization") !== `Bearer ${options.metricsToken}`) {
      throw new HttpError(401, "UNAUTHENTICATED", "metrics need Authorization: Bearer <METRICS_TOKEN>");
    }
    ctx.type = services.metrics.registry.contentType;
    ctx.body = await services.metrics.registry.metrics();
  });

  // Audit log: checkpoints, verifier key, witness cosignatures, regulator exports.
  registerAuditRoutes(router, services.audit);

  // Stripe webhooks: reads the raw body itself (signature check), so no body parser may run before it.
  registerStripeWebhookRoute(router, services.billing);

  // Streaming dataset upload: reads the raw body itself, so no body parser may run before it.
  router.put("/datasets/:id/versions", datasetUploadRoute({ datasets: services.datasets, log }));

  const graphql: Koa.Middleware = async (ctx) => {
    if (ctx.method === "POST") requireContentType(ctx, GRAPHQL_BODY_TYPES);
    const response = await yoga.handleNodeRequestAndResponse(ctx.req, ctx.res, { koa: ctx });
    ctx.status = response.status;
    response.headers.forEach((value, key) => ctx.append(key, value));
    ctx.body = response.body;
  };
  router.get("/graphql", graphql);
  router.post("/graphql", graphql);

  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
