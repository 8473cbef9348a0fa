/** Regulator: the audit log filtered by names people know (a listing's title, an account's email) and by action. */
import { useState, type FormEvent } from "react";
import { graphql, type VariablesOf } from "../../../client/graphql.ts";
import { useI18n } from "../../i18n/index.ts";
import { useClient } from "../../session.ts";
import { useAsync } from "../../use-async.ts";
import { ErrorLine, Loading } from "../../components/status.tsx";

const AuditEvents = graphql(`
  query AuditEvents($filter: AuditEventFilter, $names: AuditNameFilter) {
    auditEvents(filter: $filter, names: $names, first: 50) { edges { node { seq time action actor } } }
  }
`);

type Vars = VariablesOf<typeof AuditEvents>;

export function AuditPage() {
  const { t, lang } = useI18n();
  const client = useClient();
  const [vars, setVars] = useState<Vars>({});
  const { data, error } = useAsync(() => client(AuditEvents, vars), [JSON.stringify(vars)]);
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const text = (k: string) => String(f.get(k) ?? "").trim() || null;
    const action = text("action");
    setVars({ filter: action ? { actions: [action] } : null, names: { listing: text("listing"), account: text("account") } });
  };
  return (
    <section>
      <h1>{t("auditLog")}</h1>
      <form onSubmit={submit} aria-label={t("auditLog")}>
        <div className="grid">
          <label>
            {t("filterListing")}
            <input name="listing" />
          </label>
          <label>
            {t("filterAccount")}
            <input name="account" />
          </label>
          <label>
            {t("filterAction")}
            <input name="action" placeholder="query.executed" pattern="[a-z][a-z0-9_.]*" />
          </label>
        </div>
        <button type="submit">{t("apply")}</button>
      </form>
      <ErrorLine message={error} />
      {!data && !error && <Loading />}
      {data && data.auditEvents.edges.length === 0 && <p>{t("none")}</p>}
      {data && data.auditEvents.edges.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">{t("seq")}</th>
              <th scope="col">{t("time")}</th>
              <th scope="col">{t("action")}</th>
              <th scope="col">{t("actor")}</th>
              <th scope="col">
                <span className="skip">{t("verifyEntry")}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {data.auditEvents.edges.map(({ node }) => (
              <tr key={node.seq} data-testid="audit-row">
                <td>{node.seq}</td>
                <td>{new Date(node.time).toLocaleString(lang)}</td>
                <td>{node.action}</td>
                <td className="mono">{node.actor}</td>
                <td>
                  <a href={`#/verify/${node.seq}`} aria-label={`${t("verifyEntry")} #${node.seq}`}>
                    {t("verifyEntry")}
                  </a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
