/** What an owner reviews: the revision's code as a unified diff against the approved revision. */
import { createTwoFilesPatch } from "diff";
import type { AnalysisRevision } from "./model.ts";

/** Code, columns and outputs rendered as one text, so a changed range shows up in the diff too. */
function reviewText(r: AnalysisRevision): string {
  const outputs = r.outputs.map((o) => `//   ${o.name}: [${o.lo}, ${o.hi}], default ${o.default}`).join("\n");
  return `// columns: ${r.columns.join(", ")}\n// outputs:\n${outputs}\n${r.source.endsWith("\n") ? r.source : `${r.source}\n`}`;
}

export function diffAgainst(approved: AnalysisRevision, next: AnalysisRevision): string {
  return createTwoFilesPatch(
    `revision ${approved.revision} (approved, ${approved.codeHash.slice(0, 12)})`,
    `revision ${next.revision} (${next.codeHash.slice(0, 12)})`,
    reviewText(approved),
    reviewText(next),
    undefined,
    undefined,
    { context: 3 },
  );
}
