/** `npm run seed`: seeds the demo marketplace into the configured store if it is empty. */
import { ConfigError, loadConfig } from "../src/config.ts";
import { openStores } from "../src/store/open.ts";
import { createServices } from "../src/services.ts";
import { seedDemo } from "./demo.ts";

try {
  const config = loadConfig();
  const { store, blobs } = await openStores(config);
  try {
    const services = await createServices(store, blobs, config);
    const seeded = await seedDemo(services, { dataDir: config.dataDir, production: config.env === "production" });
    if (!seeded) console.log("store is not empty; nothing seeded (credentials from the first seed are in DATA_DIR/demo-credentials.json)");
  } finally {
    await Promise.allSettled([store.close(), blobs.close()]);
  }
} catch (e) {
  process.stderr.write(`seed: ${e instanceof ConfigError || e instanceof Error ? e.message : String(e)}\n`);
  process.exit(e instanceof ConfigError ? 2 : 1);
}
