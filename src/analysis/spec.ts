/**
 * Checks a submitted analysis spec (code, columns, outputs) and hashes it. Columns must be ones
 * the policy lets buyers see in aggregate (dimensions and measures), never the privacy-unit
 * column; every output needs a finite range with its default inside.
 */
import { createHash } from "node:crypto";
import canonicalize from "canonicalize";
import { z } from "zod";
import { InvalidInput, invalidInputFromZod } from "../errors.ts";
import type { PolicyRules } from "../privacy/policy/index.ts";
import { ANALYSIS_LIMITS, type AnalysisSpec } from "./model.ts";

const bound = z.number().finite().min(-ANALYSIS_LIMITS.maxBound).max(ANALYSIS_LIMITS.maxBound);

const output = z
  .object({
    name: z.string().trim().min(1, "is required").max(ANALYSIS_LIMITS.maxOutputName),
    lo: bound,
    hi: bound,
    default: bound.nullish(),
  })
  .superRefine((o, ctx) => {
    if (!(o.lo < o.hi)) ctx.addIssue({ code: "custom", path: ["hi"], message: "must be greater than lo" });
    if (o.default != null && !(o.default >= o.lo && o.default <= o.hi)) {
      ctx.addIssue({ code: "custom", path: ["default"], message: "must lie within [lo, hi]" });
    }
  });

export const specInput = z.object({
  source: z
    .string()
    .min(1, "is required")
    .max(ANALYSIS_LIMITS.maxSourceChars, `must be at most ${ANALYSIS_LIMITS.maxSourceChars} characters`)
    .refine((s) => /\bfunction\s+map\s*\(/.test(s), "must define `function map(rows)`"),
  columns: z.array(z.string().min(1)).min(1, "name at least one column").max(200),
  outputs: z
    .array(output)
    .min(1, "declare at least one output")
    .max(ANALYSIS_LIMITS.maxOutputs, `at most ${ANALYSIS_LIMITS.maxOutputs} outputs`)
    .superRefine((outs, ctx) => {
      const seen = new Set<string>();
      outs.forEach((o, i) => {
        if (seen.has(o.name)) ctx.addIssue({ code: "custom", path: [i, "name"], message: `output ${JSON.stringify(o.name)} is declared twice` });
        seen.add(o.name);
      });
    }),
});

export type SpecInput = z.input<typeof specInput>;

/** A checked spec: a failed unit's default is the clamp of 0 into the range unless declared. */
export function checkSpec(input: SpecInput, policy: PolicyRules, columnNames: readonly string[]): AnalysisSpec {
  const parsed = specInput.safeParse(input);
  if (!parsed.success) throw invalidInputFromZod(parsed.error, "input");
  const allowed = new Set([...policy.dimensions.map((d) => d.column), ...policy.measures.map((m) => m.column)]);
  const issues: Array<{ path: string; message: string }> = [];
  const columns: string[] = [];
  parsed.data.columns.forEach((c, i) => {
    const path = `input.columns[${i}]`;
    if (columns.includes(c)) issues.push({ path, message: `column ${JSON.stringify(c)} is listed twice` });
    else if (!columnNames.includes(c)) issues.push({ path, message: `column ${JSON.stringify(c)} does not exist in this dataset` });
    else if (c === policy.privacyUnit)
      issues.push({ path, message: `column ${JSON.stringify(c)} is the privacy unit: map gets one unit's rows, never its id` });
    else if (!allowed.has(c)) issues.push({ path, message: `column ${JSON.stringify(c)} is neither a dimension nor a measure of the policy` });
    columns.push(c);
  });
  if (issues.length > 0) throw new InvalidInput(issues);
  return {
    source: parsed.data.source,
    columns,
    outputs: parsed.data.outputs.map((o) => ({ name: o.name, lo: o.lo, hi: o.hi, default: o.default ?? Math.min(o.hi, Math.max(o.lo, 0)) })),
  };
}

export function codeHashOf(spec: AnalysisSpec): string {
  return createHash("sha256")
    .update(canonicalize({ source: spec.source, columns: spec.columns, outputs: spec.outputs })!)
    .digest("hex");
}
