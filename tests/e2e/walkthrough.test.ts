/** Runs examples/walkthrough.ts against the real server: the four users' journey over public HTTP only. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { availableAdapters, startTestExchange, type TestExchange } from "../support/exchange.ts";
import { runWalkthrough } from "../../examples/walkthrough.ts";

describe.each(availableAdapters())("the walk-through on %s", (adapter) => {
  let ex: TestExchange;
  let adminKey: string;
  beforeAll(async () => {
    ex = await startTestExchange(adapter, { PLATFORM_FEE_BPS: "1000" });
    // The one out-of-band step: an admin exists (the demo seed makes one and prints its key).
    const admin = await ex.services.accounts.createAccount("admin@walkthrough.test", "Correct-Horse-42", ["ADMIN"]);
    adminKey = (await ex.services.accounts.createApiKey(admin._id, "walkthrough")).secret;
  });
  afterAll(async () => {
    await ex?.stop();
  });

  it("owner publishes, buyer finds, requests, is approved, pays, queries and runs approved code, owner is paid, regulator verifies", async () => {
    const said: string[] = [];
    const result = await runWalkthrough(ex.url, adminKey, (l) => said.push(l));
    expect(result.answerGroups).toBe(3);
    expect(result.charged).toEqual({ amount: 15_000, currency: "cny" });
    expect(result.analysis.outputs.map((o) => o.name)).toEqual(["trips", "fares"]);
    expect(result.analysis.charged).toEqual({ amount: 15_000, currency: "cny" });
    expect(result.payout.amount).toBeGreaterThan(0);
    expect(result.verified).toBe(true);
    // Both charges are trades in the regulator's report, and the platform's 10 % stayed with the platform.
    expect(result.trades).toEqual({ count: 2, amountMinor: 30_000, platformFeeMinor: 3_000, payoutsMinor: result.payout.amount });
    expect(result.reconciled).toEqual({ balanced: true, logAgrees: true });
    expect(result.earned).toBe(27_000);
    expect(result.auditEntries).toBeGreaterThan(10);
    expect(said.some((l) => /verified them offline: OK/.test(l))).toBe(true);
    expect(said.some((l) => /reconciliation: balanced, ledger and log agree/.test(l))).toBe(true);
  });
});
