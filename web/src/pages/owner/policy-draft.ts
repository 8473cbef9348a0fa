/**
 * The policy editor's form state and its rules, kept apart from the page: a draft built from the
 * current policy, the checks run before sending (each names the field it is about), the
 * declarePrivacyPolicy input, and where each API issue path (`input.measures.0.hi`) belongs.
 */
import type { MessageKey } from "../../i18n/index.ts";

export type ColumnTypeName = "BOOLEAN" | "DATE" | "FLOAT" | "INT" | "STRING" | "TIMESTAMP";

export interface ColumnInfo {
  name: string;
  type: string;
}

export type ColumnRole = "none" | "dimension" | "measure";
export type DimensionKind = "keys" | "edges" | "dateEdges" | "derivedKeys";
export const AGGREGATES = ["COUNT_UNITS", "COUNT_ROWS", "SUM", "AVG", "HISTOGRAM"] as const;
export type Aggregate = (typeof AGGREGATES)[number];
const MEASURE_AGGREGATES: readonly Aggregate[] = ["SUM", "AVG", "HISTOGRAM"];

export interface ColumnRule {
  role: ColumnRole;
  kind: DimensionKind;
  values: string;
  lo: string;
  hi: string;
}

export interface PolicyDraft {
  privacyUnit: string;
  columns: Record<string, ColumnRule>;
  aggregates: Aggregate[];
  epsilonPerQuery: string;
  buyerEpsilonBudget: string;
  datasetEpsilonBudget: string;
  minGroupSize: string;
  maxRowsPerUnit: string;
  maxGroupsPerUnit: string;
  publishRowCount: boolean;
}

export interface CurrentPolicy {
  version: number;
  privacyUnit: string;
  aggregates: readonly string[];
  epsilonPerQuery: number | string;
  buyerEpsilonBudget: number | string;
  datasetEpsilonBudget: number | string;
  minGroupSize: number;
  maxRowsPerUnit: number;
  maxGroupsPerUnit: number;
  dimensions: ReadonlyArray<{
    column: string;
    keys: readonly string[] | null;
    edges: readonly number[] | null;
    dateEdges: readonly string[] | null;
    derivedKeys: boolean;
  }>;
  measures: ReadonlyArray<{ column: string; lo: number; hi: number }>;
  publicFacts: { size: { exactRows: number | null } | null };
}

/** A field's problem: a message key with values (checked here) or the API's own text. */
export type FieldProblem = { key: MessageKey; vars?: Record<string, string | number> } | { text: string };

export function defaultKind(columnType: string): DimensionKind {
  const type = columnType.toLowerCase();
  if (type === "float") return "edges";
  if (type === "date" || type === "timestamp") return "dateEdges";
  return "keys";
}

export function draftFrom(columns: readonly ColumnInfo[], policy: CurrentPolicy | null): PolicyDraft {
  const rules: Record<string, ColumnRule> = {};
  for (const c of columns) {
    const dim = policy?.dimensions.find((d) => d.column === c.name);
    const measure = policy?.measures.find((m) => m.column === c.name);
    const kind: DimensionKind = dim
      ? dim.derivedKeys
        ? "derivedKeys"
        : dim.edges
          ? "edges"
          : dim.dateEdges
            ? "dateEdges"
            : "keys"
      : defaultKind(c.type);
    rules[c.name] = {
      role: dim ? "dimension" : measure ? "measure" : "none",
      kind,
      values: dim ? (dim.keys ?? dim.edges?.map(String) ?? dim.dateEdges ?? []).join(", ") : "",
      lo: measure ? String(measure.lo) : "",
      hi: measure ? String(measure.hi) : "",
    };
  }
  return {
    privacyUnit: policy?.privacyUnit ?? columns.find((c) => /^(string|int)$/i.test(c.type))?.name ?? "",
    columns: rules,
    aggregates: (policy?.aggregates.filter((a): a is Aggregate => (AGGREGATES as readonly string[]).includes(a)) ?? ["COUNT_UNITS"]).slice(),
    epsilonPerQuery: String(policy?.epsilonPerQuery ?? "0.1"),
    buyerEpsilonBudget: String(policy?.buyerEpsilonBudget ?? "2"),
    datasetEpsilonBudget: String(policy?.datasetEpsilonBudget ?? "10"),
    minGroupSize: String(policy?.minGroupSize ?? 10),
    maxRowsPerUnit: String(policy?.maxRowsPerUnit ?? 100),
    maxGroupsPerUnit: String(policy?.maxGroupsPerUnit ?? 1),
    publishRowCount: policy?.publicFacts.size?.exactRows != null,
  };
}

export function splitValues(text: string): string[] {
  return text
    .split(/[,，]/)
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
}

const isNumber = (s: string) => s.trim() !== "" && Number.isFinite(Number(s));

/** The checks the console can make before sending; the API checks everything again. */
export function checkDraft(draft: PolicyDraft): Record<string, FieldProblem> {
  const out: Record<string, FieldProblem> = {};
  if (!draft.privacyUnit) out.privacyUnit = { key: "vRequired" };
  if (draft.aggregates.length === 0) out.aggregates = { key: "vAggregate" };
  const eps = Number(draft.epsilonPerQuery);
  if (!isNumber(draft.epsilonPerQuery) || eps <= 0 || eps > 1) out.epsilonPerQuery = { key: "vEpsilon" };
  const buyer = Number(draft.buyerEpsilonBudget);
  if (!isNumber(draft.buyerEpsilonBudget) || buyer <= 0) out.buyerEpsilonBudget = { key: "vPositive" };
  else if (!out.epsilonPerQuery && buyer < eps) out.buyerEpsilonBudget = { key: "vBuyerBudget" };
  const dataset = Number(draft.datasetEpsilonBudget);
  if (!isNumber(draft.datasetEpsilonBudget) || dataset <= 0) out.datasetEpsilonBudget = { key: "vPositive" };
  else if (!out.buyerEpsilonBudget && dataset < buyer) out.datasetEpsilonBudget = { key: "vDatasetBudget" };
  const k = Number(draft.minGroupSize);
  if (!Number.isInteger(k) || draft.minGroupSize.trim() === "" || k < 2) out.minGroupSize = { key: "vMinGroupSize" };
  const rows = Number(draft.maxRowsPerUnit);
  if (!Number.isInteger(rows) || draft.maxRowsPerUnit.trim() === "" || rows < 1 || rows > 10000) out.maxRowsPerUnit = { key: "vMaxRows" };
  const groups = Number(draft.maxGroupsPerUnit);
  if (!Number.isInteger(groups) || draft.maxGroupsPerUnit.trim() === "" || groups < 1) out.maxGroupsPerUnit = { key: "vMaxGroups" };
  let measures = 0;
  for (const [name, rule] of Object.entries(draft.columns)) {
    if (name === draft.privacyUnit || rule.role === "none") continue;
    if (rule.role === "measure") {
      measures++;
      if (!isNumber(rule.lo)) out[`lo:${name}`] = { key: "vNumber" };
      if (!isNumber(rule.hi)) out[`hi:${name}`] = { key: "vNumber" };
      else if (isNumber(rule.lo) && Number(rule.lo) >= Number(rule.hi)) out[`hi:${name}`] = { key: "vHiAboveLo" };
    } else if (rule.kind !== "derivedKeys") {
      const values = splitValues(rule.values);
      if (values.length === 0) out[`values:${name}`] = { key: "vValues" };
      else if (rule.kind === "edges") {
        if (values.length < 2 || !values.every(isNumber)) out[`values:${name}`] = { key: "vEdges" };
        else if (values.some((v, i) => i > 0 && Number(v) <= Number(values[i - 1]))) out[`values:${name}`] = { key: "vIncreasing" };
      }
    }
  }
  if (measures === 0 && draft.aggregates.some((a) => MEASURE_AGGREGATES.includes(a))) out.aggregates = { key: "vNeedMeasure" };
  return out;
}

/** The mutation's input, with the column behind each dimension and measure index (for issue paths). */
export function policyInput(datasetId: string, draft: PolicyDraft, columns: readonly ColumnInfo[], rowCount: number | null) {
  const used = columns.filter((c) => c.name !== draft.privacyUnit);
  const dims = used.filter((c) => draft.columns[c.name]?.role === "dimension").map((c) => c.name);
  const measures = used.filter((c) => draft.columns[c.name]?.role === "measure").map((c) => c.name);
  const rule = (name: string) => draft.columns[name]!;
  const input = {
    datasetId,
    privacyUnit: draft.privacyUnit,
    dimensions: dims.map((column) => {
      const r = rule(column);
      const values = splitValues(r.values);
      if (r.kind === "derivedKeys") return { column, derivedKeys: true };
      if (r.kind === "edges") return { column, edges: values.map(Number) };
      if (r.kind === "dateEdges") return { column, dateEdges: values };
      return { column, keys: values };
    }),
    measures: measures.map((column) => ({ column, lo: Number(rule(column).lo), hi: Number(rule(column).hi) })),
    aggregates: draft.aggregates,
    epsilonPerQuery: Number(draft.epsilonPerQuery),
    buyerEpsilonBudget: Number(draft.buyerEpsilonBudget),
    datasetEpsilonBudget: Number(draft.datasetEpsilonBudget),
    minGroupSize: Number(draft.minGroupSize),
    maxRowsPerUnit: Number(draft.maxRowsPerUnit),
    maxGroupsPerUnit: Number(draft.maxGroupsPerUnit),
    publicFacts: {
      columns: columns.map((c) => ({ name: c.name, type: c.type.toUpperCase() as ColumnTypeName })),
      ...(draft.publishRowCount && rowCount !== null ? { size: { exactRows: rowCount } } : {}),
    },
  };
  return { input, dims, measures };
}

/** Which form field an API issue names: `input.dimensions.1.keys.0` → `values:<that column>`. */
export function fieldOf(path: string, dims: readonly string[], measures: readonly string[]): string {
  const p = path.replace(/^input\./, "");
  const dim = /^dimensions\.(\d+)(?:\.(\w+))?/.exec(p);
  if (dim) {
    const col = dims[Number(dim[1])];
    if (col) return dim[2] === "column" ? `role:${col}` : `values:${col}`;
  }
  const m = /^measures\.(\d+)(?:\.(\w+))?/.exec(p);
  if (m) {
    const col = measures[Number(m[1])];
    if (col) return m[2] === "lo" ? `lo:${col}` : m[2] === "hi" ? `hi:${col}` : `role:${col}`;
  }
  const top = /^(privacyUnit|aggregates|epsilonPerQuery|buyerEpsilonBudget|datasetEpsilonBudget|minGroupSize|maxRowsPerUnit|maxGroupsPerUnit)\b/.exec(
    p,
  );
  return top ? top[1]! : "form";
}

/** Suggested contribution bounds, as suggestPolicyBounds returns them. */
export interface SuggestedBounds {
  maxRowsPerUnit: number;
  maxGroupsPerUnit: number;
  measures: ReadonlyArray<{ column: string; lo: number; hi: number }>;
}

/**
 * The draft with a suggestion's bounds filled in: rows and groups per unit, and the clamps of the
 * columns the draft releases as measures (a clamp for any other column is left out).
 */
export function applySuggestion(draft: PolicyDraft, suggested: SuggestedBounds): PolicyDraft {
  const columns = { ...draft.columns };
  for (const m of suggested.measures) {
    const rule = columns[m.column];
    if (rule?.role === "measure") columns[m.column] = { ...rule, lo: String(m.lo), hi: String(m.hi) };
  }
  return {
    ...draft,
    columns,
    maxRowsPerUnit: String(suggested.maxRowsPerUnit),
    maxGroupsPerUnit: String(suggested.maxGroupsPerUnit),
  };
}
