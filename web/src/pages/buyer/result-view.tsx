/** A query's answer: one table of every group and value, and a bar chart of the first aggregate with ±1σ error bars. */
import { useMemo } from "react";
import { useI18n } from "../../i18n/index.ts";
import { money, num } from "../../format.ts";
import { BarChart } from "../../components/chart.tsx";
import type { QuoteData, RunData } from "./query-builder.tsx";

export function ResultView({ run, quote }: { run: RunData; quote: QuoteData }) {
  const { t, lang } = useI18n();
  const label = (g: RunData["groups"][number]) => g.key.map((k) => String(k.value)).join(" · ") || "—";
  const first = quote.statistics.find((s) => s.aggregateIndex === 0);
  const chart = useMemo(() => {
    const labels = run.groups.map(label);
    const values = run.groups.map((g) => g.values.find((v) => v.aggregateIndex === 0)?.value ?? 0);
    const errors = run.groups.map(() => first?.expectedStdDev ?? 0);
    return { labels, values, errors };
  }, [run, first]);
  const stat = first ? (first.column ? `${first.kind}(${first.column})` : first.kind) : "";
  const columns = run.groups[0]?.values ?? [];
  return (
    <section aria-labelledby="results-title" data-testid="results">
      <h2 id="results-title">{t("results")}</h2>
      <p>{run.cached ? t("cachedAnswer") : run.charged ? t("charged", { price: money(run.charged.amount, run.charged.currency, lang) }) : null}</p>
      <BarChart labels={chart.labels} values={chart.values} errors={chart.errors} caption={t("chartCaption", { stat })} testId="result-chart" />
      <table>
        <thead>
          <tr>
            <th scope="col">{t("group")}</th>
            {columns.map((v) => (
              <th scope="col" key={v.aggregateIndex}>
                {v.column ? `${v.kind}(${v.column})` : v.kind}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {run.groups.map((g, i) => (
            <tr key={i} data-testid="result-row">
              <th scope="row">{label(g)}</th>
              {g.values.map((v) => (
                <td key={v.aggregateIndex}>{v.value == null ? "—" : num(v.value, lang)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
