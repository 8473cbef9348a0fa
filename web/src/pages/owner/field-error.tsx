/**
 * An error shown next to the field it names (the console's own check, or the API's issue for
 * that path), linked to the control by aria-describedby so screen readers read it with the field.
 */
import { useI18n } from "../../i18n/index.ts";
import type { FieldProblem } from "./policy-draft.ts";

export function fieldErrorId(field: string): string {
  return `err-${field.replace(/[^A-Za-z0-9-]/g, (c) => `_${c.codePointAt(0)!.toString(16)}`)}`;
}

/** Props for the control a problem belongs to. */
export function invalidProps(field: string, problem: FieldProblem | undefined) {
  return problem ? { "aria-invalid": true as const, "aria-describedby": fieldErrorId(field) } : {};
}

export function FieldError({ field, problem }: { field: string; problem: FieldProblem | undefined }) {
  const { t } = useI18n();
  if (!problem) return null;
  return (
    <small id={fieldErrorId(field)} className="error" data-testid="field-error">
      {"text" in problem ? problem.text : t(problem.key, problem.vars)}
    </small>
  );
}
