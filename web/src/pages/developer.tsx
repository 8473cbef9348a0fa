/** Developer: API keys (create, see the prefix, revoke), GraphiQL from bundled assets, the SDL. */
import { useState, type FormEvent } from "react";
import { graphql } from "../../client/graphql.ts";
import { useI18n } from "../i18n/index.ts";
import { useClient } from "../session.ts";
import { useAsync } from "../use-async.ts";
import { ErrorLine, Loading } from "../components/status.tsx";

const KeysQuery = graphql(`
  query ApiKeys { viewer { apiKeys { id name prefix active createdAt lastUsedAt } } }
`);
const CreateKey = graphql(`
  mutation CreateKey($input: CreateApiKeyInput!) {
    createApiKey(input: $input) { __typename ... on MutationCreateApiKeySuccess { data { secret } } ... on DomainError { code message } }
  }
`);
const RevokeKey = graphql(`
  mutation RevokeKey($id: ID!) { revokeApiKey(id: $id) { __typename ... on DomainError { code message } } }
`);

export function DeveloperPage() {
  const { t, lang } = useI18n();
  const client = useClient();
  const { data, error, reload } = useAsync(() => client(KeysQuery), []);
  const [secret, setSecret] = useState<string | null>(null);
  const create = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const name = String(new FormData(form).get("name") ?? "");
    const { createApiKey } = await client(CreateKey, { input: { name } });
    if (createApiKey.__typename === "MutationCreateApiKeySuccess") setSecret(createApiKey.data.secret);
    form.reset();
    reload();
  };
  const revoke = async (id: string) => {
    await client(RevokeKey, { id });
    reload();
  };
  return (
    <section>
      <h1>{t("navDeveloper")}</h1>
      <p>
        <a href="/graphql" data-testid="graphiql-link">
          {t("openGraphiql")}
        </a>{" "}
        · <a href="/schema.graphql">{t("downloadSdl")}</a>
      </p>
      <h2>{t("apiKeys")}</h2>
      <form onSubmit={create}>
        <fieldset role="group">
          <input name="name" aria-label={t("keyName")} placeholder={t("keyName")} required maxLength={100} />
          <button type="submit">{t("createKey")}</button>
        </fieldset>
      </form>
      {secret && (
        <p role="status">
          {t("keyCreated")}{" "}
          <code className="mono" data-testid="new-key">
            {secret}
          </code>
        </p>
      )}
      <ErrorLine message={error} />
      {!data ? (
        <Loading />
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t("keyName")}</th>
              <th scope="col">{t("prefix")}</th>
              <th scope="col">{t("status")}</th>
              <th scope="col">
                <span className="skip">{t("revoke")}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {data.viewer?.apiKeys.map((k) => (
              <tr key={k.id} data-testid="api-key">
                <td>{k.name}</td>
                <td className="mono">{k.prefix}</td>
                <td>{k.active ? t("active") : t("revoked")}</td>
                <td>
                  {k.active && (
                    <button type="button" className="secondary outline" onClick={() => void revoke(k.id)} aria-label={`${t("revoke")} ${k.name}`}>
                      {t("revoke")}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <small>{new Date().toLocaleDateString(lang)}</small>
    </section>
  );
}
