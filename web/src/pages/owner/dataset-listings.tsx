/** Owner: the listings of one dataset, with status and list price; a draft can be published from here. */
import { useState } from "react";
import { graphql } from "../../../client/graphql.ts";
import { useI18n } from "../../i18n/index.ts";
import { useClient } from "../../session.ts";
import { useAsync } from "../../use-async.ts";
import { domainMessage, money, num } from "../../format.ts";
import { ErrorLine } from "../../components/status.tsx";
import { PublishListingMutation } from "./publish-listing.tsx";

const ListingsQuery = graphql(`
  query OwnerListings {
    myListings(first: 100) {
      edges { node { id datasetId datasetVersion status title { zh en } indicativeQueryPrice pricePlan { currency perQueryFee pricePerEpsilon pricePerMillionRows }
        boundsAtPublish { outcome maxGroupsPerUnit maxRowsPerUnit epsilonSpent note policyVersion } } }
    }
  }
`);

export function DatasetListings({ datasetId, refresh }: { datasetId: string; refresh: number }) {
  const { t, lang } = useI18n();
  const client = useClient();
  const { data, error, reload } = useAsync(() => client(ListingsQuery), [refresh]);
  const [actionError, setActionError] = useState<string | null>(null);
  const listings = data?.myListings.edges.map((e) => e.node).filter((l) => l.datasetId === datasetId) ?? [];
  const publish = async (id: string) => {
    setActionError(null);
    const { publishListing } = await client(PublishListingMutation, { id });
    if (publishListing.__typename !== "MutationPublishListingSuccess") setActionError(domainMessage(publishListing));
    reload();
  };
  return (
    <section aria-labelledby="listings-title">
      <h2 id="listings-title">{t("myListings")}</h2>
      <ErrorLine message={error ?? actionError} />
      {listings.length === 0 ? (
        <p>{t("none")}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t("listing")}</th>
              <th scope="col">{t("version")}</th>
              <th scope="col">{t("status")}</th>
              <th scope="col">{t("indicativePrice")}</th>
              <th scope="col">{t("boundsAtPublish")}</th>
              <th scope="col">{t("action")}</th>
            </tr>
          </thead>
          <tbody>
            {listings.map((l) => (
              <tr key={l.id} data-testid="listing-row">
                <th scope="row">{lang === "zh-CN" ? l.title.zh || l.title.en : l.title.en || l.title.zh}</th>
                <td>{l.datasetVersion}</td>
                <td data-testid="listing-status">{l.status}</td>
                <td data-testid="listing-price">{money(l.indicativeQueryPrice, l.pricePlan.currency, lang)}</td>
                <td data-testid="bounds-at-publish">
                  {l.boundsAtPublish ? (
                    <>
                      <strong data-testid="bounds-outcome" data-outcome={l.boundsAtPublish.outcome}>
                        {t(l.boundsAtPublish.outcome === "PROFILED" ? "boundsProfiled" : "boundsDefaults")}
                      </strong>
                      <br />
                      <small>
                        {t("boundsAtPublishDetail", {
                          groups: l.boundsAtPublish.maxGroupsPerUnit,
                          rows: l.boundsAtPublish.maxRowsPerUnit,
                          spent: l.boundsAtPublish.epsilonSpent == null ? "0" : num(Number(l.boundsAtPublish.epsilonSpent), lang, 6),
                          version: l.boundsAtPublish.policyVersion,
                        })}
                      </small>
                      {l.boundsAtPublish.note && (
                        <>
                          <br />
                          <small data-testid="bounds-note">{l.boundsAtPublish.note}</small>
                        </>
                      )}
                    </>
                  ) : (
                    "—"
                  )}
                </td>
                <td>
                  {l.status === "DRAFT" && (
                    <button type="button" className="secondary" onClick={() => void publish(l.id)}>
                      {t("publishButton")}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
