/** `npm run seed`: seeds the demo marketplace into the configured store if it is empty. */
import { ConfigError, loadConfig } from "../src/config.ts";
import { openExchange } from "../src/exchange/index.ts";
import { seedDemo } from "./demo.ts";

try {
  const config = loadConfig();
  await using exchange = await openExchange(config);
  const seeded = await seedDemo(exchange.services, { dataDir: config.dataDir, production: config.env === "production" });
  if (!seeded) console.log("store is not empty; nothing seeded (credentials from the first seed are in DATA_DIR/demo-credentials.json)");
} catch (e) {
  process.stderr.write(`seed: ${e instanceof ConfigError || e instanceof Error ? e.message : String(e)}\n`);
  process.exit(e instanceof ConfigError ? 2 : 1);
}
