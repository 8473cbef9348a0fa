/**
 * Buyer: one listing — declared schema, price, ε left, access — and the query builder, which
 * always shows the quote (price, ε, expected error) before the run button is enabled.
 */
import { useState, type FormEvent } from "react";
import { graphql } from "../../../client/graphql.ts";
import { useI18n } from "../../i18n/index.ts";
import { useClient } from "../../session.ts";
import { useAsync } from "../../use-async.ts";
import { money, num, publicSize } from "../../format.ts";
import { ErrorLine, Loading } from "../../components/status.tsx";
import { QueryBuilder } from "./query-builder.tsx";

const ListingQuery = graphql(`
  query BuyerListing($id: ID!) {
    listing(id: $id) {
      __typename
      ... on QueryListingSuccess {
        data {
          id title { zh en } description { zh en } licence permittedUse publicSize { exactRows maxRows } indicativeQueryPrice instantAccess
          pricePlan { currency perQueryFee pricePerEpsilon }
          columns { name type role nullable }
          policy { epsilonPerQuery aggregates dimensions { column keys edges } measures { column lo hi } }
          viewerAccess { status }
        }
      }
      ... on DomainError { code message }
    }
    privacyBudget(listingId: $id) {
      __typename
      ... on QueryPrivacyBudgetSuccess { data { epsilonRemaining epsilonSpent queriesRemaining } }
      ... on DomainError { code message }
    }
  }
`);

const RequestAccess = graphql(`
  mutation RequestAccess($input: RequestAccessInput!) {
    requestAccess(input: $input) { __typename ... on DomainError { code message } }
  }
`);

export function ListingPage({ args }: { args: string[] }) {
  const id = args[0] ?? "";
  const { t, lang } = useI18n();
  const client = useClient();
  const { data, error, reload } = useAsync(() => client(ListingQuery, { id }), [id]);
  const [actionError, setActionError] = useState<string | null>(null);
  if (error) return <ErrorLine message={error} />;
  if (!data) return <Loading />;
  if (data.listing.__typename !== "QueryListingSuccess")
    return <ErrorLine message={"message" in data.listing ? data.listing.message : "not found"} />;
  const listing = data.listing.data;
  const budget = data.privacyBudget.__typename === "QueryPrivacyBudgetSuccess" ? data.privacyBudget.data : null;
  const pick = (text: { zh: string; en: string }) => (lang === "zh-CN" ? text.zh || text.en : text.en || text.zh);
  const ask = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const purpose = String(new FormData(e.currentTarget).get("purpose") ?? "");
    const { requestAccess } = await client(RequestAccess, { input: { listingId: id, purpose } });
    if ("message" in requestAccess) setActionError(requestAccess.message);
    reload();
  };
  const status = listing.viewerAccess?.status ?? null;
  return (
    <section>
      <h1>{pick(listing.title)}</h1>
      <p>{pick(listing.description)}</p>
      <dl>
        <dt>{t("indicativePrice")}</dt>
        <dd data-testid="listing-price">{money(listing.indicativeQueryPrice, listing.pricePlan.currency, lang)}</dd>
        <dt>{t("rows")}</dt>
        <dd data-testid="listing-size">{publicSize(listing.publicSize, lang) ?? t("sizeUndeclared")}</dd>
        <dt>{t("epsilonLeft")}</dt>
        <dd data-testid="epsilon-left">{budget?.epsilonRemaining != null ? num(Number(budget.epsilonRemaining), lang, 6) : "—"}</dd>
        <dt>{t("licence")}</dt>
        <dd>{listing.licence}</dd>
      </dl>
      <h2>{t("schema")}</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">{t("column")}</th>
            <th scope="col">{t("type")}</th>
            <th scope="col">{t("role")}</th>
          </tr>
        </thead>
        <tbody>
          {listing.columns.map((c) => (
            <tr key={c.name}>
              <td>{c.name}</td>
              <td>{c.type ?? "—"}</td>
              <td>{c.role}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>{t("access")}</h2>
      {status && <p data-testid="access-status">{t("accessStatus", { status })}</p>}
      {status !== "APPROVED" && status !== "PENDING" && (
        <form onSubmit={ask}>
          <label>
            {t("purpose")}
            <input name="purpose" required minLength={3} />
          </label>
          <button type="submit">{t("requestAccess")}</button>
        </form>
      )}
      <ErrorLine message={actionError} />
      {status === "APPROVED" && listing.policy && <QueryBuilder listingId={id} policy={listing.policy} onRan={reload} />}
    </section>
  );
}
