/**
 * The schema as a buyer may see it: column names (from the file's header, not its rows), and for
 * each column the type and nullability its owner declared public, or nothing. A type inferred
 * from the values is private: one unit's odd value can turn an int column into a float one.
 * Synthetic samples need a type to draw from; where none is declared they use the type the
 * policy's own declarations imply (keys, edges, bounds), which the owner chose.
 */
import type { ColumnSchema, ColumnType, DatasetSchema } from "../../datasets/index.ts";
import type { PolicyRules } from "./model.ts";
import { publicFactsOf } from "./public-facts.ts";

export interface PublicColumnView {
  name: string;
  /** null: the owner did not declare it. */
  type: ColumnType | null;
  nullable: boolean | null;
  description: string | null;
}

export function publicColumns(schema: DatasetSchema | null, policy: PolicyRules | null): PublicColumnView[] {
  const declared = publicFactsOf(policy).columns;
  return (schema?.columns ?? []).map((c) => {
    const d = declared.find((x) => x.name === c.name);
    return { name: c.name, type: d?.type ?? null, nullable: d?.nullable ?? null, description: d ? d.description : null };
  });
}

/** Columns typed for synthetic samples from declarations only (see the header). */
export function sampleSchema(schema: DatasetSchema | null, policy: PolicyRules | null): DatasetSchema {
  const declared = publicFactsOf(policy).columns;
  const columns: ColumnSchema[] = (schema?.columns ?? []).map((c) => ({
    name: c.name,
    type: declared.find((x) => x.name === c.name)?.type ?? impliedType(c.name, policy),
    nullable: false,
  }));
  return { columns };
}

function impliedType(name: string, policy: PolicyRules | null): ColumnType {
  const dim = policy?.dimensions.find((d) => d.column === name);
  if (dim?.keys && dim.keys.length > 0) {
    const k = dim.keys[0];
    return typeof k === "number" ? "int" : typeof k === "boolean" ? "boolean" : "string";
  }
  if (dim?.dateEdges) return dim.dateEdges.every((e) => /^\d{4}-\d{2}-\d{2}$/.test(e)) ? "date" : "timestamp";
  if (dim?.edges || policy?.measures.some((m) => m.column === name)) return "float";
  return "string";
}
