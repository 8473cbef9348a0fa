import { builder } from "../../graphql/builder.ts";
import type { Stored } from "../../store/port.ts";
import type { AuditEntry, AuditEntryDoc } from "../model.ts";
import { REGULATOR_SCOPES } from "./scopes.ts";

const SubjectIdRef = builder.objectRef<{ name: string; id: string }>("AuditSubjectId").implement({
  description: 'One id an event is about, e.g. { name: "datasetId", id: "ds_…" }.',
  fields: (t) => ({ name: t.exposeString("name"), id: t.exposeString("id") }),
});

export const AuditEventRef = builder.objectRef<Stored<AuditEntryDoc>>("AuditEvent");

const parsed = new WeakMap<object, AuditEntry>();
function entryOf(doc: Stored<AuditEntryDoc>): AuditEntry {
  let e = parsed.get(doc);
  if (!e) parsed.set(doc, (e = JSON.parse(doc.entry) as AuditEntry));
  return e;
}

AuditEventRef.implement({
  description:
    "One entry of the audit log. `entry` is its canonical JSON (RFC 8785): the Merkle leaf is SHA-256(0x00 ‖ entry). " +
    "Events hold pseudonymous ids, numbers and hashes: never dataset rows, query results, emails or secrets.",
  authScopes: REGULATOR_SCOPES,
  fields: (t) => ({
    id: t.globalID({ resolve: (d) => ({ type: "AuditEvent", id: String(d.seq) }) }),
    seq: t.int({ description: "Position in the log (the Merkle leaf index), from 0.", resolve: (d) => d.seq }),
    eventId: t.exposeString("eventId"),
    time: t.field({ type: "DateTime", resolve: (d) => entryOf(d).time }),
    actor: t.string({ description: 'Account id of whoever acted, or "system".', resolve: (d) => entryOf(d).actor }),
    action: t.string({ resolve: (d) => entryOf(d).action }),
    subject: t.field({
      type: [SubjectIdRef],
      resolve: (d) => Object.entries(entryOf(d).subject).map(([name, id]) => ({ name, id })),
    }),
    dataJson: t.string({ description: "The event's data as canonical JSON.", resolve: (d) => JSON.stringify(entryOf(d).data) }),
    entry: t.exposeString("entry", { description: "The canonical JSON that is hashed into the log." }),
    leafHash: t.exposeString("leafHash", { description: "Hex SHA-256(0x00 ‖ entry)." }),
  }),
});
