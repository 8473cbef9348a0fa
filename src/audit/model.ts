/**
 * What the audit module stores. The log's truth is each entry's canonical JSON text (`entry`):
 * leaf i of the Merkle tree is SHA-256(0x00 ‖ entry_i). The other fields of an entry document are
 * copies for searching; the text wins wherever they could disagree.
 */
import type { IndexSpec, JsonValue } from "../store/port.ts";

/** The event as it is hashed (its canonical JSON is the Merkle leaf's content). */
export interface AuditEntry {
  /** Entry format version. */
  v: 1;
  /** Position in the log, 0-based, gap-free: the Merkle leaf index. */
  seq: number;
  /** Unique per event; deterministic when the writer wants replays to be idempotent. */
  eventId: string;
  time: string;
  actor: string;
  action: string;
  subject: Record<string, string>;
  data: Record<string, JsonValue>;
}

/** `_id` is the zero-padded seq, so the insert that claims a position is the atomic step. */
export interface AuditEntryDoc {
  seq: number;
  eventId: string;
  time: string;
  actor: string;
  action: string;
  subject: Record<string, string>;
  /** The subject's ids, for `$contains` search by any id. */
  subjectIds: string[];
  /** Canonical JSON of the AuditEntry: exactly the bytes hashed into the leaf. */
  entry: string;
  /** Hex SHA-256(0x00 ‖ entry), recorded at append time. */
  leafHash: string;
}

/**
 * A complete (perfect) subtree's root. Only every 4th level is kept (levels 4, 8, 12…): any other
 * subtree is at most 8 stored nodes (or leaves) away, so proofs stay cheap and storage is ~N/15.
 */
export interface AuditNodeDoc {
  level: number;
  index: number;
  hash: string;
}

/** The tree head so far: the compact range (roots of the perfect subtrees, left to right). */
export interface AuditTreeDoc {
  size: number;
  frontier: string[];
  root: string;
  updatedAt: string;
}

export interface AuditCheckpointDoc {
  size: number;
  root: string;
  /** The full signed note (C2SP tlog-checkpoint), as served. */
  note: string;
  signedAt: string;
}

/** An event promised before its fact is written (see drift.ts): `_id` is the event id. */
export interface AuditIntentDoc {
  actor: string;
  action: string;
  subject: Record<string, string>;
  data: Record<string, JsonValue>;
  createdAt: string;
}

export interface AuditSignerDoc {
  origin: string;
  verifierKey: string;
}

/** A witness's cosignature on one checkpoint (C2SP tlog-cosignature). */
export interface AuditCosignatureDoc {
  size: number;
  witness: string;
  line: string;
  receivedAt: string;
}

export const STORED_LEVEL_STEP = 4;

export function seqId(seq: number): string {
  return String(seq).padStart(15, "0");
}

export const AUDIT_COLLECTIONS = {
  entries: {
    name: "audit_entries",
    indexes: [
      { fields: ["seq"], unique: true },
      { fields: ["eventId"], unique: true },
      { fields: ["time"] },
      { fields: ["action", "time"] },
      { fields: ["actor", "time"] },
    ],
  },
  nodes: { name: "audit_nodes", indexes: [{ fields: ["level", "index"], unique: true }] },
  tree: { name: "audit_tree", indexes: [] },
  checkpoints: { name: "audit_checkpoints", indexes: [{ fields: ["size"], unique: true }] },
  intents: { name: "audit_intents", indexes: [{ fields: ["createdAt"] }] },
  meta: { name: "audit_meta", indexes: [] },
  cosignatures: { name: "audit_cosignatures", indexes: [{ fields: ["size"] }] },
} satisfies Record<string, { name: string; indexes: IndexSpec[] }>;
