/**
 * Signed notes against the golang.org/x/mod/sumdb/note reference vector (the PeterNeumann key)
 * and C2SP tlog-checkpoint / tlog-cosignature round trips.
 */
import { describe, expect, it } from "vitest";
import { createPrivateKey, generateKeyPairSync } from "node:crypto";
import {
  cosignatureLine,
  formatCheckpointText,
  openNote,
  parseCheckpointText,
  parseNote,
  parseVerifierKey,
  signNote,
  verifierKeyString,
  verifyCosignature,
  COSIGNATURE_V1,
} from "../../../src/audit/signed-note.ts";

// golang.org/x/mod/sumdb/note: PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz
const PETER_SEED = Buffer.from("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", "base64").subarray(1);
const PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const PETER_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_NOTE = PETER_TEXT + "\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

function keyFromSeed(seed: Buffer) {
  return createPrivateKey({ key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]), format: "der", type: "pkcs8" });
}

describe("C2SP signed notes", () => {
  it("reproduces the Go sumdb/note reference signature byte for byte, and verifies it", () => {
    const key = keyFromSeed(PETER_SEED);
    expect(verifierKeyString("PeterNeumann", key)).toBe(PETER_VKEY);
    expect(signNote(PETER_TEXT, "PeterNeumann", key)).toBe(PETER_NOTE);
    expect(openNote(PETER_NOTE, parseVerifierKey(PETER_VKEY))).toBe(PETER_TEXT);
    expect(() => openNote(PETER_NOTE.replace("cryptography", "cryptographY"), parseVerifierKey(PETER_VKEY))).toThrow(/does not verify/);
  });

  it("rejects mangled verifier keys", () => {
    expect(() => parseVerifierKey(PETER_VKEY.replace("c74f20a3", "c74f20a4"))).toThrow(/key id/);
    expect(() => parseVerifierKey("PeterNeumann+c74f20a3")).toThrow();
    expect(() => parseVerifierKey(PETER_VKEY.slice(0, -2))).toThrow();
  });

  it("round-trips a checkpoint and refuses one signed by another key", () => {
    const { privateKey } = generateKeyPairSync("ed25519");
    const other = generateKeyPairSync("ed25519").privateKey;
    const root = Buffer.alloc(32, 7);
    const text = formatCheckpointText({ origin: "example.com/log", size: 42, root, extensions: [] });
    expect(text).toBe(`example.com/log\n42\n${root.toString("base64")}\n`);
    const note = signNote(text, "example.com/log", privateKey);
    const vkey = parseVerifierKey(verifierKeyString("example.com/log", privateKey));
    const opened = parseCheckpointText(openNote(note, vkey));
    expect(opened).toEqual({ origin: "example.com/log", size: 42, root, extensions: [] });
    const forged = signNote(text, "example.com/log", other);
    expect(() => openNote(forged, vkey)).toThrow(/not signed by|does not verify/);
    expect(() => parseCheckpointText("example.com/log\n-1\nAAAA\n")).toThrow(/tree size/);
  });

  it("checks witness cosignatures (tlog-cosignature/v1)", () => {
    const witness = generateKeyPairSync("ed25519").privateKey;
    const text = formatCheckpointText({ origin: "example.com/log", size: 3, root: Buffer.alloc(32, 1), extensions: [] });
    const line = cosignatureLine(text, "witness.example", witness, 1_700_000_000);
    const [sig] = parseNote(text + "\n" + line).signatures;
    const wkey = parseVerifierKey(verifierKeyString("witness.example", witness, COSIGNATURE_V1));
    expect(verifyCosignature(text, sig!, wkey)).toBe(1_700_000_000);
    expect(() => verifyCosignature(text.replace("3", "4"), sig!, wkey)).toThrow(/does not verify/);
  });
});
