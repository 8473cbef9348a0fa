/**
 * Owner: your datasets (newest first) with their latest version and listings, and a form to
 * create a new one. Opening a dataset leads to its upload, policy and listing page.
 */
import { useState, type FormEvent } from "react";
import { graphql } from "../../../client/graphql.ts";
import { useI18n } from "../../i18n/index.ts";
import { useClient } from "../../session.ts";
import { useAsync } from "../../use-async.ts";
import { domainMessage, num } from "../../format.ts";
import { go } from "../../router.ts";
import { ErrorLine, Loading } from "../../components/status.tsx";

const DatasetsQuery = graphql(`
  query OwnerDatasets {
    datasets(first: 50) { edges { node { id name description createdAt latestVersion latest { rowCount } } } }
    myListings(first: 100) { edges { node { id datasetId status title { zh en } } } }
  }
`);

const CreateDataset = graphql(`
  mutation CreateDataset($input: CreateDatasetInput!) {
    createDataset(input: $input) {
      __typename
      ... on MutationCreateDatasetSuccess { data { id } }
      ... on InvalidInput { issues { path message } }
      ... on DomainError { code message }
    }
  }
`);

export function DatasetsPage() {
  const { t, lang } = useI18n();
  const client = useClient();
  const { data, error } = useAsync(() => client(DatasetsQuery), []);
  const [createError, setCreateError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const create = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setBusy(true);
    setCreateError(null);
    try {
      const { createDataset } = await client(CreateDataset, {
        input: { name: String(form.get("name") ?? ""), description: String(form.get("description") ?? "") },
      });
      if (createDataset.__typename === "MutationCreateDatasetSuccess") go("dataset", createDataset.data.id);
      else setCreateError(domainMessage(createDataset));
    } catch (err) {
      setCreateError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  const listingsOf = (datasetId: string) => data?.myListings.edges.filter((e) => e.node.datasetId === datasetId).map((e) => e.node) ?? [];
  return (
    <section>
      <h1>{t("datasets")}</h1>
      <ErrorLine message={error} />
      {!data && !error && <Loading />}
      {data && data.datasets.edges.length === 0 && <p>{t("none")}</p>}
      {data && data.datasets.edges.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">{t("name")}</th>
              <th scope="col">{t("latestVersion")}</th>
              <th scope="col">{t("rowCount")}</th>
              <th scope="col">{t("myListings")}</th>
            </tr>
          </thead>
          <tbody>
            {data.datasets.edges.map(({ node }) => (
              <tr key={node.id} data-testid="dataset-row">
                <th scope="row">
                  <a href={`#/dataset/${encodeURIComponent(node.id)}`}>{node.name}</a>
                </th>
                <td>{node.latestVersion || "—"}</td>
                <td>{node.latest ? num(node.latest.rowCount, lang, 0) : "—"}</td>
                <td>
                  {listingsOf(node.id)
                    .map((l) => `${lang === "zh-CN" ? l.title.zh || l.title.en : l.title.en || l.title.zh} (${l.status})`)
                    .join("; ") || "—"}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>{t("newDataset")}</h2>
      <form onSubmit={create} aria-label={t("newDataset")}>
        <label>
          {t("name")}
          <input name="name" required maxLength={200} />
        </label>
        <label>
          {t("description")}
          <textarea name="description" rows={2} maxLength={2000} />
        </label>
        <ErrorLine message={createError} />
        <button type="submit" aria-busy={busy}>
          {t("create")}
        </button>
      </form>
    </section>
  );
}
