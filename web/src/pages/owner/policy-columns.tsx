/** The policy editor's column table: each column's role, and its keys, bucket edges or bounds. */
import { useI18n } from "../../i18n/index.ts";
import { FieldError, invalidProps } from "./field-error.tsx";
import type { ColumnInfo, ColumnRole, ColumnRule, DimensionKind, FieldProblem, PolicyDraft } from "./policy-draft.ts";

interface Props {
  columns: readonly ColumnInfo[];
  draft: PolicyDraft;
  problems: Record<string, FieldProblem>;
  onChange(columns: Record<string, ColumnRule>): void;
}

const KINDS: DimensionKind[] = ["keys", "edges", "dateEdges", "derivedKeys"];

export function PolicyColumns({ columns, draft, problems, onChange }: Props) {
  const { t } = useI18n();
  const set = (name: string, patch: Partial<ColumnRule>) => onChange({ ...draft.columns, [name]: { ...draft.columns[name]!, ...patch } });
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">{t("column")}</th>
          <th scope="col">{t("type")}</th>
          <th scope="col">{t("role")}</th>
          <th scope="col">{t("rule")}</th>
        </tr>
      </thead>
      <tbody>
        {columns.map((c) => {
          const rule = draft.columns[c.name]!;
          const isUnit = c.name === draft.privacyUnit;
          const roleField = `role:${c.name}`;
          return (
            <tr key={c.name} data-testid="policy-column">
              <th scope="row">{c.name}</th>
              <td>{c.type.toLowerCase()}</td>
              <td>
                {isUnit ? (
                  t("privacyUnitRole")
                ) : (
                  <>
                    <select
                      aria-label={t("roleOf", { column: c.name })}
                      value={rule.role}
                      onChange={(e) => set(c.name, { role: e.target.value as ColumnRole })}
                      {...invalidProps(roleField, problems[roleField])}
                    >
                      <option value="none">{t("unused")}</option>
                      <option value="dimension">{t("useAsDimension")}</option>
                      <option value="measure">{t("useAsMeasure")}</option>
                    </select>
                    <FieldError field={roleField} problem={problems[roleField]} />
                  </>
                )}
              </td>
              <td>{!isUnit && <RuleCell column={c.name} rule={rule} problems={problems} set={(p) => set(c.name, p)} />}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function RuleCell({
  column,
  rule,
  problems,
  set,
}: {
  column: string;
  rule: ColumnRule;
  problems: Record<string, FieldProblem>;
  set(patch: Partial<ColumnRule>): void;
}) {
  const { t } = useI18n();
  const values = `values:${column}`;
  const lo = `lo:${column}`;
  const hi = `hi:${column}`;
  if (rule.role === "dimension") {
    return (
      <>
        <select aria-label={t("groupingOf", { column })} value={rule.kind} onChange={(e) => set({ kind: e.target.value as DimensionKind })}>
          {KINDS.map((k) => (
            <option key={k} value={k}>
              {t(`kind_${k}`)}
            </option>
          ))}
        </select>
        {rule.kind !== "derivedKeys" && (
          <input
            aria-label={t("valuesOf", { column })}
            value={rule.values}
            placeholder={rule.kind === "keys" ? "a, b, c" : rule.kind === "edges" ? "0, 10, 100" : "2024-01-01, 2024-02-01"}
            onChange={(e) => set({ values: e.target.value })}
            {...invalidProps(values, problems[values])}
          />
        )}
        <FieldError field={values} problem={problems[values]} />
      </>
    );
  }
  if (rule.role === "measure") {
    return (
      <div className="grid">
        <div>
          <input
            type="number"
            aria-label={t("lowerBoundOf", { column })}
            placeholder={t("lowerBound")}
            value={rule.lo}
            onChange={(e) => set({ lo: e.target.value })}
            {...invalidProps(lo, problems[lo])}
          />
          <FieldError field={lo} problem={problems[lo]} />
        </div>
        <div>
          <input
            type="number"
            aria-label={t("upperBoundOf", { column })}
            placeholder={t("upperBound")}
            value={rule.hi}
            onChange={(e) => set({ hi: e.target.value })}
            {...invalidProps(hi, problems[hi])}
          />
          <FieldError field={hi} problem={problems[hi]} />
        </div>
      </div>
    );
  }
  return null;
}
