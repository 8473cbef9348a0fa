/**
 * Crashes nobody chose: 50 concurrent clients run distinct paid queries (each with its own
 * idempotency key, retried once with the same key after a failure) against the real service, which
 * is killed with SIGKILL at a random moment, restarted on the same data, and killed again, three
 * times. After a last recovery, the crash harness's checks must hold for every run: released or
 * failed, no locked credit, a balanced ledger that agrees with the log, every readable answer
 * charged and logged, the log verifying offline.
 */
import { randomInt } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkStoredState, demoOf, gql, recoverAndExport, start, type Child, type Demo } from "../support/crash-harness.ts";

const CLIENTS = 50;
const KILLS = 3;

const RUN = `mutation ($l: ID!, $k: String!, $e: Epsilon!, $g: [String!]) {
  runQuery(input: { query: { listingId: $l, groupBy: $g, aggregates: [{ kind: COUNT_ROWS }], epsilon: $e }, idempotencyKey: $k }) {
    __typename ... on DomainError { code } } }`;

describe("50 clients, random kills", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it(`after ${KILLS} random SIGKILLs under load every run is released or refunded, balanced and logged`, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "crash-random-"));
    dirs.push(dataDir);
    const env = { DATA_DIR: dataDir, SEED_DEMO: "false" };
    let child: Child = await start({ DATA_DIR: dataDir, SEED_DEMO: "true" });
    const demo: Demo = await demoOf(child.url, dataDir);
    const buyerId = (await gql(child.url, demo.keys.BUYER!, "{ viewer { id } }")).data.viewer.id;
    const grant = await gql(
      child.url,
      demo.keys.ADMIN!,
      `mutation ($a: ID!) { grantCredit(input: { accountId: $a, amount: 5000000, idempotencyKey: "random-kills" }) { __typename } }`,
      {
        a: buyerId,
      },
    );
    expect(grant.data.grantCredit.__typename).toBe("MutationGrantCreditSuccess");

    let next = 0;
    const outcomes = { ok: 0, failed: 0, retriedOk: 0 };
    for (let cycle = 0; cycle < KILLS; cycle++) {
      let stopped = false;
      const url = child.url;
      const client = async () => {
        while (!stopped) {
          const k = next++;
          // Distinct queries (never a cache hit): ε 0.001000, 0.001001, … and two groupings.
          const vars = { l: demo.listingId, k: `random-${k}`, e: (0.001 + k * 1e-6).toFixed(6), g: k % 2 ? ["pickup_district"] : ["hour"] };
          try {
            const r = await gql(url, demo.keys.BUYER!, RUN, vars);
            if (r.data?.runQuery.__typename === "MutationRunQuerySuccess") outcomes.ok++;
            else outcomes.failed++;
          } catch {
            outcomes.failed++; // the process died under this request
            return;
          }
        }
      };
      const loops = Array.from({ length: CLIENTS }, client);
      await new Promise((r) => setTimeout(r, randomInt(1_000, 3_000)));
      child.proc.kill("SIGKILL");
      stopped = true;
      await Promise.all(loops);
      await child.exited;
      child = await start(env);
      // A client retries its interrupted run with the same key: an answer, or a clear refusal, never a second charge.
      const retry = await gql(child.url, demo.keys.BUYER!, RUN, {
        l: demo.listingId,
        k: `random-${next - 1}`,
        e: (0.001 + (next - 1) * 1e-6).toFixed(6),
        g: (next - 1) % 2 ? ["pickup_district"] : ["hour"],
      });
      if (retry.data?.runQuery.__typename === "MutationRunQuerySuccess") outcomes.retriedOk++;
    }
    child.proc.kill("SIGKILL");
    await child.exited;
    console.log(
      `[random kills] ${next} runs started: ${outcomes.ok} answered, ${outcomes.failed} interrupted or refused, ${outcomes.retriedOk} answered on retry`,
    );
    expect(outcomes.ok).toBeGreaterThan(0);
    expect(outcomes.failed).toBeGreaterThan(0);

    const exported = await recoverAndExport(env, demo);
    await checkStoredState({ dataDir, mongo: null }, exported, ({ runs }) => {
      const mine = runs.filter((r: { _id: string }) => r._id.startsWith("qry_"));
      expect(mine.length).toBeGreaterThan(0);
      expect(runs.filter((r: { state: string }) => r.state === "released").length).toBeGreaterThanOrEqual(outcomes.ok);
    });
  }, 240_000);
});
