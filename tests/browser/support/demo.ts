/**
 * A real exchange on SQLite (the default store) with the demo seed — accounts with passwords,
 * datasets, published listings, the buyer's access and credit — for the browser tests to sign in to.
 */
import { seedDemo, type DemoCredential } from "../../../seed/demo.ts";
import { startTestExchange, type TestExchange } from "../../support/exchange.ts";

export interface DemoExchange {
  exchange: TestExchange;
  login(role: DemoCredential["role"]): DemoCredential;
}

/** `env` adds configuration, e.g. PROFILE_AT_PUBLISH for the owner's test of bounds chosen at publication. */
export async function startDemoExchange(env: Record<string, string> = {}): Promise<DemoExchange> {
  const exchange = await startTestExchange("sqlite", env);
  const credentials = await seedDemo(exchange.services, { dataDir: exchange.config.dataDir, production: false, print: () => undefined });
  if (!credentials) throw new Error("the demo seed found a non-empty store");
  return {
    exchange,
    login(role) {
      const c = credentials.find((x) => x.role === role);
      if (!c) throw new Error(`no demo account for ${role}`);
      return c;
    },
  };
}
