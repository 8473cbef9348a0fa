/**
 * GraphQL sends an omitted optional input field as absent or null; our zod schemas apply their
 * defaults to absent fields only. This turns null object properties into absent ones, deeply.
 */
export function dropNulls<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => dropNulls(v)) as T;
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== null && v !== undefined) out[k] = dropNulls(v);
    return out as T;
  }
  return value;
}
