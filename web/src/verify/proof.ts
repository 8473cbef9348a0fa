/**
 * Checks the audit log in the browser without trusting the server's word: the C2SP signed note
 * (Ed25519 via WebCrypto) against the verifier key the regulator pinned, and an RFC 9162 inclusion
 * proof of one entry against the signed root (leaf = SHA-256(0x00 ‖ entry), node = SHA-256(0x01 ‖ l ‖ r)).
 * The same formats as src/audit/signed-note.ts and scripts/verify-log.ts, re-implemented on WebCrypto.
 */
const enc = new TextEncoder();

function b64(s: string): Uint8Array {
  const bin = atob(s);
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function fromHex(s: string): Uint8Array {
  if (!/^([0-9a-f]{2})*$/.test(s)) throw new Error("not lower-case hex");
  return Uint8Array.from(s.match(/../g) ?? [], (h) => Number.parseInt(h, 16));
}

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

async function sha256(...parts: Uint8Array[]): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", concat(...parts)));
}

export interface VerifierKey {
  name: string;
  keyId: Uint8Array;
  key: Uint8Array;
}

/** `<name>+<8 hex key id>+<base64(0x01 ‖ 32-byte Ed25519 key)>`, with the key id checked. */
export async function parseVerifierKey(vkey: string): Promise<VerifierKey> {
  const m = /^([^+\s]+)\+([0-9a-f]{8})\+(\S+)$/.exec(vkey.trim());
  if (!m) throw new Error("a verifier key looks like <name>+<8 hex digits>+<base64 key>");
  const [, name, idHex, blob64] = m as unknown as [string, string, string, string];
  const blob = b64(blob64);
  if (blob.length !== 33 || blob[0] !== 0x01) throw new Error("the verifier key must be type 0x01 (Ed25519) with a 32-byte key");
  const id = (await sha256(enc.encode(`${name}\n`), blob)).slice(0, 4);
  if (hex(id) !== idHex) throw new Error("the verifier key id does not match its name and key");
  return { name, keyId: id, key: blob.slice(1) };
}

/** The note's signed text if a signature by `key` verifies (WebCrypto Ed25519); throws otherwise. */
export async function openNote(note: string, key: VerifierKey): Promise<string> {
  const split = note.lastIndexOf("\n\n");
  if (split < 0 || !note.endsWith("\n")) throw new Error("a signed note is text, a blank line, then signature lines");
  const text = note.slice(0, split + 1);
  const publicKey = await crypto.subtle.importKey("raw", concat(key.key), { name: "Ed25519" }, false, ["verify"]);
  for (const line of note.slice(split + 2, -1).split("\n")) {
    const m = /^— (\S+) ([A-Za-z0-9+/=]+)$/u.exec(line);
    if (!m || m[1] !== key.name) continue;
    const blob = b64(m[2]!);
    if (blob.length !== 68 || hex(blob.slice(0, 4)) !== hex(key.keyId)) continue;
    if (await crypto.subtle.verify({ name: "Ed25519" }, publicKey, concat(blob.slice(4)), enc.encode(text))) return text;
  }
  throw new Error(`no valid signature by ${key.name}: the checkpoint was altered or signed by another key`);
}

export interface Checkpoint {
  origin: string;
  size: number;
  root: Uint8Array;
}

export function parseCheckpoint(text: string): Checkpoint {
  const [origin, size, root] = text.split("\n");
  if (!origin || !size || !root || !/^(0|[1-9][0-9]*)$/.test(size)) throw new Error("a checkpoint is origin, tree size and root hash lines");
  const rootBytes = b64(root);
  if (rootBytes.length !== 32) throw new Error("the checkpoint root must be 32 bytes");
  return { origin, size: Number(size), root: rootBytes };
}

/** RFC 9162 §2.1.3.2: the root an inclusion proof leads to from leaf `index` of a tree of `size`. */
export async function rootFromInclusionProof(index: number, size: number, leaf: Uint8Array, proof: Uint8Array[]): Promise<Uint8Array> {
  if (index >= size) throw new Error("the entry is beyond the tree");
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) throw new Error("the proof is too long");
    if (fn % 2 === 1 || fn === sn) {
      r = await sha256(Uint8Array.of(1), p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else r = await sha256(Uint8Array.of(1), r, p);
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new Error("the proof is too short");
  return r;
}

export interface InclusionBundle {
  index: number;
  treeSize: number;
  entry: string;
  proof: readonly string[];
  note: string;
}

export interface VerifyResult {
  ok: boolean;
  reason: string | null;
  checkpoint: Checkpoint | null;
}

/** Verifies one entry end to end: signature, tree size, leaf hash, path to the signed root. */
export async function verifyInclusion(bundle: InclusionBundle, vkey: string): Promise<VerifyResult> {
  try {
    const key = await parseVerifierKey(vkey);
    const checkpoint = parseCheckpoint(await openNote(bundle.note, key));
    if (checkpoint.size !== bundle.treeSize) throw new Error(`the proof is for ${bundle.treeSize} entries, the checkpoint signs ${checkpoint.size}`);
    const leaf = await sha256(Uint8Array.of(0), enc.encode(bundle.entry));
    const root = await rootFromInclusionProof(bundle.index, bundle.treeSize, leaf, bundle.proof.map(fromHex));
    if (hex(root) !== hex(checkpoint.root)) throw new Error("the entry and proof do not lead to the signed root");
    return { ok: true, reason: null, checkpoint };
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.message : String(e), checkpoint: null };
  }
}
