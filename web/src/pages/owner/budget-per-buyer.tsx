/**
 * Owner: a dataset's global ε budget — spent, left — and what each buyer spent of it, as a bar
 * chart with the same numbers in a table (DatasetPrivacyBudget.spentByBuyer).
 */
import { useMemo, useState } from "react";
import { graphql } from "../../../client/graphql.ts";
import { useI18n } from "../../i18n/index.ts";
import { useClient } from "../../session.ts";
import { useAsync } from "../../use-async.ts";
import { num } from "../../format.ts";
import { BarChart } from "../../components/chart.tsx";
import { ErrorLine } from "../../components/status.tsx";
import { buyerLabel } from "./buyer-label.ts";

const DatasetNames = graphql(`
  query OwnerDatasetNames { datasets(first: 50) { edges { node { id name } } } }
`);

const BudgetQuery = graphql(`
  query OwnerBudget($datasetId: ID!) {
    datasetPrivacyBudget(datasetId: $datasetId) {
      __typename
      ... on QueryDatasetPrivacyBudgetSuccess {
        data { epsilonBudget epsilonSpent epsilonRemaining ownerEpsilonSpent buyers queriesCharged spentByBuyer(first: 20) { buyerId epsilonSpent queriesCharged } }
      }
      ... on DomainError { code message }
    }
  }
`);

export function BudgetPerBuyer() {
  const { t } = useI18n();
  const client = useClient();
  const names = useAsync(() => client(DatasetNames), []);
  const [chosen, setChosen] = useState<string | null>(null);
  const datasets = names.data?.datasets.edges.map((e) => e.node) ?? [];
  const datasetId = chosen ?? datasets[0]?.id ?? null;
  return (
    <section aria-labelledby="budget-title">
      <h2 id="budget-title">{t("budgetPerBuyer")}</h2>
      <ErrorLine message={names.error} />
      {datasets.length === 0 ? (
        <p>{t("none")}</p>
      ) : (
        <label>
          {t("dataset")}
          <select value={datasetId ?? ""} onChange={(e) => setChosen(e.target.value)}>
            {datasets.map((d) => (
              <option key={d.id} value={d.id}>
                {d.name}
              </option>
            ))}
          </select>
        </label>
      )}
      {datasetId && <DatasetBudget key={datasetId} datasetId={datasetId} />}
    </section>
  );
}

function DatasetBudget({ datasetId }: { datasetId: string }) {
  const { t, lang } = useI18n();
  const client = useClient();
  const { data, error } = useAsync(() => client(BudgetQuery, { datasetId }), [datasetId]);
  const budget = data?.datasetPrivacyBudget.__typename === "QueryDatasetPrivacyBudgetSuccess" ? data.datasetPrivacyBudget.data : null;
  const chart = useMemo(
    () => ({
      labels: budget?.spentByBuyer.map((b) => buyerLabel(b.buyerId)) ?? [],
      values: budget?.spentByBuyer.map((b) => Number(b.epsilonSpent)) ?? [],
    }),
    [budget],
  );
  if (error) return <ErrorLine message={error} />;
  if (data && !budget) return <ErrorLine message={"message" in data.datasetPrivacyBudget ? data.datasetPrivacyBudget.message : "not found"} />;
  if (!budget) return null;
  const eps = (v: number | string | null) => (v == null ? "—" : num(Number(v), lang, 6));
  return (
    <div data-testid="budget">
      <dl>
        <dt>{t("epsilonSpentTotal")}</dt>
        <dd data-testid="budget-spent">
          {eps(budget.epsilonSpent)} / {eps(budget.epsilonBudget)}
        </dd>
        <dt>{t("epsilonLeft")}</dt>
        <dd>{eps(budget.epsilonRemaining)}</dd>
        <dt>{t("queriesCharged")}</dt>
        <dd>{budget.queriesCharged}</dd>
        <dt>{t("ownerEpsilonSpent")}</dt>
        <dd data-testid="owner-spend">{eps(budget.ownerEpsilonSpent)}</dd>
      </dl>
      {budget.spentByBuyer.length === 0 ? (
        <p>{t("noSpendYet")}</p>
      ) : (
        <>
          <BarChart labels={chart.labels} values={chart.values} caption={t("budgetChartCaption")} testId="budget-chart" />
          <table>
            <thead>
              <tr>
                <th scope="col">{t("buyer")}</th>
                <th scope="col">{t("epsilonSpent")}</th>
                <th scope="col">{t("queriesCharged")}</th>
              </tr>
            </thead>
            <tbody>
              {budget.spentByBuyer.map((b) => (
                <tr key={b.buyerId} data-testid="buyer-spend">
                  <th scope="row" className="mono">
                    {buyerLabel(b.buyerId)}
                  </th>
                  <td>{eps(b.epsilonSpent)}</td>
                  <td>{b.queriesCharged}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </div>
  );
}
