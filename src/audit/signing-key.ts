/**
 * The log's Ed25519 signing key: read from AUDIT_SIGNING_KEY_FILE when given, else kept in
 * DATA_DIR/audit-signing-key.pem and generated there (mode 0600) at first start.
 */
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { loadPrivateKey } from "./signed-note.ts";

export const DEFAULT_KEY_FILE = "audit-signing-key.pem";

export async function loadOrCreateSigningKey(options: { dataDir: string; keyFile: string | null }): Promise<KeyObject> {
  if (options.keyFile) {
    let pem: string;
    try {
      pem = await readFile(options.keyFile, "utf8");
    } catch (e) {
      throw new Error(`AUDIT_SIGNING_KEY_FILE: cannot read ${options.keyFile}: ${(e as Error).message}`);
    }
    return loadPrivateKey(pem);
  }
  const file = join(options.dataDir, DEFAULT_KEY_FILE);
  try {
    return loadPrivateKey(await readFile(file, "utf8"));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  await mkdir(options.dataDir, { recursive: true });
  const { privateKey } = generateKeyPairSync("ed25519");
  const pem = privateKey.export({ format: "pem", type: "pkcs8" }).toString();
  try {
    // "wx": if another process created it meanwhile, use theirs.
    await writeFile(file, pem, { mode: 0o600, flag: "wx" });
    return privateKey;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    return loadPrivateKey(await readFile(file, "utf8"));
  }
}
