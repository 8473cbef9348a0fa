/**
 * graphql-yoga over our schema, built from small plugins: armor (depth, aliases, tokens,
 * directives), connection-aware cost limits with per-caller leaky buckets, CSRF prevention for
 * multipart, introspection off in production. Resolves the caller from the bearer credential.
 */
import { createYoga, type Plugin, type YogaServerInstance } from "graphql-yoga";
import { useCSRFPrevention } from "@graphql-yoga/plugin-csrf-prevention";
import { GraphQLError } from "graphql";
import type { Context as KoaContext } from "koa";
import type { Services } from "../services.ts";
import type { Logger } from "../logger.ts";
import { Unauthenticated } from "../accounts/errors.ts";
import type { GraphQLContext } from "./context.ts";
import { buildSchema } from "./schema.ts";
import { useArmor } from "./plugins/armor.ts";
import { useCostLimits } from "./plugins/cost-limits.ts";
import { useNoIntrospection } from "./plugins/introspection.ts";
import { useOperationMetrics } from "./plugins/metrics.ts";
import { LeakyBuckets } from "./rate-limit.ts";
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
    context: async ({ request, koa }) => {
      const requestId = String(koa.state.requestId ?? "");
      const reqLog = log.child({ requestId });
      const base = { services, requestId, log: reqLog, signedInNow: new Set<string>() };
      const header = request.headers.get("authorization");
      if (!header) return { ...base, principal: null, rateKey: `ip:${koa.ip}` };
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (!match) throw unauthenticated("Authorization header must be `Bearer <API key or session token>`");
      try {
        const principal = await services.accounts.authenticate(match[1]!);
        koa.state.keyPrefix = principal.keyPrefix ?? "session";
        koa.state.accountId = principal.account._id;
        return { ...base, principal, rateKey: `${principal.via}:${principal.credentialId}` };
      } catch (e) {
        if (e instanceof Unauthenticated) throw unauthenticated(e.message);
        throw e;
      }
    },
  });
}

function unauthenticated(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: "UNAUTHENTICATED", http: { status: 401 } } });
}
