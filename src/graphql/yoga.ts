/** graphql-yoga over our schema: resolves the caller from the bearer credential for each request. */
import { createYoga, type YogaServerInstance } from "graphql-yoga";
import { GraphQLError } from "graphql";
import type { Context as KoaContext } from "koa";
import type { Services } from "../services.ts";
import type { Logger } from "../logger.ts";
import { Unauthenticated } from "../accounts/errors.ts";
import type { GraphQLContext } from "./context.ts";
import { buildSchema } from "./schema.ts";

export interface YogaServerContext {
  koa: KoaContext;
}

export type ExchangeYoga = YogaServerInstance<YogaServerContext, GraphQLContext>;

export function createExchangeYoga(options: {
  services: Services;
  log: Logger;
  graphiql: boolean;
  production: boolean;
}): ExchangeYoga {
  const { services, log } = options;
  return createYoga<YogaServerContext, GraphQLContext>({
    schema: buildSchema(),
    graphqlEndpoint: "/graphql",
    graphiql: options.graphiql ? { title: "Data exchange — GraphQL" } : false,
    landingPage: false,
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
      const header = request.headers.get("authorization");
      if (!header) return { services, principal: null, requestId, log: reqLog, signedInNow: new Set() };
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (!match) throw unauthenticated("Authorization header must be `Bearer <API key or session token>`");
      try {
        const principal = await services.accounts.authenticate(match[1]!);
        koa.state.keyPrefix = principal.keyPrefix ?? "session";
        koa.state.accountId = principal.account._id;
        return { services, principal, requestId, log: reqLog, signedInNow: new Set() };
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
