/**
 * A crash between a module's write and its audit event is repaired at the next start, on every
 * store adapter: owed events are recorded (once), intents whose fact never happened are dropped
 * once old enough, and young ones wait (they may still be in flight in another process).
 */
import { afterAll, describe, expect, it } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { loadConfig } from "../../../src/config.ts";
import { createLogger } from "../../../src/logger.ts";
import { startExchange, type RunningExchange } from "../../../src/server.ts";
import type { MongoStore } from "../../../src/store/mongo.ts";
import { ACTIONS } from "../../../src/audit/actions.ts";
import { EmailTaken } from "../../../src/accounts/errors.ts";
import { availableAdapters } from "../../support/exchange.ts";

describe.each(availableAdapters())("audit drift repair on %s", (adapter) => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  async function configFor() {
    const dataDir = await mkdtemp(join(tmpdir(), "audit-drift-"));
    const env = {
      NODE_ENV: "test",
      PORT: "0",
      DATA_DIR: dataDir,
      SEED_DEMO: "false",
      LOG_LEVEL: "silent",
      ...(adapter === "mongodb"
        ? { MONGODB_URI: process.env.MONGODB_URI!, MONGODB_DB: `drift_${process.pid}_${randomBytes(4).toString("hex")}` }
        : {}),
    };
    return loadConfig(env);
  }

  async function start(config: ReturnType<typeof loadConfig>): Promise<RunningExchange> {
    return startExchange(config, createLogger("silent"));
  }

  it("records owed events at start, drops stale intents, keeps young ones, and never records twice", async () => {
    const config = await configFor();
    let ex = await start(config);
    cleanups.push(async () => {
      if (adapter === "mongodb") await (ex.services.store as MongoStore).db.dropDatabase().catch(() => undefined);
      await ex.close();
      await rm(config.dataDir, { recursive: true, force: true });
    });
    const store = ex.services.store;
    const intents = await store.collection<Record<string, unknown>>("audit_intents");
    const accounts = await store.collection<Record<string, unknown>>("accounts");
    const now = new Date();
    const old = new Date(now.getTime() - 10 * 60_000).toISOString();

    // 1. Crash after the fact, before the event: the account exists, only its intent says an event is owed.
    await intents.insert({
      _id: "account.signed_up:acc_crashed",
      actor: "acc_crashed",
      action: ACTIONS.accountSignedUp,
      subject: { accountId: "acc_crashed" },
      data: { roles: ["BUYER"] },
      createdAt: now.toISOString(),
    });
    await accounts.insert({ _id: "acc_crashed", email: "crashed@example.com", passwordHash: "x", roles: ["BUYER"], createdAt: now.toISOString() });
    // 2. Crash before the fact, long ago: nothing happened, nothing is owed.
    const staleId = "account.role_granted:acc_crashed:ADMIN:v2:acc_admin";
    await intents.insert({
      _id: staleId,
      actor: "acc_admin",
      action: ACTIONS.roleGranted,
      subject: { accountId: "acc_crashed" },
      data: { role: "ADMIN" },
      createdAt: old,
    });
    // 3. No fact yet, but young: may still be in flight elsewhere.
    await intents.insert({
      _id: "api_key.created:key_young",
      actor: "acc_crashed",
      action: ACTIONS.apiKeyCreated,
      subject: { accountId: "acc_crashed", apiKeyId: "key_young" },
      data: {},
      createdAt: now.toISOString(),
    });
    // 4. Crash after the event, before the intent was deleted: replaying must not log it twice.
    const { account } = await ex.services.accounts.signUp({ email: "ok@example.com", password: "Correct-Horse-42" });
    const recorded = await ex.services.audit.findByEventId(`account.signed_up:${account._id}`);
    expect(recorded).not.toBeNull();
    await intents.insert({
      _id: recorded!.eventId,
      actor: account._id,
      action: ACTIONS.accountSignedUp,
      subject: { accountId: account._id },
      data: { roles: ["BUYER"] },
      createdAt: old,
    });
    const sizeBefore = (await ex.services.audit.checkpoint()).size;

    await ex.close();
    ex = await start(config);

    const owed = await ex.services.audit.findByEventId("account.signed_up:acc_crashed");
    expect(owed).not.toBeNull();
    expect(JSON.parse(owed!.entry)).toMatchObject({ actor: "acc_crashed", action: ACTIONS.accountSignedUp, subject: { accountId: "acc_crashed" } });
    expect(await ex.services.audit.findByEventId(staleId)).toBeNull();
    expect((await ex.services.audit.findByEventId(recorded!.eventId))!.seq).toBe(recorded!.seq);
    expect((await ex.services.audit.checkpoint()).size).toBe(sizeBefore + 1);
    const left = await (await ex.services.store.collection<Record<string, unknown>>("audit_intents")).find({});
    expect(left.items.map((i) => i._id)).toEqual(["api_key.created:key_young"]);
  });

  it("a write that fails leaves no event and no intent behind", async () => {
    const config = await configFor();
    const ex = await start(config);
    cleanups.push(async () => {
      if (adapter === "mongodb") await (ex.services.store as MongoStore).db.dropDatabase().catch(() => undefined);
      await ex.close();
      await rm(config.dataDir, { recursive: true, force: true });
    });
    await ex.services.accounts.signUp({ email: "taken@example.com", password: "Correct-Horse-42" });
    const size = (await ex.services.audit.checkpoint()).size;
    await expect(ex.services.accounts.signUp({ email: "taken@example.com", password: "Correct-Horse-42" })).rejects.toBeInstanceOf(EmailTaken);
    expect((await ex.services.audit.checkpoint()).size).toBe(size);
    expect(await (await ex.services.store.collection("audit_intents")).count()).toBe(0);
  });
});
