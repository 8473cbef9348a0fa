/**
 * C2SP signed notes (https://c2sp.org/signed-note) with Ed25519, and the tlog-checkpoint body
 * (https://c2sp.org/tlog-checkpoint). Pure node:crypto; shared by the service and the verifier.
 *
 *   <origin>\n<tree size>\n<base64 root hash>\n      ← the note text (what is signed)
 *   \n
 *   — <key name> <base64(key id (4 bytes) ‖ Ed25519 signature (64 bytes))>\n
 *
 * Key id = first 4 bytes of SHA-256(key name ‖ "\n" ‖ 0x01 ‖ 32-byte public key). A verifier key
 * is written `<name>+<key id hex>+<base64(0x01 ‖ public key)>`.
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from "node:crypto";

const ED25519 = 0x01;
/** C2SP tlog-cosignature/v1 signature type. */
export const COSIGNATURE_V1 = 0x04;
const SPKI_ED25519_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

export interface Checkpoint {
  origin: string;
  size: number;
  /** 32-byte root hash. */
  root: Buffer;
  /** Extension lines (without newline), if any. */
  extensions: string[];
}

export interface NoteSignature {
  name: string;
  keyId: Buffer;
  signature: Buffer;
  /** The whole line, as it appeared. */
  line: string;
}

export interface ParsedNote {
  text: string;
  signatures: NoteSignature[];
}

export interface VerifierKey {
  name: string;
  keyId: Buffer;
  /** Signature type byte: 0x01 Ed25519 (notes), 0x04 cosignature/v1. */
  type: number;
  publicKey: KeyObject;
  raw: Buffer;
}

export function keyId(name: string, type: number, rawPublicKey: Buffer): Buffer {
  return createHash("sha256")
    .update(Buffer.from(`${name}\n`, "utf8"))
    .update(Buffer.from([type]))
    .update(rawPublicKey)
    .digest()
    .subarray(0, 4);
}

export function rawEd25519PublicKey(key: KeyObject): Buffer {
  const spki = (key.type === "private" ? createPublicKey(key) : key).export({ format: "der", type: "spki" });
  return Buffer.from(spki.subarray(spki.length - 32));
}

export function publicKeyFromRaw(raw: Buffer): KeyObject {
  if (raw.length !== 32) throw new Error("an Ed25519 public key is 32 bytes");
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: "der", type: "spki" });
}

export function assertKeyName(name: string): void {
  if (name.length === 0 || /[\s+]/u.test(name)) throw new Error(`key name ${JSON.stringify(name)} must be non-empty with no spaces or '+'`);
}

/** `<name>+<hex key id>+<base64(type ‖ key)>` for this Ed25519 key. */
export function verifierKeyString(name: string, key: KeyObject, type = ED25519): string {
  assertKeyName(name);
  const raw = rawEd25519PublicKey(key);
  return `${name}+${keyId(name, type, raw).toString("hex")}+${Buffer.concat([Buffer.from([type]), raw]).toString("base64")}`;
}

export function parseVerifierKey(vkey: string): VerifierKey {
  // The base64 key may itself contain '+': split at the first two only.
  const m = /^([^+\s]+)\+([^+]*)\+(\S+)$/.exec(vkey.trim());
  if (!m) throw new Error("a verifier key looks like <name>+<8 hex digits>+<base64 key>");
  const [, name, idHex, b64] = m as unknown as [string, string, string, string];
  assertKeyName(name);
  if (!/^[0-9a-f]{8}$/.test(idHex)) throw new Error("verifier key id must be 8 lower-case hex digits");
  const blob = Buffer.from(b64, "base64");
  if (blob.length !== 33 || blob.toString("base64") !== b64)
    throw new Error("verifier key must hold a type byte and a 32-byte Ed25519 key in base64");
  const type = blob[0]!;
  if (type !== ED25519 && type !== COSIGNATURE_V1) throw new Error(`unsupported verifier key type 0x${type.toString(16)}`);
  const raw = blob.subarray(1);
  const id = keyId(name, type, raw);
  if (id.toString("hex") !== idHex) throw new Error("verifier key id does not match its name and key");
  return { name, keyId: id, type, publicKey: publicKeyFromRaw(raw), raw };
}

export function formatCheckpointText(c: Checkpoint): string {
  if (!c.origin || c.origin.includes("\n")) throw new Error("checkpoint origin must be one non-empty line");
  if (c.root.length !== 32) throw new Error("checkpoint root must be 32 bytes");
  return [c.origin, String(c.size), c.root.toString("base64"), ...c.extensions].join("\n") + "\n";
}

export function parseCheckpointText(text: string): Checkpoint {
  if (!text.endsWith("\n")) throw new Error("checkpoint text must end with a newline");
  const lines = text.slice(0, -1).split("\n");
  if (lines.length < 3) throw new Error("checkpoint needs origin, tree size and root hash lines");
  const [origin, sizeLine, rootLine, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin === "") throw new Error("checkpoint origin line is empty");
  if (!/^(0|[1-9][0-9]*)$/.test(sizeLine) || !Number.isSafeInteger(Number(sizeLine))) {
    throw new Error(`checkpoint tree size ${JSON.stringify(sizeLine)} is not a decimal number`);
  }
  const root = Buffer.from(rootLine, "base64");
  if (root.length !== 32 || root.toString("base64") !== rootLine) throw new Error("checkpoint root hash must be 32 bytes in standard base64");
  if (extensions.some((l) => l === "")) throw new Error("checkpoint has an empty line inside its text");
  return { origin, size: Number(sizeLine), root, extensions };
}

/** Signs `text` (which must end with a newline) and returns the whole note. */
export function signNote(text: string, name: string, privateKey: KeyObject): string {
  return text + "\n" + signatureLine(text, name, privateKey);
}

export function signatureLine(message: string | Buffer, name: string, privateKey: KeyObject, type = ED25519): string {
  const raw = rawEd25519PublicKey(privateKey);
  const sig = sign(null, typeof message === "string" ? Buffer.from(message, "utf8") : message, privateKey);
  return `— ${name} ${Buffer.concat([keyId(name, type, raw), sig]).toString("base64")}\n`;
}

export function parseNote(note: string): ParsedNote {
  const split = note.lastIndexOf("\n\n");
  if (split < 0 || !note.endsWith("\n")) throw new Error("a signed note is text, a blank line, then signature lines");
  const text = note.slice(0, split + 1);
  const sigLines = note.slice(split + 2, -1).split("\n");
  const signatures: NoteSignature[] = [];
  for (const line of sigLines) {
    const m = /^— (\S+) ([A-Za-z0-9+/=]+)$/u.exec(line);
    if (!m) throw new Error(`malformed signature line ${JSON.stringify(line.slice(0, 120))}`);
    const blob = Buffer.from(m[2]!, "base64");
    if (blob.length < 5) throw new Error("signature line is too short");
    signatures.push({ name: m[1]!, keyId: blob.subarray(0, 4), signature: blob.subarray(4), line: line + "\n" });
  }
  if (signatures.length === 0) throw new Error("note has no signature");
  return { text, signatures };
}

/** The note's text if one of its signatures verifies under `key`; throws otherwise. */
export function openNote(note: string, key: VerifierKey): string {
  const parsed = parseNote(note);
  const mine = parsed.signatures.filter((s) => s.name === key.name && s.keyId.equals(key.keyId));
  if (mine.length === 0) throw new Error(`note is not signed by key ${key.name}+${key.keyId.toString("hex")}`);
  for (const s of mine) {
    if (s.signature.length === 64 && verify(null, Buffer.from(parsed.text, "utf8"), key.publicKey, s.signature)) return parsed.text;
  }
  throw new Error(`the signature by ${key.name} does not verify: the checkpoint was altered or signed by another key`);
}

/** C2SP tlog-cosignature/v1 message: "cosignature/v1\ntime <t>\n" followed by the checkpoint text. */
export function cosignatureMessage(checkpointText: string, time: number): Buffer {
  return Buffer.from(`cosignature/v1\ntime ${time}\n${checkpointText}`, "utf8");
}

/** Verifies a cosignature/v1 line over a checkpoint text; returns its timestamp. */
export function verifyCosignature(checkpointText: string, sig: NoteSignature, key: VerifierKey): number {
  if (key.type !== COSIGNATURE_V1) throw new Error(`key ${key.name} is not a cosignature/v1 key`);
  if (sig.name !== key.name || !sig.keyId.equals(key.keyId)) throw new Error("cosignature is by another key");
  if (sig.signature.length !== 72) throw new Error("a cosignature/v1 signature is an 8-byte time and 64 bytes of Ed25519");
  const time = Number(sig.signature.readBigUInt64BE(0));
  const ok = verify(null, cosignatureMessage(checkpointText, time), key.publicKey, sig.signature.subarray(8));
  if (!ok) throw new Error(`cosignature by ${key.name} does not verify`);
  return time;
}

/** A cosignature/v1 line (for witnesses and tests). */
export function cosignatureLine(checkpointText: string, name: string, privateKey: KeyObject, time: number): string {
  const raw = rawEd25519PublicKey(privateKey);
  const t = Buffer.alloc(8);
  t.writeBigUInt64BE(BigInt(time));
  const sig = sign(null, cosignatureMessage(checkpointText, time), privateKey);
  return `— ${name} ${Buffer.concat([keyId(name, COSIGNATURE_V1, raw), t, sig]).toString("base64")}\n`;
}

export function loadPrivateKey(pem: string): KeyObject {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== "ed25519") throw new Error(`the audit signing key must be Ed25519, not ${key.asymmetricKeyType}`);
  return key;
}
