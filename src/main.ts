/** Reads config, starts the exchange, and stops it cleanly on SIGINT/SIGTERM. Nothing else. */
import { ConfigError, loadConfig } from "./config.ts";
import { createLogger } from "./logger.ts";
import { startExchange } from "./exchange/index.ts";
import { seedDemo } from "../seed/demo.ts";

let config;
try {
  config = loadConfig();
} catch (e) {
  if (e instanceof ConfigError) {
    process.stderr.write(`data-exchange: ${e.message}\n`);
    process.exit(2);
  }
  throw e;
}

const log = createLogger(config.logLevel);
let exchange;
try {
  const cfg = config;
  exchange = await startExchange(cfg, log, {
    beforeListen: async (services) => {
      if (cfg.seedDemo) await seedDemo(services, { dataDir: cfg.dataDir, production: cfg.env === "production", log });
    },
  });
} catch (e) {
  log.fatal({ err: e }, "could not start");
  process.stderr.write(`data-exchange: could not start: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
const running = exchange;
log.info({ url: running.url, store: running.services.store.kind, graphql: `${running.url}/graphql` }, "data exchange listening");
process.stdout.write(`data-exchange listening on ${running.url}/graphql\n`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    log.info({ signal }, "shutting down");
    running.close().then(
      () => process.exit(0),
      (e) => {
        log.error({ err: e }, "shutdown failed");
        process.exit(1);
      },
    );
  });
}
