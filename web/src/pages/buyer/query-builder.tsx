/**
 * The query builder: dimensions to group by, key filters, aggregates and ε. "Get quote" asks
 * quoteQuery; "Run" stays disabled until the quote matches the current form, and sends the quoted
 * price as maxPrice so the buyer is never charged more than they saw.
 */
import { useMemo, useState } from "react";
import { graphql, type ResultOf, type VariablesOf } from "../../../client/graphql.ts";
import { useI18n } from "../../i18n/index.ts";
import { useClient } from "../../session.ts";
import { domainMessage, money, num } from "../../format.ts";
import { QuoteErrors } from "./quote-errors.tsx";
import { ErrorLine } from "../../components/status.tsx";
import { ResultView } from "./result-view.tsx";

const QuoteQuery = graphql(`
  query Quote($input: QueryInput!) {
    quoteQuery(input: $input) {
      __typename
      ... on QueryQuoteQuerySuccess {
        data { rowsPriced releaseAfterMs suppressBelowUnits epsilon buyerEpsilonRemaining statistics { aggregateIndex kind column epsilon expectedStdDev } expectedErrors { aggregateIndex kind column noiseStdDev expectedRelBias expectedRelNoise relErrorInterval { lo hi } } price { amount currency } }
      }
      ... on PolicyViolation { rule path message }
      ... on DomainError { code message }
    }
  }
`);

const RunQuery = graphql(`
  mutation Run($input: RunQueryInput!) {
    runQuery(input: $input) {
      __typename
      ... on MutationRunQuerySuccess { data { cached charged { amount currency } groups { key { column value } values { aggregateIndex kind column value } } } }
      ... on DomainError { code message }
    }
  }
`);

export type QueryInput = VariablesOf<typeof QuoteQuery>["input"];
export type QuoteData = Extract<ResultOf<typeof QuoteQuery>["quoteQuery"], { __typename: "QueryQuoteQuerySuccess" }>["data"];
export type RunData = Extract<ResultOf<typeof RunQuery>["runQuery"], { __typename: "MutationRunQuerySuccess" }>["data"];

interface Policy {
  epsilonPerQuery: number | string;
  aggregates: readonly string[];
  dimensions: ReadonlyArray<{ column: string; keys: readonly string[] | null; edges: readonly number[] | null }>;
  measures: ReadonlyArray<{ column: string; lo: number; hi: number }>;
}

type AggregateKind = QueryInput["aggregates"][number]["kind"];

export function QueryBuilder({ listingId, policy, onRan }: { listingId: string; policy: Policy; onRan: () => void }) {
  const { t, lang } = useI18n();
  const client = useClient();
  const aggregateOptions = useMemo(() => {
    const out: Array<{ id: string; kind: AggregateKind; column?: string }> = [];
    for (const kind of policy.aggregates) {
      if (kind === "COUNT_UNITS" || kind === "COUNT_ROWS") out.push({ id: kind, kind });
      if (kind === "SUM" || kind === "AVG") for (const m of policy.measures) out.push({ id: `${kind}:${m.column}`, kind, column: m.column });
    }
    return out;
  }, [policy]);
  const [groupBy, setGroupBy] = useState<string[]>(policy.dimensions[0] ? [policy.dimensions[0].column] : []);
  const [filters, setFilters] = useState<Record<string, string[]>>({});
  const [aggregates, setAggregates] = useState<string[]>(aggregateOptions[0] ? [aggregateOptions[0].id] : []);
  const [epsilon, setEpsilon] = useState(String(policy.epsilonPerQuery));
  const [quote, setQuote] = useState<{ key: string; data: QuoteData } | null>(null);
  const [result, setResult] = useState<{ run: RunData; quote: QuoteData } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const input: QueryInput = {
    listingId,
    groupBy,
    filters: Object.entries(filters)
      .filter(([, values]) => values.length > 0)
      .map(([column, values]) => ({ column, in: values })),
    aggregates: aggregates.flatMap((id) => {
      const o = aggregateOptions.find((a) => a.id === id);
      return o ? [{ kind: o.kind, ...(o.column ? { column: o.column } : {}) }] : [];
    }),
    epsilon,
  };
  const key = JSON.stringify(input);
  const toggle = (list: string[], value: string) => (list.includes(value) ? list.filter((v) => v !== value) : [...list, value]);

  const getQuote = async () => {
    setBusy(true);
    setError(null);
    try {
      const { quoteQuery } = await client(QuoteQuery, { input });
      if (quoteQuery.__typename === "QueryQuoteQuerySuccess") setQuote({ key, data: quoteQuery.data });
      else setError(domainMessage(quoteQuery));
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  const run = async () => {
    if (!quote || quote.key !== key) return;
    setBusy(true);
    setError(null);
    try {
      const { runQuery } = await client(RunQuery, {
        input: { query: input, idempotencyKey: crypto.randomUUID(), maxPrice: quote.data.price?.amount ?? 0 },
      });
      if (runQuery.__typename === "MutationRunQuerySuccess") {
        setResult({ run: runQuery.data, quote: quote.data });
        onRan();
      } else setError(domainMessage(runQuery));
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  const current = quote && quote.key === key ? quote.data : null;
  const price = current?.price ? money(current.price.amount, current.price.currency, lang) : "—";

  return (
    <section aria-labelledby="qb-title">
      <h2 id="qb-title">{t("queryBuilder")}</h2>
      <form onSubmit={(e) => (e.preventDefault(), void getQuote())}>
        <fieldset>
          <legend>{t("dimensions")}</legend>
          {policy.dimensions.map((d) => (
            <label key={d.column}>
              <input
                type="checkbox"
                name="groupBy"
                value={d.column}
                checked={groupBy.includes(d.column)}
                onChange={() => setGroupBy(toggle(groupBy, d.column))}
              />
              {d.column}
            </label>
          ))}
        </fieldset>
        {policy.dimensions
          .filter((d) => d.keys && d.keys.length > 0)
          .map((d) => (
            <details key={d.column}>
              <summary>{t("filterValues", { column: d.column })}</summary>
              <fieldset>
                {d.keys!.map((k) => (
                  <label key={k}>
                    <input
                      type="checkbox"
                      name={`filter-${d.column}`}
                      value={k}
                      checked={(filters[d.column] ?? []).includes(k)}
                      onChange={() => setFilters({ ...filters, [d.column]: toggle(filters[d.column] ?? [], k) })}
                    />
                    {k}
                  </label>
                ))}
              </fieldset>
            </details>
          ))}
        <fieldset>
          <legend>{t("aggregates")}</legend>
          {aggregateOptions.map((a) => (
            <label key={a.id}>
              <input
                type="checkbox"
                name="aggregate"
                value={a.id}
                checked={aggregates.includes(a.id)}
                onChange={() => setAggregates(toggle(aggregates, a.id))}
              />
              {a.column ? `${a.kind}(${a.column})` : a.kind}
            </label>
          ))}
        </fieldset>
        <label>
          {t("epsilon")}
          <input name="epsilon" type="number" step="0.01" min="0.01" max="1" value={epsilon} onChange={(e) => setEpsilon(e.target.value)} required />
        </label>
        <button type="submit" aria-busy={busy}>
          {t("getQuote")}
        </button>
      </form>
      <ErrorLine message={error} />
      {current && (
        <article data-testid="quote" aria-live="polite">
          <header>{t("quote")}</header>
          <dl>
            <dt>{t("price")}</dt>
            <dd data-testid="quote-price">{price}</dd>
            <dt>ε</dt>
            <dd data-testid="quote-epsilon">{num(Number(current.epsilon), lang, 6)}</dd>
            <dt>{t("epsilonLeft")}</dt>
            <dd>{num(Number(current.buyerEpsilonRemaining), lang, 6)}</dd>
          </dl>
          <table>
            <thead>
              <tr>
                <th scope="col">{t("statistic")}</th>
                <th scope="col">ε</th>
                <th scope="col">{t("expectedError")}</th>
              </tr>
            </thead>
            <tbody>
              {current.statistics.map((s, i) => (
                <tr key={i}>
                  <td>{s.column ? `${s.kind}(${s.column})` : s.kind}</td>
                  <td>{num(Number(s.epsilon), lang, 6)}</td>
                  <td data-testid="quote-error">± {num(s.expectedStdDev, lang)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <QuoteErrors errors={current.expectedErrors} />
          <button type="button" onClick={() => void run()} disabled={busy} aria-busy={busy}>
            {t("runQuery", { price })}
          </button>
        </article>
      )}
      {result && <ResultView run={result.run} quote={result.quote} />}
    </section>
  );
}
