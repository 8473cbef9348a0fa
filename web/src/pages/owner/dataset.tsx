/**
 * Owner: one dataset — its versions, the upload, the privacy policy (once a version exists) and
 * its listings with the form to publish a new one (once a policy exists).
 */
import { useState } from "react";
import { graphql } from "../../../client/graphql.ts";
import { useI18n } from "../../i18n/index.ts";
import { useClient } from "../../session.ts";
import { useAsync } from "../../use-async.ts";
import { num } from "../../format.ts";
import { ErrorLine, Loading } from "../../components/status.tsx";
import { Upload } from "./upload.tsx";
import { PolicyEditor } from "./policy-editor.tsx";
import { PublishListing } from "./publish-listing.tsx";
import { DatasetListings } from "./dataset-listings.tsx";

const DatasetQuery = graphql(`
  query OwnerDataset($id: ID!) {
    dataset(id: $id) {
      __typename
      ... on QueryDatasetSuccess {
        data {
          id name description
          latest { number rowCount columns { name type } }
          versions { id number rowCount sourceFormat sourceBytes createdAt }
        }
      }
      ... on DomainError { code message }
    }
    privacyPolicy(datasetId: $id) {
      __typename
      ... on QueryPrivacyPolicySuccess {
        data {
          version privacyUnit aggregates epsilonPerQuery buyerEpsilonBudget datasetEpsilonBudget minGroupSize maxRowsPerUnit maxGroupsPerUnit
          dimensions { column keys edges dateEdges derivedKeys }
          measures { column lo hi }
          publicFacts { size { exactRows } }
        }
      }
    }
  }
`);

export function DatasetPage({ args }: { args: string[] }) {
  const id = args[0] ?? "";
  const { t, lang } = useI18n();
  const client = useClient();
  const { data, error, reload } = useAsync(() => client(DatasetQuery, { id }), [id]);
  const [listingsTick, setListingsTick] = useState(0);
  if (error) return <ErrorLine message={error} />;
  if (!data) return <Loading />;
  if (data.dataset.__typename !== "QueryDatasetSuccess")
    return <ErrorLine message={"message" in data.dataset ? data.dataset.message : "not found"} />;
  const ds = data.dataset.data;
  const policy = data.privacyPolicy?.__typename === "QueryPrivacyPolicySuccess" ? data.privacyPolicy.data : null;
  return (
    <section>
      <p>
        <a href="#/datasets">← {t("datasets")}</a>
      </p>
      <h1>{ds.name}</h1>
      {ds.description && <p>{ds.description}</p>}
      <h2>{t("versions")}</h2>
      {ds.versions.length === 0 ? (
        <p>{t("none")}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t("version")}</th>
              <th scope="col">{t("rowCount")}</th>
              <th scope="col">{t("format")}</th>
              <th scope="col">{t("bytes")}</th>
              <th scope="col">{t("date")}</th>
            </tr>
          </thead>
          <tbody>
            {ds.versions.map((v) => (
              <tr key={v.id} data-testid="version-row">
                <td>{v.number}</td>
                <td>{num(v.rowCount, lang, 0)}</td>
                <td>{v.sourceFormat}</td>
                <td>{num(v.sourceBytes, lang, 0)}</td>
                <td>{new Date(v.createdAt).toLocaleString(lang)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Upload datasetId={ds.id} onUploaded={reload} />
      {ds.latest ? (
        <PolicyEditor
          key={ds.latest.number}
          datasetId={ds.id}
          columns={ds.latest.columns}
          rowCount={ds.latest.rowCount}
          policy={policy}
          onSaved={reload}
        />
      ) : (
        <p>{t("uploadFirst")}</p>
      )}
      <DatasetListings datasetId={ds.id} refresh={listingsTick} />
      {policy ? (
        <PublishListing
          datasetId={ds.id}
          onPublished={() => {
            setListingsTick((n) => n + 1);
            // Publishing may choose the bounds (a new policy version): the editor shows it.
            reload();
          }}
        />
      ) : (
        ds.latest && <p>{t("policyFirst")}</p>
      )}
    </section>
  );
}
