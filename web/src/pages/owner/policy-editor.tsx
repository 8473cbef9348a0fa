/**
 * Owner: the privacy policy of one dataset, checked against its latest version's columns. Each
 * column gets a role (not released, dimension with public keys or bucket edges, measure with
 * bounds); the console checks what it can as you type, and any issue the API finds is shown next
 * to the field its path names.
 */
import { useMemo, useState, type FormEvent } from "react";
import { graphql } from "../../../client/graphql.ts";
import { useI18n } from "../../i18n/index.ts";
import { useClient } from "../../session.ts";
import { domainMessage } from "../../format.ts";
import { ErrorLine } from "../../components/status.tsx";
import { FieldError, invalidProps } from "./field-error.tsx";
import { PolicyColumns } from "./policy-columns.tsx";
import { BoundsSuggestion } from "./bounds-suggestion.tsx";
import {
  AGGREGATES,
  applySuggestion,
  checkDraft,
  draftFrom,
  fieldOf,
  policyInput,
  type ColumnInfo,
  type CurrentPolicy,
  type FieldProblem,
  type PolicyDraft,
} from "./policy-draft.ts";

const DeclarePolicy = graphql(`
  mutation DeclarePolicy($input: DeclarePrivacyPolicyInput!) {
    declarePrivacyPolicy(input: $input) {
      __typename
      ... on MutationDeclarePrivacyPolicySuccess { data { version } }
      ... on InvalidInput { issues { path message } }
      ... on BudgetBelowSpent { field }
      ... on DomainError { code message }
    }
  }
`);

interface Props {
  datasetId: string;
  columns: readonly ColumnInfo[];
  rowCount: number | null;
  policy: CurrentPolicy | null;
  onSaved: () => void;
}

export function PolicyEditor({ datasetId, columns, rowCount, policy, onSaved }: Props) {
  const { t } = useI18n();
  const client = useClient();
  const [draft, setDraft] = useState<PolicyDraft>(() => draftFrom(columns, policy));
  const [touched, setTouched] = useState(false);
  const [apiProblems, setApiProblems] = useState<Record<string, FieldProblem>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [saved, setSaved] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const [baseVersion, setBaseVersion] = useState<number | null>(policy?.version ?? null);
  // A new policy version from elsewhere (saved here, chosen at publication, or kept with a
  // suggestion's profile) replaces the draft unless it holds unsaved edits.
  if ((policy?.version ?? null) !== baseVersion) {
    setBaseVersion(policy?.version ?? null);
    if (!touched || saved !== null) setDraft(draftFrom(columns, policy));
  }
  const local = useMemo(() => checkDraft(draft), [draft]);
  const problems: Record<string, FieldProblem> = { ...(touched ? local : {}), ...apiProblems };

  const update = (patch: Partial<PolicyDraft>) => {
    setDraft((d) => ({ ...d, ...patch }));
    setTouched(true);
    setApiProblems({});
    setSaved(null);
  };
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    setTouched(true);
    setFormError(null);
    setSaved(null);
    if (Object.keys(local).length > 0) return;
    const { input, dims, measures } = policyInput(datasetId, draft, columns, rowCount);
    setBusy(true);
    try {
      const { declarePrivacyPolicy: r } = await client(DeclarePolicy, { input });
      if (r.__typename === "MutationDeclarePrivacyPolicySuccess") {
        setSaved(r.data.version);
        onSaved();
      } else if (r.__typename === "InvalidInput") {
        const byField: Record<string, FieldProblem> = {};
        const rest: string[] = [];
        for (const issue of r.issues) {
          const field = fieldOf(issue.path, dims, measures);
          if (field === "form") rest.push(`${issue.path}: ${issue.message}`);
          else byField[field] ??= { text: issue.message };
        }
        setApiProblems(byField);
        if (rest.length > 0) setFormError(rest.join("; "));
      } else if (r.__typename === "BudgetBelowSpent") {
        setApiProblems({ [r.field]: { text: r.message } });
      } else setFormError(domainMessage(r));
    } catch (err) {
      setFormError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  const numberField = (
    field: "epsilonPerQuery" | "buyerEpsilonBudget" | "datasetEpsilonBudget" | "minGroupSize" | "maxRowsPerUnit" | "maxGroupsPerUnit",
    label: string,
    step: string,
  ) => (
    <div>
      <label htmlFor={`policy-${field}`}>{label}</label>
      <input
        id={`policy-${field}`}
        name={field}
        type="number"
        step={step}
        value={draft[field]}
        onChange={(e) => update({ [field]: e.target.value })}
        {...invalidProps(field, problems[field])}
      />
      <FieldError field={field} problem={problems[field]} />
    </div>
  );
  return (
    <section aria-labelledby="policy-title">
      <h2 id="policy-title">{t("policy")}</h2>
      {policy === null && <p>{t("noPolicyYet")}</p>}
      <form onSubmit={submit} aria-label={t("policy")} noValidate>
        <label htmlFor="policy-privacyUnit">{t("privacyUnit")}</label>
        <select
          id="policy-privacyUnit"
          name="privacyUnit"
          value={draft.privacyUnit}
          onChange={(e) => update({ privacyUnit: e.target.value })}
          {...invalidProps("privacyUnit", problems.privacyUnit)}
        >
          <option value="">—</option>
          {columns.map((c) => (
            <option key={c.name} value={c.name}>
              {c.name} ({c.type.toLowerCase()})
            </option>
          ))}
        </select>
        <FieldError field="privacyUnit" problem={problems.privacyUnit} />
        <PolicyColumns columns={columns} draft={draft} problems={problems} onChange={(columnsRules) => update({ columns: columnsRules })} />
        <fieldset {...invalidProps("aggregates", problems.aggregates)}>
          <legend>{t("allowedAggregates")}</legend>
          {AGGREGATES.map((a) => (
            <label key={a}>
              <input
                type="checkbox"
                name="aggregates"
                value={a}
                checked={draft.aggregates.includes(a)}
                onChange={() =>
                  update({ aggregates: draft.aggregates.includes(a) ? draft.aggregates.filter((x) => x !== a) : [...draft.aggregates, a] })
                }
              />
              {a}
            </label>
          ))}
          <FieldError field="aggregates" problem={problems.aggregates} />
        </fieldset>
        <div className="grid">
          {numberField("epsilonPerQuery", t("epsilonPerQuery"), "0.01")}
          {numberField("buyerEpsilonBudget", t("buyerBudget"), "0.1")}
        </div>
        <div className="grid">
          {numberField("datasetEpsilonBudget", t("datasetBudget"), "0.1")}
          {numberField("minGroupSize", t("minGroupSize"), "1")}
        </div>
        <div className="grid">
          {numberField("maxGroupsPerUnit", t("maxGroupsPerUnit"), "1")}
          {numberField("maxRowsPerUnit", t("maxRowsPerUnit"), "1")}
        </div>
        <label>
          <input
            type="checkbox"
            name="publishRowCount"
            checked={draft.publishRowCount}
            onChange={(e) => update({ publishRowCount: e.target.checked })}
          />
          {t("publishRowCount")}
        </label>
        <ErrorLine message={formError} />
        {saved !== null && (
          <p className="ok" role="status" data-testid="policy-saved">
            {t("policySaved", { version: saved })}
          </p>
        )}
        <button type="submit" aria-busy={busy}>
          {t("savePolicy")}
        </button>
      </form>
      {policy !== null && (
        <BoundsSuggestion datasetId={datasetId} onApply={(suggested) => update(applySuggestion(draft, suggested))} onProfiled={onSaved} />
      )}
    </section>
  );
}
