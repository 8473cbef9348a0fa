/** Buyer: search published listings in Chinese or English; each result links to its page. */
import { useState, type FormEvent } from "react";
import { graphql } from "../../../client/graphql.ts";
import { useI18n } from "../../i18n/index.ts";
import { useClient } from "../../session.ts";
import { useAsync } from "../../use-async.ts";
import { money, publicSize } from "../../format.ts";
import { ErrorLine, Loading } from "../../components/status.tsx";

const SearchQuery = graphql(`
  query SearchListings($query: String) {
    searchListings(query: $query, first: 20) {
      edges { node { id title { zh en } description { zh en } tags indicativeQueryPrice pricePlan { currency } publicSize { exactRows maxRows } } }
    }
  }
`);

export function Catalog() {
  const { t, lang } = useI18n();
  const client = useClient();
  const [query, setQuery] = useState("");
  const { data, error } = useAsync(() => client(SearchQuery, { query: query || null }), [query]);
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    setQuery(String(new FormData(e.currentTarget).get("q") ?? "").trim());
  };
  const pick = (text: { zh: string; en: string }) => (lang === "zh-CN" ? text.zh || text.en : text.en || text.zh);
  return (
    <section>
      <h1>{t("navCatalog")}</h1>
      <form role="search" onSubmit={submit}>
        <fieldset role="group">
          <input name="q" type="search" aria-label={t("searchLabel")} placeholder={t("searchLabel")} defaultValue={query} />
          <button type="submit">{t("search")}</button>
        </fieldset>
      </form>
      <ErrorLine message={error} />
      {!data && !error && <Loading />}
      {data && data.searchListings.edges.length === 0 && <p>{t("noResults")}</p>}
      {data?.searchListings.edges.map(({ node }) => (
        <article key={node.id} data-testid="listing-result">
          <header>
            <a href={`#/listing/${encodeURIComponent(node.id)}`}>{pick(node.title)}</a>
          </header>
          <p>{pick(node.description)}</p>
          <small>
            {t("indicativePrice")}: {money(node.indicativeQueryPrice, node.pricePlan.currency, lang)} · {t("rows")}:{" "}
            {publicSize(node.publicSize, lang) ?? t("sizeUndeclared")} · {node.tags.join(", ")}
          </small>
        </article>
      ))}
    </section>
  );
}
