/**
 * A running exchange: stores opened, services built, demo data seeded (outside production),
 * HTTP listening. close() stops accepting, lets in-flight requests finish (up to a deadline),
 * then closes the stores.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Config } from "./config.ts";
import type { Logger } from "./logger.ts";
import { createApp } from "./app.ts";
import { openStores } from "./store/open.ts";
import { createServices, type Services } from "./services.ts";

export interface RunningExchange {
  url: string;
  services: Services;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Runs after the services exist and before the port opens (the demo seed uses it). */
  beforeListen?: (services: Services) => Promise<void>;
}

export async function startExchange(config: Config, log: Logger, options: StartOptions = {}): Promise<RunningExchange> {
  const { store, blobs } = await openStores(config);
  let server: Server | null = null;
  try {
    const services = await createServices(store, blobs, config, log);
    await options.beforeListen?.(services);
    const app = createApp({
      services,
      log,
      graphiql: config.graphiql,
      production: config.env === "production",
      limits: { introspection: config.introspection, maxCost: config.graphqlMaxCost, rateLimit: config.rateLimit },
      metricsToken: config.metricsToken,
    });
    const httpServer = createServer(app.callback());
    // A streaming dataset upload (PUT /datasets/:id/versions) can take longer than Node's 5-minute
    // default for receiving a whole request; headersTimeout still bounds slow headers.
    httpServer.requestTimeout = 60 * 60_000;
    server = httpServer;
    await new Promise<void>((resolve, reject) => {
      httpServer.once("error", reject);
      httpServer.listen(config.port, config.host, () => resolve());
    });
    const { port } = httpServer.address() as AddressInfo;
    const url = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`;
    let closing: Promise<void> | null = null;
    return {
      url,
      services,
      close: () =>
        (closing ??= shutdown(httpServer, config.shutdownTimeoutMs, log)
          .finally(() => services.closeSandbox())
          .finally(() => services.audit.close()) // stop the audit log's background work before its store goes
          .finally(() => closeStores())),
    };
  } catch (e) {
    server?.close();
    await closeStores();
    throw e;
  }

  async function closeStores(): Promise<void> {
    await Promise.allSettled([store.close(), blobs.close()]);
  }
}

async function shutdown(server: Server, timeoutMs: number, log: Logger): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  // Keep-alive sockets become idle once their in-flight request ends; close them as they do.
  const sweep = setInterval(() => server.closeIdleConnections(), 50);
  const deadline = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), timeoutMs).unref());
  const outcome = await Promise.race([closed.then(() => "drained" as const), deadline]);
  clearInterval(sweep);
  if (outcome === "timeout") {
    log.warn({ timeoutMs }, "shutdown deadline passed; closing remaining connections");
    server.closeAllConnections();
    await closed;
  }
}
