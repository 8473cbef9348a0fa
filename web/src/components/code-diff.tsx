/**
 * Code with a line diff against an earlier version (jsdiff's diffLines): added lines in <ins>,
 * removed ones in <del>, so the change is told apart without colour too (+ / − markers).
 */
import { useMemo } from "react";
import { diffLines } from "diff";
import { useI18n } from "../i18n/index.ts";

export function CodeDiff({ before, after, testId }: { before: string | null; after: string; testId?: string }) {
  const { t } = useI18n();
  const parts = useMemo(() => diffLines(before ?? "", after), [before, after]);
  const count = (kind: "added" | "removed") => parts.filter((p) => p[kind]).reduce((n, p) => n + p.count, 0);
  const lines = parts.flatMap((p, i) =>
    p.value
      .replace(/\n$/, "")
      .split("\n")
      .map((line, j) => ({ key: `${i}:${j}`, line, kind: p.added ? "added" : p.removed ? "removed" : "same" })),
  );
  return (
    <figure data-testid={testId}>
      <figcaption>{before === null ? t("diffNoApproved") : t("diffSummary", { added: count("added"), removed: count("removed") })}</figcaption>
      <pre className="diff">
        <code>
          {lines.map(({ key, line, kind }) =>
            kind === "added" ? (
              <ins key={key} data-testid="diff-added">
                {"+ "}
                {line}
                {"\n"}
              </ins>
            ) : kind === "removed" ? (
              <del key={key} data-testid="diff-removed">
                {"− "}
                {line}
                {"\n"}
              </del>
            ) : (
              <span key={key}>
                {"  "}
                {line}
                {"\n"}
              </span>
            ),
          )}
        </code>
      </pre>
    </figure>
  );
}
