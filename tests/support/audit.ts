/** Opens an AuditLog on a test store with a fresh Ed25519 key. */
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import type { DocumentStore } from "../../src/store/port.ts";
import { AuditLog } from "../../src/audit/service.ts";

export const TEST_ORIGIN = "test.exchange/audit";

export function newSigningKey(): KeyObject {
  return generateKeyPairSync("ed25519").privateKey;
}

export function openTestAuditLog(
  store: DocumentStore,
  options: { key?: KeyObject; now?: () => Date; checkpointEveryMs?: number; syncInBackground?: boolean } = {},
): Promise<AuditLog> {
  return AuditLog.open(store, {
    origin: TEST_ORIGIN,
    signingKey: options.key ?? newSigningKey(),
    ...(options.now ? { now: options.now } : {}),
    checkpointEveryMs: options.checkpointEveryMs ?? 0,
    syncInBackground: options.syncInBackground ?? true,
  });
}
