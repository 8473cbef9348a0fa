/**
 * Owner: bounds suggested from the data. The owner spends a small ε from the dataset's budget
 * (recorded there and in the audit log) on a DP profile of how much each privacy unit contributes,
 * and sees the suggested bounds next to the current ones, with each typical query's expected bias
 * and noise under both (a table, and a chart of the total). "Apply" fills the policy draft's
 * bounds; the owner then saves the policy as usual.
 */
import { useState, type FormEvent } from "react";
import { graphql } from "../../../client/graphql.ts";
import { useI18n } from "../../i18n/index.ts";
import { useClient } from "../../session.ts";
import { domainMessage, num, percent } from "../../format.ts";
import { ErrorLine } from "../../components/status.tsx";
import { BarChart } from "../../components/chart.tsx";
import { FieldError, invalidProps } from "./field-error.tsx";
import type { FieldProblem, SuggestedBounds } from "./policy-draft.ts";

export const SuggestBoundsMutation = graphql(`
  mutation SuggestBounds($datasetId: ID!, $epsilon: Epsilon) {
    suggestPolicyBounds(datasetId: $datasetId, epsilon: $epsilon) {
      __typename
      ... on MutationSuggestPolicyBoundsSuccess {
        data {
          datasetVersion epsilonPerQuery epsilonSpent datasetEpsilonRemaining note
          policy { version }
          current { expectedRelError maxGroupsPerUnit maxRowsPerUnit measures { column lo hi } }
          suggested { expectedRelError maxGroupsPerUnit maxRowsPerUnit measures { column lo hi } }
          typicalQueries {
            kind column groupBy
            current { expectedRelBias expectedRelNoise }
            suggested { expectedRelBias expectedRelNoise }
          }
        }
      }
      ... on InvalidInput { issues { path message } }
      ... on BudgetExhausted { cap epsilonRemaining epsilonRequested }
      ... on DomainError { code message }
    }
  }
`);

interface Bounds extends SuggestedBounds {
  expectedRelError: number;
}

interface Suggestion {
  datasetVersion: number;
  epsilonPerQuery: number;
  epsilonSpent: number;
  datasetEpsilonRemaining: number;
  note: string | null;
  policyVersion: number;
  current: Bounds;
  suggested: Bounds;
  queries: Array<{
    label: string;
    current: { bias: number; noise: number } | null;
    suggested: { bias: number; noise: number };
  }>;
}

const isPositive = (s: string) => s.trim() !== "" && Number.isFinite(Number(s)) && Number(s) > 0;

/** "COUNT by district × age", "SUM(spend) by district". */
function queryLabel(q: { kind: string; column: string | null; groupBy: readonly string[] }, by: string): string {
  const head = q.column ? `${q.kind}(${q.column})` : q.kind;
  return q.groupBy.length > 0 ? `${head} ${by} ${q.groupBy.join(" × ")}` : head;
}

interface Props {
  datasetId: string;
  /** Fills the policy draft's bounds with the suggested ones. */
  onApply: (suggested: SuggestedBounds) => void;
  /** The profile is kept with a new policy version: the page reloads the policy. */
  onProfiled: () => void;
}

export function BoundsSuggestion({ datasetId, onApply, onProfiled }: Props) {
  const { t, lang } = useI18n();
  const client = useClient();
  const [epsilon, setEpsilon] = useState("0.1");
  const [problem, setProblem] = useState<FieldProblem | undefined>(undefined);
  const [formError, setFormError] = useState<string | null>(null);
  const [result, setResult] = useState<Suggestion | null>(null);
  const [applied, setApplied] = useState(false);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    setFormError(null);
    setProblem(undefined);
    if (!isPositive(epsilon)) {
      setProblem({ key: "vPositive" });
      return;
    }
    setBusy(true);
    try {
      const { suggestPolicyBounds: r } = await client(SuggestBoundsMutation, { datasetId, epsilon: epsilon.trim() });
      if (r.__typename === "MutationSuggestPolicyBoundsSuccess") {
        const d = r.data;
        const bounds = (b: typeof d.current): Bounds => ({
          expectedRelError: b.expectedRelError,
          maxRowsPerUnit: b.maxRowsPerUnit,
          maxGroupsPerUnit: b.maxGroupsPerUnit,
          measures: b.measures.map((m) => ({ column: m.column, lo: m.lo, hi: m.hi })),
        });
        setApplied(false);
        setResult({
          datasetVersion: d.datasetVersion,
          epsilonPerQuery: Number(d.epsilonPerQuery),
          epsilonSpent: Number(d.epsilonSpent),
          datasetEpsilonRemaining: Number(d.datasetEpsilonRemaining),
          note: d.note ?? null,
          policyVersion: d.policy.version,
          current: bounds(d.current),
          suggested: bounds(d.suggested),
          queries: d.typicalQueries.map((q) => ({
            label: queryLabel(q, t("groupedBy")),
            current: q.current ? { bias: q.current.expectedRelBias, noise: q.current.expectedRelNoise } : null,
            suggested: { bias: q.suggested.expectedRelBias, noise: q.suggested.expectedRelNoise },
          })),
        });
        onProfiled();
      } else if (r.__typename === "InvalidInput") {
        const onEpsilon = r.issues.filter((i) => /(^|\.)epsilon$/.test(i.path));
        const rest = r.issues.filter((i) => !onEpsilon.includes(i));
        if (onEpsilon.length > 0) setProblem({ text: onEpsilon.map((i) => i.message).join("; ") });
        if (rest.length > 0) setFormError(rest.map((i) => `${i.path}: ${i.message}`).join("; "));
      } else if (r.__typename === "BudgetExhausted") {
        setFormError(
          t("suggestBudgetExhausted", {
            requested: num(Number(r.epsilonRequested), lang, 6),
            remaining: num(Number(r.epsilonRemaining), lang, 6),
          }),
        );
      } else setFormError(domainMessage(r));
    } catch (err) {
      setFormError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  const pct = (v: number) => percent(v, lang);
  const clampText = (b: Bounds, column: string) => {
    const m = b.measures.find((x) => x.column === column);
    return m ? `[${num(m.lo, lang, 4)}, ${num(m.hi, lang, 4)}]` : "—";
  };
  const measureColumns = result ? [...new Set([...result.current.measures, ...result.suggested.measures].map((m) => m.column))] : [];

  return (
    <section aria-labelledby="suggest-title" data-testid="bounds-suggestion">
      <h3 id="suggest-title">{t("suggestTitle")}</h3>
      <form onSubmit={submit} aria-label={t("suggestTitle")} noValidate>
        <label htmlFor="suggest-epsilon">{t("suggestEpsilon")}</label>
        <input
          id="suggest-epsilon"
          name="suggestEpsilon"
          type="number"
          step="0.01"
          min="0"
          value={epsilon}
          aria-describedby={problem ? undefined : "suggest-epsilon-help"}
          onChange={(e) => {
            setEpsilon(e.target.value);
            setProblem(undefined);
          }}
          {...invalidProps("suggestEpsilon", problem)}
        />
        <small id="suggest-epsilon-help">{t("suggestEpsilonHelp")}</small>
        <FieldError field="suggestEpsilon" problem={problem} />
        <ErrorLine message={formError} />
        <button type="submit" className="secondary" aria-busy={busy} disabled={busy}>
          {t("suggestButton")}
        </button>
      </form>
      {result && (
        <div data-testid="suggestion-result">
          <p role="status" data-testid="suggest-spent" data-policy-version={result.policyVersion}>
            {t("suggestSpent", {
              spent: num(result.epsilonSpent, lang, 6),
              left: num(result.datasetEpsilonRemaining, lang, 6),
              version: result.policyVersion,
            })}
          </p>
          {result.note && (
            <p className="note" data-testid="suggest-note">
              {t("suggestNote", { note: result.note })}
            </p>
          )}
          <table aria-label={t("suggestBoundsTable")}>
            <caption>{t("suggestBoundsTable")}</caption>
            <thead>
              <tr>
                <th scope="col">{t("bound")}</th>
                <th scope="col">{t("currentBounds")}</th>
                <th scope="col">{t("suggestedBounds")}</th>
              </tr>
            </thead>
            <tbody>
              <tr>
                <th scope="row">{t("maxGroupsPerUnit")}</th>
                <td data-testid="current-groups">{result.current.maxGroupsPerUnit}</td>
                <td data-testid="suggested-groups">{result.suggested.maxGroupsPerUnit}</td>
              </tr>
              <tr>
                <th scope="row">{t("maxRowsPerUnit")}</th>
                <td data-testid="current-rows">{result.current.maxRowsPerUnit}</td>
                <td data-testid="suggested-rows">{result.suggested.maxRowsPerUnit}</td>
              </tr>
              {measureColumns.map((c) => (
                <tr key={c} data-testid="clamp-row" data-column={c}>
                  <th scope="row">{t("clampOf", { column: c })}</th>
                  <td data-testid="current-clamp">{clampText(result.current, c)}</td>
                  <td
                    data-testid="suggested-clamp"
                    data-lo={result.suggested.measures.find((m) => m.column === c)?.lo}
                    data-hi={result.suggested.measures.find((m) => m.column === c)?.hi}
                  >
                    {clampText(result.suggested, c)}
                  </td>
                </tr>
              ))}
              <tr>
                <th scope="row">{t("expectedRelErrorTotal")}</th>
                <td data-testid="current-error">{pct(result.current.expectedRelError)}</td>
                <td data-testid="suggested-error">{pct(result.suggested.expectedRelError)}</td>
              </tr>
            </tbody>
          </table>
          <BarChart
            labels={[t("currentBounds"), t("suggestedBounds")]}
            values={[result.current.expectedRelError * 100, result.suggested.expectedRelError * 100]}
            caption={t("suggestChartCaption", { epsilon: num(result.epsilonPerQuery, lang, 6) })}
            testId="suggest-chart"
          />
          <table aria-label={t("typicalQueries")}>
            <caption>{t("typicalQueriesCaption", { epsilon: num(result.epsilonPerQuery, lang, 6) })}</caption>
            <thead>
              <tr>
                <th scope="col">{t("typicalQuery")}</th>
                <th scope="col">{t("biasCurrent")}</th>
                <th scope="col">{t("noiseCurrent")}</th>
                <th scope="col">{t("biasSuggested")}</th>
                <th scope="col">{t("noiseSuggested")}</th>
              </tr>
            </thead>
            <tbody>
              {result.queries.map((q, i) => (
                <tr key={`${i}-${q.label}`} data-testid="typical-query">
                  <th scope="row">{q.label}</th>
                  <td>{q.current ? pct(q.current.bias) : t("unknown")}</td>
                  <td>{q.current ? pct(q.current.noise) : t("unknown")}</td>
                  <td>{pct(q.suggested.bias)}</td>
                  <td>{pct(q.suggested.noise)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <button
            type="button"
            onClick={() => {
              onApply(result.suggested);
              setApplied(true);
            }}
          >
            {t("applySuggestion")}
          </button>
          {applied && (
            <p className="ok" role="status" data-testid="suggestion-applied">
              {t("suggestionApplied")}
            </p>
          )}
        </div>
      )}
    </section>
  );
}
