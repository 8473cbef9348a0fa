/** Opens the audit log for a running exchange: its signing key (from config or DATA_DIR) and store. */
import type { Logger } from "../logger.ts";
import type { DocumentStore } from "../store/port.ts";
import { AuditLog } from "./service.ts";
import { loadOrCreateSigningKey } from "./signing-key.ts";

export async function openAuditLog(
  store: DocumentStore,
  config: { dataDir: string; audit: { origin: string; signingKeyFile: string | null; witnessKeys: string[] } },
  log?: Logger,
): Promise<AuditLog> {
  const signingKey = await loadOrCreateSigningKey({ dataDir: config.dataDir, keyFile: config.audit.signingKeyFile });
  return AuditLog.open(store, {
    origin: config.audit.origin,
    signingKey,
    witnessKeys: config.audit.witnessKeys,
    ...(log ? { log } : {}),
  });
}
