/**
 * Exports of the log as NDJSON (verifiable offline, see export-format.ts) and CSV (for people and
 * spreadsheets), each against one signed checkpoint, streamed page by page.
 */
import type { AuditLog } from "./service.ts";
import { EXPORT_FORMAT, entryLine, headerLine } from "./export-format.ts";
import { isEmptyFilter, toStoreFilter, type EventFilter } from "./search.ts";
import type { AuditCheckpointDoc, AuditEntry } from "./model.ts";
import type { JsonValue, Stored } from "../store/port.ts";

/** How many earlier checkpoints an export carries for localising damage. */
const HISTORY_LIMIT = 2000;

export interface PreparedExport {
  checkpoint: Stored<AuditCheckpointDoc>;
  filter: EventFilter;
}

/** Signs (or reuses) the checkpoint the export will be consistent with. */
export async function prepareExport(audit: AuditLog, filter: EventFilter): Promise<PreparedExport> {
  return { checkpoint: await audit.checkpoint(), filter };
}

export async function* ndjsonExport(audit: AuditLog, prepared: PreparedExport): AsyncGenerator<string> {
  const { checkpoint, filter } = prepared;
  const filtered = !isEmptyFilter(filter);
  const history: string[] = [];
  if (!filtered) {
    const page = await audit.listCheckpoints(HISTORY_LIMIT);
    for (const cp of page.items) if (cp.size < checkpoint.size) history.push(cp.note);
    history.reverse();
  }
  yield headerLine({
    format: EXPORT_FORMAT,
    treeSize: checkpoint.size,
    checkpoint: checkpoint.note,
    checkpoints: history,
    verifierKey: audit.verifierKey,
    filter: filtered ? (filter as Record<string, JsonValue>) : null,
  }) + "\n";
  for await (const doc of audit.entriesUpTo(checkpoint.size, toStoreFilter(filter))) {
    if (!filtered) {
      yield entryLine(doc.entry, doc.leafHash) + "\n";
      continue;
    }
    yield entryLine(doc.entry, doc.leafHash, await audit.inclusionPath(doc.seq, checkpoint)) + "\n";
  }
}

const CSV_COLUMNS = ["seq", "time", "actor", "action", "subject", "data", "eventId", "leafHash"] as const;

export async function* csvExport(audit: AuditLog, prepared: PreparedExport): AsyncGenerator<string> {
  yield CSV_COLUMNS.join(",") + "\r\n";
  for await (const doc of audit.entriesUpTo(prepared.checkpoint.size, toStoreFilter(prepared.filter))) {
    const e = JSON.parse(doc.entry) as AuditEntry;
    const cells = [String(e.seq), e.time, e.actor, e.action, JSON.stringify(e.subject), JSON.stringify(e.data), e.eventId, doc.leafHash];
    yield cells.map(csvCell).join(",") + "\r\n";
  }
}

/** RFC 4180 quoting; a leading =, +, - or @ is prefixed with ' so spreadsheets do not run it. */
function csvCell(v: string): string {
  const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
