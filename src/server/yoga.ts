/**
 * graphql-yoga over our schema, built from small plugins: armor (depth, aliases, tokens,
 * directives), connection-aware cost limits with per-caller leaky buckets, CSRF prevention for
 * multipart, introspection off in production. Resolves the caller from the bearer credential.
 */
import { createYoga, type Plugin, type YogaServerInstance } from "graphql-yoga";
import { useCSRFPrevention } from "@graphql-yoga/plugin-csrf-prevention";
import { GraphQLError } from "graphql";
import type { Context as KoaContext } from "koa";
import type { ExchangeServices as Services } from "../graphql/context.ts";
import type { Logger } from "../logger.ts";
import type { ViewerState } from "../http/viewer.ts";
import type { GraphQLContext } from "../graphql/context.ts";
import { buildSchema } from "./schema.ts";
import { useArmor } from "../graphql/plugins/armor.ts";
import { useCostLimits } from "../graphql/plugins/cost-limits.ts";
import { useNoIntrospection } from "../graphql/plugins/introspection.ts";
import { useOperationMetrics } from "../graphql/plugins/metrics.ts";
import { useErrorCodes } from "../graphql/plugins/error-codes.ts";
import { useTextInputGuard } from "../graphql/plugins/text-input.ts";
import { LeakyBuckets } from "../graphql/rate-limit.ts";
import { useUploadLimits } from "../datasets/graphql/upload-limits.ts";

export interface YogaServerContext {
  koa: KoaContext;
}

export type ExchangeYoga = YogaServerInstance<YogaServerContext, GraphQLContext>;

export interface GraphQLLimits {
  introspection: boolean;
  maxCost: number;
  rateLimit: { capacity: number; perSecond: number };
}

/**
 * Header a browser cannot send cross-site without a preflight. Requests a browser may send
 * without one (GET, multipart, form posts) must carry it, or an Authorization header, which
 * forces a preflight too.
 */
export const CSRF_HEADER = "x-exchange-csrf";

export function createExchangeYoga(options: {
  services: Services;
  log: Logger;
  graphiql: boolean;
  production: boolean;
  limits: GraphQLLimits;
}): ExchangeYoga {
  const { services, log, limits } = options;
  const buckets = new LeakyBuckets({ capacity: limits.rateLimit.capacity, drainPerSecond: limits.rateLimit.perSecond });
  const plugins: Plugin[] = [
    useOperationMetrics(services.metrics),
    useArmor(options.production),
    useCSRFPrevention({ requestHeaders: [CSRF_HEADER, "authorization"] }) as Plugin,
    useCostLimits({ maxCost: limits.maxCost, buckets }) as Plugin,
    useUploadLimits(),
    useTextInputGuard(),
    useErrorCodes(),
  ];
  if (!limits.introspection) plugins.push(useNoIntrospection());

  return createYoga<YogaServerContext, GraphQLContext>({
    schema: buildSchema(),
    graphqlEndpoint: "/graphql",
    graphiql: options.graphiql ? { title: "Data exchange — GraphQL" } : false,
    landingPage: false,
    plugins,
    // Unexpected faults are masked; their detail goes to the log only (with the request id).
    maskedErrors: { isDev: !options.production },
    logging: {
      debug: (...args) => log.debug({ yoga: args.map(String) }, "yoga"),
      info: (...args) => log.info({ yoga: args.map(String) }, "yoga"),
      warn: (...args) => log.warn({ yoga: args.map(String) }, "yoga"),
      error: (...args) => log.error({ yoga: args.map(String) }, "yoga"),
    },
    // The caller was resolved once by the HTTP edge (src/http/viewer.ts); a bad credential is a 401 here too.
    context: async ({ koa }) => {
      const requestId = String(koa.state.requestId ?? "");
      const { viewer, credentialError } = koa.state as ViewerState;
      if (credentialError) throw unauthenticated(credentialError);
      return {
        services,
        requestId,
        log: log.child({ requestId }),
        signedInNow: new Set<string>(),
        principal: viewer,
        rateKey: viewer ? `${viewer.via}:${viewer.credentialId}` : `ip:${koa.ip}`,
      };
    },
  });
}

function unauthenticated(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: "UNAUTHENTICATED", http: { status: 401 } } });
}
