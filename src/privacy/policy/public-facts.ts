/**
 * What the owner declares public about a dataset, besides the policy's rules: the schema as
 * buyers may see it (type, nullability, description of each column) and, if the owner opts in,
 * its size (exact, or a bucket such as "up to 1 million rows"). Everything a buyer sees of the
 * data outside DP answers — the listing's columns, its size, the rows a price is computed on, the
 * moment an answer is released — comes from these declarations, never from the rows: a column's
 * type inferred from its values or an exact row count would tell a buyer whether one unit's rows
 * are in the data.
 *
 * The declarations are checked against the dataset version when the owner makes them (the owner
 * may see exact figures): a declared size must hold, a column declared NOT NULL must have no null.
 */
import type { ColumnType, DatasetVersion } from "../../datasets/index.ts";
import type { InputIssue } from "../../errors.ts";

/** Size buckets: a bucket holds sizes up to its bound (and above the previous one). */
export const SIZE_BUCKETS = {
  UP_TO_10K: 10_000,
  UP_TO_100K: 100_000,
  UP_TO_1M: 1_000_000,
  UP_TO_10M: 10_000_000,
  UP_TO_100M: 100_000_000,
  UP_TO_1B: 1_000_000_000,
} as const;
export type SizeBucket = keyof typeof SIZE_BUCKETS;
export const SIZE_BUCKET_NAMES = Object.keys(SIZE_BUCKETS) as SizeBucket[];

export interface PublicColumnFact {
  name: string;
  type: ColumnType;
  nullable: boolean;
  description: string;
}

/** Exactly one of the two is set. */
export interface PublicSize {
  exactRows: number | null;
  bucket: SizeBucket | null;
}

export interface PublicFacts {
  columns: PublicColumnFact[];
  /** null: the owner declares no size; buyers see none, and the size-based price is 0. */
  size: PublicSize | null;
}

export const NO_PUBLIC_FACTS: PublicFacts = { columns: [], size: null };

/** The facts of a policy; policies written before they existed declare none. */
export function publicFactsOf(policy: { publicFacts?: PublicFacts | null } | null | undefined): PublicFacts {
  return policy?.publicFacts ?? NO_PUBLIC_FACTS;
}

/** The largest size the declaration allows (exact, or the bucket's bound); null when none is declared. */
export function publicMaxRows(facts: PublicFacts): number | null {
  const s = facts.size;
  if (!s) return null;
  return s.exactRows ?? (s.bucket ? SIZE_BUCKETS[s.bucket] : null);
}

/** The smallest size the declaration allows: the bucket's lower edge (exclusive, plus one). */
export function publicMinRows(facts: PublicFacts): number | null {
  const s = facts.size;
  if (!s) return null;
  if (s.exactRows !== null) return s.exactRows;
  const i = SIZE_BUCKET_NAMES.indexOf(s.bucket!);
  return i === 0 ? 0 : SIZE_BUCKETS[SIZE_BUCKET_NAMES[i - 1]!] + 1;
}

/** Whether the declarations hold for `version` (owner-side: these messages may state exact figures). */
export function publicFactIssues(
  facts: PublicFacts,
  version: Pick<DatasetVersion, "schema" | "rowCount" | "version">,
  prefix = "input.publicFacts",
): InputIssue[] {
  const issues: InputIssue[] = [];
  const seen = new Set<string>();
  facts.columns.forEach((c, i) => {
    const at = `${prefix}.columns.${i}`;
    if (seen.has(c.name)) issues.push({ path: `${at}.name`, message: `column ${c.name} is declared twice` });
    seen.add(c.name);
    const col = version.schema.columns.find((x) => x.name === c.name);
    if (!col) {
      issues.push({ path: `${at}.name`, message: `no column named ${JSON.stringify(c.name)} in dataset version ${version.version}` });
      return;
    }
    if (col.type !== c.type)
      issues.push({ path: `${at}.type`, message: `column ${c.name} is stored as ${col.type} in dataset version ${version.version}` });
    if (!c.nullable && col.nullable)
      issues.push({ path: `${at}.nullable`, message: `column ${c.name} has empty values in dataset version ${version.version}` });
  });
  const s = facts.size;
  if (s?.exactRows != null && s.exactRows !== version.rowCount) {
    issues.push({ path: `${prefix}.size.exactRows`, message: `dataset version ${version.version} has ${version.rowCount} rows` });
  }
  if (s?.bucket) {
    const lo = publicMinRows(facts)!;
    const hi = SIZE_BUCKETS[s.bucket];
    if (version.rowCount < lo || version.rowCount > hi) {
      issues.push({ path: `${prefix}.size.bucket`, message: `dataset version ${version.version} has ${version.rowCount} rows, outside ${s.bucket}` });
    }
  }
  return issues;
}
