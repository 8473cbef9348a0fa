/**
 * The regulator's event filter: time range, actions, actor, and the parties and things an event is
 * about (dataset, owner, buyer, or any subject id). Validated here; turned into a store filter.
 */
import { z } from "zod";
import type { Filter } from "../store/port.ts";
import { invalidInputFromZod } from "../errors.ts";

const id = z.string().trim().min(1).max(200);
const iso = z
  .string()
  .refine((v) => !Number.isNaN(Date.parse(v)), "must be an ISO-8601 time like 2026-01-31T00:00:00Z")
  .transform((v) => new Date(v).toISOString());

const eventFilterSchema = z
  .object({
    from: iso.optional(),
    to: iso.optional(),
    actions: z
      .array(z.string().regex(/^[a-z][a-z0-9_.]*$/, 'must be an action like "query.executed"'))
      .max(50)
      .optional(),
    actorId: id.optional(),
    datasetId: id.optional(),
    ownerId: id.optional(),
    buyerId: id.optional(),
    subjectId: id.optional(),
    seq: z.coerce.number().int("must be a whole number").min(0).optional(),
  })
  .refine((f) => !f.from || !f.to || f.from < f.to, { message: "from must be before to", path: ["to"] });

export type EventFilter = z.infer<typeof eventFilterSchema>;

/** Validates a filter from outside (GraphQL input, query string); InvalidInput names the field. */
export function parseEventFilter(input: unknown, prefix = "filter"): EventFilter {
  const parsed = eventFilterSchema.safeParse(input ?? {});
  if (!parsed.success) throw invalidInputFromZod(parsed.error, prefix);
  // Drop unset fields so the filter's JSON (echoed in exports) is tidy.
  return Object.fromEntries(Object.entries(parsed.data).filter(([, v]) => v !== undefined && v !== null)) as EventFilter;
}

export function isEmptyFilter(f: EventFilter): boolean {
  return Object.keys(f).length === 0;
}

export function toStoreFilter(f: EventFilter): Filter {
  const and: Filter[] = [];
  if (f.from) and.push({ time: { $gte: f.from } });
  if (f.to) and.push({ time: { $lt: f.to } });
  if (f.actions && f.actions.length > 0) and.push({ action: { $in: f.actions } });
  if (f.actorId) and.push({ actor: f.actorId });
  if (f.datasetId) and.push({ "subject.datasetId": f.datasetId });
  if (f.ownerId) and.push({ "subject.ownerId": f.ownerId });
  if (f.buyerId) and.push({ "subject.buyerId": f.buyerId });
  if (f.subjectId) and.push({ subjectIds: { $contains: f.subjectId } });
  if (f.seq !== undefined) and.push({ seq: f.seq });
  return and.length === 0 ? {} : { $and: and };
}
