/**
 * The NDJSON export format, shared by the exporter and the offline verifier.
 *
 *   line 1:  {"checkpoint":"<signed note>","checkpoints":[<earlier notes>],"filter":…,"format":"…","treeSize":N,"verifierKey":"…"}
 *   then one line per entry, in log order:
 *            {"entry":{…the canonical event…},"leafHash":"<hex>"}                 (complete export: entries 0…N-1)
 *            {"entry":{…},"leafHash":"<hex>","proof":["<hex>",…]}                 (filtered export: an inclusion proof each)
 *
 * Every line is canonical JSON (RFC 8785), so `entry` inside it is byte-for-byte the canonical
 * entry that was hashed: leaf = SHA-256(0x00 ‖ canonical(entry)). `leafHash` is the hash the log
 * recorded at append time: with the checkpoint it pins down exactly which entry was altered.
 */
import { canonicalJson } from "./canonical.ts";
import type { JsonValue } from "../store/port.ts";

export const EXPORT_FORMAT = "data-exchange-audit-export/v1";

export interface ExportHeader {
  format: typeof EXPORT_FORMAT;
  treeSize: number;
  checkpoint: string;
  /** Earlier signed checkpoints (≤ treeSize), oldest first: they narrow down where an export was altered. */
  checkpoints: string[];
  verifierKey: string;
  filter: Record<string, JsonValue> | null;
}

export function headerLine(h: ExportHeader): string {
  return canonicalJson(h as unknown as JsonValue);
}

/** Built by concatenation so the stored canonical text goes out byte for byte. */
export function entryLine(entry: string, leafHash: string, proof?: string[]): string {
  const tail = proof ? `,"proof":${JSON.stringify(proof)}` : "";
  return `{"entry":${entry},"leafHash":"${leafHash}"${tail}}`;
}
