/**
 * Validation of a declared policy, in two steps that each name the field and the rule:
 *   1. its shape and numbers (zod): ranges, defaults, ε and budget relations;
 *   2. against a dataset version's schema: columns exist, have a type the role allows, keys are
 *      converted to the column's type, edges increase.
 * The second step is also used when a listing moves to another dataset version.
 */
import { z } from "zod";
import { invalidInputFromZod, InvalidInput, type InputIssue } from "../../errors.ts";
import { COLUMN_TYPES, type ColumnSchema, type ColumnType, type DatasetSchema, type DatasetVersion } from "../../datasets/index.ts";
import { SIZE_BUCKET_NAMES, type SizeBucket } from "./public-facts.ts";
import {
  AGGREGATES,
  MEASURE_AGGREGATES,
  POLICY_DEFAULTS,
  POLICY_LIMITS as L,
  type DimensionPolicy,
  type KeyValue,
  type MeasurePolicy,
  type PolicyRules,
} from "./model.ts";

const columnName = z.string().trim().min(1, "is required").max(200, "must be at most 200 characters");
const finite = z.number().refine(Number.isFinite, "must be a finite number");
const bound = finite.refine((v) => Math.abs(v) <= L.maxBound, `must be between -${L.maxBound} and ${L.maxBound}`);

const dimensionInput = z
  .object({
    column: columnName,
    keys: z
      .array(z.union([z.string().max(L.maxKeyLength, `must be at most ${L.maxKeyLength} characters`), finite, z.boolean()]))
      .min(1, "declare at least one public key")
      .max(L.maxKeys, `at most ${L.maxKeys} public keys`)
      .nullish(),
    edges: z.array(finite).min(2, "declare at least two edges (one bucket)").max(L.maxEdges, `at most ${L.maxEdges} edges`).nullish(),
    dateEdges: z.array(z.string().max(40)).min(2, "declare at least two edges (one bucket)").max(L.maxEdges, `at most ${L.maxEdges} edges`).nullish(),
    derivedKeys: z.boolean().nullish(),
  })
  .superRefine((d, ctx) => {
    // derivedKeys: false says nothing, like an absent field.
    const given = [d.keys, d.edges, d.dateEdges, d.derivedKeys === true ? true : null].filter((x) => x != null).length;
    if (given !== 1) {
      ctx.addIssue({
        code: "custom",
        path: [],
        message:
          "declare exactly one of keys (public key set), edges (number buckets), dateEdges (date buckets) or derivedKeys: true (keys found in the data, thresholded)",
      });
    }
    if (d.edges && !strictlyIncreasing(d.edges)) {
      ctx.addIssue({ code: "custom", path: ["edges"], message: "edges must be strictly increasing" });
    }
  });

const measureInput = z.object({ column: columnName, lo: bound, hi: bound }).superRefine((m, ctx) => {
  if (!(m.lo < m.hi)) ctx.addIssue({ code: "custom", path: ["hi"], message: "hi must be greater than lo" });
});

const publicFactsInput = z
  .object({
    columns: z
      .array(
        z.object({
          name: columnName,
          type: z.enum(COLUMN_TYPES),
          nullable: z.boolean().default(true),
          description: z.string().trim().max(L.maxNoteLength, `must be at most ${L.maxNoteLength} characters`).default(""),
        }),
      )
      .max(L.maxColumns, `at most ${L.maxColumns} columns`)
      .default([]),
    size: z
      .object({
        exactRows: z.number().int("must be a whole number").min(0, "cannot be negative").max(Number.MAX_SAFE_INTEGER).nullish(),
        bucket: z.enum(SIZE_BUCKET_NAMES as [SizeBucket, ...SizeBucket[]]).nullish(),
      })
      .superRefine((s, ctx) => {
        if ((s.exactRows == null) === (s.bucket == null)) {
          ctx.addIssue({ code: "custom", path: [], message: "declare exactly one of exactRows or bucket (or leave size out to publish none)" });
        }
      })
      .nullish()
      .transform((s) => (s ? { exactRows: s.exactRows ?? null, bucket: s.bucket ?? null } : null)),
  })
  .default({ columns: [], size: null });

export const policyInputSchema = z
  .object({
    privacyUnit: columnName,
    dimensions: z.array(dimensionInput).max(L.maxColumns, `at most ${L.maxColumns} dimensions`),
    measures: z.array(measureInput).max(L.maxColumns, `at most ${L.maxColumns} measures`),
    aggregates: z
      .array(z.enum(AGGREGATES))
      .min(1, "allow at least one aggregate")
      .refine((a) => new Set(a).size === a.length, "lists an aggregate twice"),
    minGroupSize: z
      .number()
      .int("must be a whole number")
      .min(L.minGroupSize.min, `must be at least ${L.minGroupSize.min}`)
      .max(L.minGroupSize.max, `must be at most ${L.minGroupSize.max}`)
      .default(POLICY_DEFAULTS.minGroupSize),
    epsilonPerQuery: finite
      .refine((v) => v > 0, "must be greater than 0")
      .refine((v) => v <= L.maxEpsilonPerQuery, `must be at most ${L.maxEpsilonPerQuery}`)
      .default(POLICY_DEFAULTS.epsilonPerQuery),
    buyerEpsilonBudget: finite
      .refine((v) => v > 0, "must be greater than 0")
      .refine((v) => v <= L.maxBudget, `must be at most ${L.maxBudget}`)
      .default(POLICY_DEFAULTS.buyerEpsilonBudget),
    datasetEpsilonBudget: finite
      .refine((v) => v > 0, "must be greater than 0")
      .refine((v) => v <= L.maxBudget, `must be at most ${L.maxBudget}`)
      .default(POLICY_DEFAULTS.datasetEpsilonBudget),
    maxGroupsPerUnit: z
      .number()
      .int("must be a whole number")
      .min(L.maxGroupsPerUnit.min, `must be at least ${L.maxGroupsPerUnit.min}`)
      .max(L.maxGroupsPerUnit.max, `must be at most ${L.maxGroupsPerUnit.max}`)
      .default(POLICY_DEFAULTS.maxGroupsPerUnit),
    maxRowsPerUnit: z
      .number()
      .int("must be a whole number")
      .min(L.maxRowsPerUnit.min, `must be at least ${L.maxRowsPerUnit.min}`)
      .max(L.maxRowsPerUnit.max, `must be at most ${L.maxRowsPerUnit.max}`)
      .default(POLICY_DEFAULTS.maxRowsPerUnit),
    note: z.string().trim().max(L.maxNoteLength, `must be at most ${L.maxNoteLength} characters`).default(""),
    publicFacts: publicFactsInput,
  })
  .superRefine((p, ctx) => {
    if (p.buyerEpsilonBudget < p.epsilonPerQuery) {
      ctx.addIssue({ code: "custom", path: ["buyerEpsilonBudget"], message: "must be at least epsilonPerQuery (one query must fit the budget)" });
    }
    if (p.datasetEpsilonBudget < p.buyerEpsilonBudget) {
      ctx.addIssue({ code: "custom", path: ["datasetEpsilonBudget"], message: "must be at least buyerEpsilonBudget" });
    }
    const needMeasure = p.aggregates.filter((a) => MEASURE_AGGREGATES.includes(a));
    if (needMeasure.length > 0 && p.measures.length === 0) {
      ctx.addIssue({ code: "custom", path: ["aggregates"], message: `${needMeasure.join(", ")} need at least one measure column with bounds` });
    }
  });

/** What a caller hands in: the rules with optional numbers (defaults apply) and loose keys. */
export type PolicyInput = z.input<typeof policyInputSchema>;
type ParsedPolicy = z.output<typeof policyInputSchema>;

/** Step 1: shape and numbers. Throws InvalidInput with paths under `prefix`. */
export function parsePolicyInput(input: unknown, prefix = "input"): ParsedPolicy & { note: string } {
  const parsed = policyInputSchema.safeParse(input);
  if (!parsed.success) throw invalidInputFromZod(parsed.error, prefix);
  return parsed.data;
}

/** Step 2: the rules against a schema; returns the normalised rules (keys typed like their column). */
export function checkAgainstSchema(
  rules: Omit<PolicyRules, "dimensions"> & {
    dimensions: Array<{
      column: string;
      keys?: KeyValue[] | null;
      edges?: number[] | null;
      dateEdges?: string[] | null;
      derivedKeys?: boolean | null;
    }>;
  },
  schema: DatasetSchema,
  version: number,
  prefix = "input",
): { rules: PolicyRules; issues: InputIssue[] } {
  const issues: InputIssue[] = [];
  const byName = new Map<string, ColumnSchema>(schema.columns.map((c) => [c.name, c]));
  const issue = (path: string, message: string) => issues.push({ path: `${prefix}.${path}`, message });
  const lookup = (path: string, name: string): ColumnSchema | null => {
    const col = byName.get(name);
    if (!col) issue(path, `no column named ${JSON.stringify(name)} in dataset version ${version}`);
    return col ?? null;
  };

  const unit = lookup("privacyUnit", rules.privacyUnit);
  if (unit && unit.type !== "string" && unit.type !== "int") {
    issue("privacyUnit", `the privacy unit must be a string or int column identifying a person or entity; ${unit.name} is ${unit.type}`);
  }

  const seenDims = new Set<string>();
  const dimensions: DimensionPolicy[] = rules.dimensions.map((d, i) => {
    const at = `dimensions.${i}`;
    const out: DimensionPolicy = { column: d.column, keys: null, edges: null, dateEdges: null };
    if (seenDims.has(d.column)) issue(`${at}.column`, `column ${d.column} is declared as a dimension twice`);
    seenDims.add(d.column);
    if (d.column === rules.privacyUnit) {
      issue(`${at}.column`, "the privacy-unit column cannot be a dimension (its values identify people)");
      return out;
    }
    const col = lookup(`${at}.column`, d.column);
    if (!col) return out;
    if (d.keys != null) {
      if (!KEYED_TYPES.includes(col.type)) {
        issue(
          `${at}.keys`,
          `public key sets are for string, int and boolean columns; ${col.name} is ${col.type}: declare ${col.type === "float" ? "edges" : "dateEdges"} instead`,
        );
        return out;
      }
      const keys: KeyValue[] = [];
      const seen = new Set<string>();
      d.keys.forEach((k, j) => {
        const v = keyOfType(k, col.type);
        if (v === null) {
          issue(`${at}.keys.${j}`, `${JSON.stringify(k)} is not a valid ${col.type} value for column ${col.name}`);
          return;
        }
        const sig = JSON.stringify(v);
        if (seen.has(sig)) issue(`${at}.keys.${j}`, `key ${sig} is declared twice`);
        seen.add(sig);
        keys.push(v);
      });
      out.keys = keys;
    } else if (d.edges != null) {
      if (col.type !== "int" && col.type !== "float") {
        issue(
          `${at}.edges`,
          `number edges are for int and float columns; ${col.name} is ${col.type}${col.type === "date" || col.type === "timestamp" ? ": declare dateEdges instead" : ": declare keys instead"}`,
        );
        return out;
      }
      out.edges = [...d.edges];
    } else if (d.dateEdges != null) {
      if (col.type !== "date" && col.type !== "timestamp") {
        issue(`${at}.dateEdges`, `date edges are for date and timestamp columns; ${col.name} is ${col.type}`);
        return out;
      }
      const norm: string[] = [];
      d.dateEdges.forEach((e, j) => {
        const v = col.type === "date" ? normaliseDate(e) : normaliseTimestamp(e);
        if (v === null)
          issue(`${at}.dateEdges.${j}`, `${JSON.stringify(e)} is not ${col.type === "date" ? "a date like 2024-01-31" : "an ISO-8601 timestamp"}`);
        else norm.push(v);
      });
      if (norm.length === d.dateEdges.length && !strictlyIncreasing(norm)) issue(`${at}.dateEdges`, "dateEdges must be strictly increasing");
      out.dateEdges = norm;
    } else if (d.derivedKeys === true) {
      if (col.type !== "string") {
        issue(
          `${at}.derivedKeys`,
          `data-derived keys are for string columns; ${col.name} is ${col.type}: declare ${col.type === "float" || col.type === "int" ? "edges" : col.type === "boolean" ? "keys" : "dateEdges"} instead`,
        );
        return out;
      }
      out.derivedKeys = true;
    }
    return out;
  });

  const seenMeasures = new Set<string>();
  const measures: MeasurePolicy[] = rules.measures.map((m, i) => {
    const at = `measures.${i}`;
    if (seenMeasures.has(m.column)) issue(`${at}.column`, `column ${m.column} is declared as a measure twice`);
    seenMeasures.add(m.column);
    if (m.column === rules.privacyUnit) {
      issue(`${at}.column`, "the privacy-unit column cannot be a measure");
    } else {
      const col = lookup(`${at}.column`, m.column);
      if (col && col.type !== "int" && col.type !== "float")
        issue(`${at}.column`, `measures must be int or float columns; ${col.name} is ${col.type}`);
    }
    return { column: m.column, lo: m.lo, hi: m.hi };
  });

  return { rules: { ...rules, dimensions, measures }, issues };
}

/**
 * Data-derived keys need a column with at most `maxDerivedKeys` distinct values. This reads the
 * version's owner-only statistics, so it runs for the owner (declaring a policy) and never in
 * anything a buyer sees; a buyer's query is refused on public bounds only (see the planner).
 */
export function derivedKeyIssues(
  rules: Pick<PolicyRules, "dimensions">,
  version: Pick<DatasetVersion, "schema" | "columns" | "version">,
  prefix = "input",
): InputIssue[] {
  const issues: InputIssue[] = [];
  rules.dimensions.forEach((d, i) => {
    if (d.derivedKeys !== true) return;
    const index = version.schema.columns.findIndex((c) => c.name === d.column);
    const size = index < 0 ? null : (version.columns?.[index]?.dictionarySize ?? null);
    if (size !== null && size > L.maxDerivedKeys) {
      issues.push({
        path: `${prefix}.dimensions.${i}.derivedKeys`,
        message: `column ${d.column} has ${size} distinct values in dataset version ${version.version}; data-derived keys allow at most ${L.maxDerivedKeys}: declare a public key set instead`,
      });
    }
  });
  return issues;
}

/** Both steps; throws InvalidInput listing every issue found. */
export function validatePolicy(input: unknown, schema: DatasetSchema, version: number, prefix = "input"): { rules: PolicyRules; note: string } {
  const parsed = parsePolicyInput(input, prefix);
  const { note, ...rest } = parsed;
  const { rules, issues } = checkAgainstSchema(rest, schema, version, prefix);
  if (issues.length > 0) throw new InvalidInput(issues);
  return { rules, note };
}

const KEYED_TYPES: readonly ColumnType[] = ["string", "int", "boolean"];

function keyOfType(k: KeyValue, type: ColumnType): KeyValue | null {
  if (type === "string") return typeof k === "string" ? k : String(k);
  if (type === "int") {
    const n = typeof k === "number" ? k : typeof k === "string" && /^-?\d{1,15}$/.test(k.trim()) ? Number(k.trim()) : NaN;
    return Number.isSafeInteger(n) ? n : null;
  }
  if (type === "boolean") {
    if (typeof k === "boolean") return k;
    if (k === "true") return true;
    if (k === "false") return false;
    return null;
  }
  return null;
}

function normaliseDate(s: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s.trim());
  if (!m) return null;
  const d = new Date(`${m[1]}-${m[2]}-${m[3]}T00:00:00Z`);
  return Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== s.trim() ? null : s.trim();
}

function normaliseTimestamp(s: string): string | null {
  const t = s.trim();
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(t)) return null;
  // No zone means UTC, so the edge does not depend on the server's time zone.
  const zoned = /T|\s/.test(t) && !/(Z|[+-]\d{2}:?\d{2})$/.test(t) ? `${t.replace(" ", "T")}Z` : t.replace(" ", "T");
  const ms = Date.parse(zoned);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

function strictlyIncreasing<T extends number | string>(xs: T[]): boolean {
  for (let i = 1; i < xs.length; i++) if (!(xs[i - 1]! < xs[i]!)) return false;
  return true;
}
