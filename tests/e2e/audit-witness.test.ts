/**
 * Audit log configuration and witnesses over HTTP, on every adapter: a signing key given by
 * AUDIT_SIGNING_KEY_FILE, witness cosignatures accepted only from AUDIT_WITNESS_KEYS and then
 * served with the checkpoint, and bad configuration refused at start naming the variable.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { availableAdapters, startTestExchange, type TestExchange } from "../support/exchange.ts";
import { loadConfig } from "../../src/config.ts";
import {
  COSIGNATURE_V1,
  cosignatureLine,
  openNote,
  parseNote,
  parseVerifierKey,
  verifierKeyString,
  verifyCosignature,
} from "../../src/audit/signed-note.ts";

describe.each(availableAdapters())("audit witnesses and keys on %s", (adapter) => {
  const logKey = generateKeyPairSync("ed25519").privateKey;
  const witness = generateKeyPairSync("ed25519").privateKey;
  const stranger = generateKeyPairSync("ed25519").privateKey;
  const witnessVkey = verifierKeyString("witness.example/w1", witness, COSIGNATURE_V1);
  let dir: string;
  let ex: TestExchange;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "audit-witness-"));
    const keyFile = join(dir, "log.pem");
    await writeFile(keyFile, logKey.export({ format: "pem", type: "pkcs8" }).toString(), { mode: 0o600 });
    ex = await startTestExchange(adapter, {
      AUDIT_SIGNING_KEY_FILE: keyFile,
      AUDIT_ORIGIN: "exchange.example/audit",
      AUDIT_WITNESS_KEYS: witnessVkey,
    });
  });
  afterAll(async () => {
    await ex?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("signs with the configured key and origin", async () => {
    const vkey = (await (await fetch(`${ex.url}/audit/key`)).text()).trim();
    expect(vkey).toBe(verifierKeyString("exchange.example/audit", logKey));
    const note = await (await fetch(`${ex.url}/audit/checkpoint`)).text();
    expect(openNote(note, parseVerifierKey(vkey)).startsWith("exchange.example/audit\n")).toBe(true);
  });

  it("accepts a configured witness's cosignature, serves it with the checkpoint, and refuses strangers", async () => {
    await ex.services.accounts.signUp({ email: "w@example.com", password: "Correct-Horse-42" });
    const note = await (await fetch(`${ex.url}/audit/checkpoint`)).text();
    const text = parseNote(note).signatures.length === 1 ? note.slice(0, note.lastIndexOf("\n\n") + 1) : "";
    const time = Math.floor(Date.now() / 1000);
    const post = (body: string) => fetch(`${ex.url}/audit/cosignatures`, { method: "POST", body });

    const strangerRes = await post(note + cosignatureLine(text, "witness.example/w1", stranger, time));
    expect(strangerRes.status).toBe(400);
    const forged = await post(note.replace(/\n\d+\n/, "\n999\n") + cosignatureLine(text, "witness.example/w1", witness, time));
    expect(forged.status).toBe(400);
    expect(await forged.text()).toMatch(/not a checkpoint signed by this log/);

    const ok = await post(note + cosignatureLine(text, "witness.example/w1", witness, time));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ accepted: ["witness.example/w1"] });
    const size = text.split("\n")[1];
    const served = await (await fetch(`${ex.url}/audit/checkpoint?size=${size}`)).text();
    const sigs = parseNote(served).signatures;
    expect(sigs.map((s) => s.name)).toEqual(["exchange.example/audit", "witness.example/w1"]);
    expect(verifyCosignature(text, sigs[1]!, parseVerifierKey(witnessVkey))).toBe(time);
    expect((await fetch(`${ex.url}/audit/checkpoint?size=99999`)).status).toBe(404);
  });

  it("refuses, at start, a witness key that is not a cosignature key, naming the variable", () => {
    expect(() => loadConfig({ AUDIT_WITNESS_KEYS: verifierKeyString("w", witness) })).toThrow(
      /AUDIT_WITNESS_KEYS: key 1 \(w\) must be a cosignature\/v1 key/,
    );
    expect(() => loadConfig({ AUDIT_WITNESS_KEYS: "nonsense" })).toThrow(/AUDIT_WITNESS_KEYS: /);
    expect(() => loadConfig({ AUDIT_ORIGIN: "has space" })).toThrow(/AUDIT_ORIGIN: must be one word/);
  });
});
