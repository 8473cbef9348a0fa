/**
 * One lifecycle: the full exchange (stores, services, sweepers, HTTP server) started and closed
 * 20 times in one process leaves no handle behind, and a closed exchange refuses new work.
 * The sweepers' timers are ref'd on purpose, so a part that close() forgot shows up here.
 */
import { request } from "node:http";
import { describe, expect, it } from "vitest";
import { availableAdapters, startTestExchange } from "../support/exchange.ts";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createApp } from "../../src/server/app.ts";
import { createLogger } from "../../src/logger.ts";

/** A request on a fresh connection that is closed after the answer (no client keep-alive pool). */
function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers: { connection: "close", ...headers } }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

function handles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

async function settled(): Promise<void> {
  // Closed sockets and file handles are released on the next turns of the event loop.
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 20));
}

describe.each(availableAdapters())("the exchange's lifecycle on %s", (adapter) => {
  it("starts and closes 20 times and leaves the process's handles as it found them", async () => {
    // One warm-up round loads modules and lazily created globals; the baseline is taken after it.
    const warm = await startTestExchange(adapter);
    await warm.stop();
    await settled();
    const baseline = handles();
    for (let i = 0; i < 20; i++) {
      const ex = await startTestExchange(adapter);
      expect((await get(`${ex.url}/health`)).status).toBe(200);
      const signedUp = await ex.gql(`mutation { signUp(input: {email: "l${i}@life.test", password: "Correct-Horse-42-battery"}) { __typename } }`);
      expect(signedUp.body.errors).toBeUndefined();
      await ex.stop();
    }
    await settled();
    expect(handles()).toEqual(baseline);
  }, 240_000);

  it("refuses new work once closed, with a clear error, and close() is idempotent", async () => {
    const ex = await startTestExchange(adapter);
    const { services } = ex;
    await ex.close();
    expect(ex.closed).toBe(true);
    await ex.close();
    await expect(get(`${ex.url}/health`)).rejects.toThrow(/ECONNREFUSED/);
    // The services of a closed exchange refuse too: their store is closed.
    await expect(services.accounts.createAccount("late@life.test", "Correct-Horse-42-battery", ["BUYER"])).rejects.toThrow(
      /closed|not open|must be connected/i,
    );
    await ex.stop();
  });

  it("answers 503 SHUTTING_DOWN, in the one error body, to a request that arrives while it drains", async () => {
    const ex = await startTestExchange(adapter);
    const app = createApp({
      services: ex.services,
      log: createLogger("silent"),
      graphiql: false,
      production: false,
      limits: { introspection: false, maxCost: 1000, rateLimit: { capacity: 1000, perSecond: 100 } },
      closing: () => true,
    });
    const server = createServer(app.callback());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const r = await get(`http://127.0.0.1:${(server.address() as AddressInfo).port}/health`);
      expect(r.status).toBe(503);
      expect(JSON.parse(r.body)).toEqual({
        error: { code: "SHUTTING_DOWN", message: expect.stringMatching(/shutting down/), requestId: expect.any(String) },
      });
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await ex.stop();
    }
  });
});
