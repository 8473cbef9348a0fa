/**
 * A running exchange, built in one place and stopped by one `close()`:
 *
 *   const exchange = await startExchange(config, log);   // stores, services, sweepers, HTTP
 *   …
 *   await exchange.close();                               // or `await using exchange = …`
 *
 * `openExchange` is the same without HTTP (the seed command, workers, benches). Whatever either
 * started is stopped in reverse order: HTTP (draining requests), sweepers, the sandbox's worker
 * processes, the audit log's background work, then the stores. A closed exchange refuses new
 * work with `ExchangeClosed` (HTTP: 503 SHUTTING_DOWN while it drains).
 *
 * Only entry points (src/main.ts, seed/, bench/, tests) import this folder.
 */
import type { Config } from "../config.ts";
import type { Logger } from "../logger.ts";
import { openStores } from "../store/open.ts";
import { createApp } from "../server/app.ts";
import { buildServices, type Services } from "./services.ts";
import { Lifecycle } from "./lifecycle.ts";
import { listen } from "./http-server.ts";

export { ExchangeClosed } from "./lifecycle.ts";
export type { Services } from "./services.ts";

export interface OpenExchange extends AsyncDisposable {
  services: Services;
  /** True once close() began. */
  readonly closed: boolean;
  close(): Promise<void>;
}

export interface RunningExchange extends OpenExchange {
  url: string;
}

export interface StartOptions {
  /** Runs after the services exist and before the port opens (the demo seed uses it). */
  beforeListen?: (services: Services) => Promise<void>;
}

/** Opens the stores and builds every service; no HTTP. */
export async function openExchange(config: Config, log?: Logger): Promise<OpenExchange> {
  const lifecycle = new Lifecycle();
  const onError = (name: string, e: unknown) => log?.error({ err: e, part: name }, "a part failed to stop");
  try {
    const { store, blobs } = await openStores(config);
    lifecycle.onClose("stores", () => Promise.allSettled([store.close(), blobs.close()]));
    const services = await buildServices({ store, blobs }, config, lifecycle, log);
    const close = () => lifecycle.close(onError);
    return {
      services,
      get closed() {
        return lifecycle.closed;
      },
      close,
      [Symbol.asyncDispose]: close,
    };
  } catch (e) {
    await lifecycle.close(onError);
    throw e;
  }
}

/** Opens the exchange and serves it over HTTP on config.host:config.port. */
export async function startExchange(config: Config, log: Logger, options: StartOptions = {}): Promise<RunningExchange> {
  const exchange = await openExchange(config, log);
  try {
    await options.beforeListen?.(exchange.services);
    const app = createApp({
      services: exchange.services,
      log,
      graphiql: config.graphiql,
      production: config.env === "production",
      limits: { introspection: config.introspection, maxCost: config.graphqlMaxCost, rateLimit: config.rateLimit },
      metricsToken: config.metricsToken,
      closing: () => exchange.closed,
    });
    const http = await listen(app, config, log);
    // HTTP stops first (after the services' own parts, which registered earlier, in reverse).
    let closing: Promise<void> | null = null;
    const close = () => (closing ??= http.close().finally(() => exchange.close()));
    return {
      url: http.url,
      services: exchange.services,
      get closed() {
        return closing !== null;
      },
      close,
      [Symbol.asyncDispose]: close,
    };
  } catch (e) {
    await exchange.close();
    throw e;
  }
}
