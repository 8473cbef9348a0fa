/**
 * Regulator: trade volumes per day or month as a chart and a table, from the log itself — the
 * settled trades (auditTradeReport, from the trade.settled events the run path logs with every
 * charge; free queries are not trades); and downloads of the signed log.
 */
import { useMemo, useState } from "react";
import { graphql } from "../../../client/graphql.ts";
import { useI18n } from "../../i18n/index.ts";
import { useClient, useSession } from "../../session.ts";
import { useAsync } from "../../use-async.ts";
import { money } from "../../format.ts";
import { LineChart } from "../../components/chart.tsx";
import { ErrorLine, Loading } from "../../components/status.tsx";

const TradeReport = graphql(`
  query TradeReport($period: AuditReportPeriod!) {
    auditTradeReport(period: $period, groupBy: DATASET) { period groupId trades amountMinor currency }
  }
`);

type Period = "DAY" | "MONTH";

export function TradesPage() {
  const { t, lang } = useI18n();
  const client = useClient();
  const [period, setPeriod] = useState<Period>("DAY");
  const { data, error } = useAsync(() => client(TradeReport, { period }), [period]);
  const totals = useMemo(() => {
    const byPeriod = new Map<string, { trades: number; amount: number; currency: string }>();
    const add = (key: string, trades: number, amount: number, currency: string) => {
      const p = byPeriod.get(key) ?? { trades: 0, amount: 0, currency };
      p.trades += trades;
      p.amount += amount;
      byPeriod.set(key, p);
    };
    for (const r of data?.auditTradeReport ?? []) add(r.period, r.trades, r.amountMinor, r.currency);
    return [...byPeriod.entries()].sort(([a], [b]) => a.localeCompare(b));
  }, [data]);
  return (
    <section>
      <h1>{t("tradeReport")}</h1>
      <label>
        {t("period")}
        <select value={period} onChange={(e) => setPeriod(e.target.value as Period)}>
          <option value="DAY">DAY</option>
          <option value="MONTH">MONTH</option>
        </select>
      </label>
      <ExportLinks />
      <ErrorLine message={error} />
      {!data && !error && <Loading />}
      {data && totals.length === 0 && <p>{t("none")}</p>}
      {totals.length > 0 && (
        <>
          <LineChart
            labels={totals.map(([p]) => p)}
            series={[{ name: t("trades"), values: totals.map(([, v]) => v.trades) }]}
            caption={t("tradeReport")}
            testId="trade-chart"
          />
          <table>
            <thead>
              <tr>
                <th scope="col">{t("period")}</th>
                <th scope="col">{t("trades")}</th>
                <th scope="col">{t("revenue")}</th>
              </tr>
            </thead>
            <tbody>
              {totals.map(([p, v]) => (
                <tr key={p} data-testid="trade-row">
                  <td>{p}</td>
                  <td>{v.trades}</td>
                  <td>{money(v.amount, v.currency, lang)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

/** The exports need the bearer credential, so they are fetched and handed to the browser as a download. */
function ExportLinks() {
  const { t } = useI18n();
  const { session } = useSession();
  const download = async (path: string, name: string) => {
    const res = await fetch(path, { headers: { authorization: `Bearer ${session?.token ?? ""}` } });
    const url = URL.createObjectURL(await res.blob());
    const a = document.createElement("a");
    a.href = url;
    a.download = name;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };
  return (
    <p>
      <button type="button" className="secondary" onClick={() => void download("/audit/export.ndjson", "audit-log.ndjson")}>
        {t("exportLog")}
      </button>{" "}
      <button type="button" className="secondary outline" onClick={() => void download("/audit/export.csv", "audit-log.csv")}>
        {t("exportCsv")}
      </button>
    </p>
  );
}
