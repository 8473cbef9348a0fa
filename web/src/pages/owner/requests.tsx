/**
 * Owner: access requests for your listings, pending first. Approve, or deny with a reason (the
 * API requires one to deny); the purpose the buyer stated is shown with each request.
 */
import { useState, type FormEvent } from "react";
import { graphql } from "../../../client/graphql.ts";
import { useI18n } from "../../i18n/index.ts";
import { useClient } from "../../session.ts";
import { useAsync } from "../../use-async.ts";
import { domainMessage } from "../../format.ts";
import { ErrorLine, Loading } from "../../components/status.tsx";
import { buyerLabel } from "./buyer-label.ts";

const RequestsQuery = graphql(`
  query OwnerAccessRequests {
    accessRequestsForMyListings(first: 50) {
      edges { node { id buyerId createdAt purpose status listing { title { zh en } } decision { reason bySystem } } }
    }
  }
`);

const Decide = graphql(`
  mutation DecideAccess($input: DecideAccessRequestInput!) {
    decideAccessRequest(input: $input) {
      __typename
      ... on MutationDecideAccessRequestSuccess { data { id status } }
      ... on InvalidInput { issues { path message } }
      ... on DomainError { code message }
    }
  }
`);

export function RequestsPage() {
  const { t } = useI18n();
  const client = useClient();
  const { data, error, reload } = useAsync(() => client(RequestsQuery), []);
  if (error) return <ErrorLine message={error} />;
  if (!data) return <Loading />;
  const all = data.accessRequestsForMyListings.edges.map((e) => e.node);
  const pending = all.filter((r) => r.status === "PENDING");
  const decided = all.filter((r) => r.status !== "PENDING");
  return (
    <section>
      <h1>{t("requests")}</h1>
      <h2>{t("pendingRequests")}</h2>
      {pending.length === 0 ? <p>{t("none")}</p> : pending.map((r) => <PendingRequest key={r.id} request={r} onDecided={reload} decide={client} />)}
      <h2>{t("decidedRequests")}</h2>
      {decided.length === 0 ? (
        <p>{t("none")}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t("listing")}</th>
              <th scope="col">{t("buyer")}</th>
              <th scope="col">{t("purpose")}</th>
              <th scope="col">{t("status")}</th>
              <th scope="col">{t("reason")}</th>
            </tr>
          </thead>
          <tbody>
            {decided.map((r) => (
              <tr key={r.id} data-testid="decided-request">
                <td>
                  <ListingTitle title={r.listing?.title ?? null} />
                </td>
                <td className="mono">{buyerLabel(r.buyerId)}</td>
                <td>{r.purpose}</td>
                <td data-testid="request-status">{r.status}</td>
                <td>{r.decision ? (r.decision.bySystem ? t("instantAccess") : r.decision.reason) : "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function ListingTitle({ title }: { title: { zh: string; en: string } | null }) {
  const { lang } = useI18n();
  if (!title) return <>—</>;
  return <>{lang === "zh-CN" ? title.zh || title.en : title.en || title.zh}</>;
}

interface PendingProps {
  request: { id: string; buyerId: string; createdAt: string; purpose: string; listing: { title: { zh: string; en: string } } | null };
  decide: ReturnType<typeof useClient>;
  onDecided(): void;
}

function PendingRequest({ request, decide, onDecided }: PendingProps) {
  const { t, lang } = useI18n();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const reasonId = `reason-${request.id}`;
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const submitter = (e.nativeEvent as SubmitEvent).submitter as HTMLButtonElement | null;
    const decision = submitter?.value === "DENY" ? "DENY" : "APPROVE";
    const reason = String(new FormData(e.currentTarget).get("reason") ?? "").trim();
    if (decision === "DENY" && !reason) return setError(t("reasonRequired"));
    setBusy(true);
    setError(null);
    try {
      const { decideAccessRequest: r } = await decide(Decide, { input: { requestId: request.id, decision, ...(reason ? { reason } : {}) } });
      if (r.__typename === "MutationDecideAccessRequestSuccess") onDecided();
      else setError(r.__typename === "InvalidInput" ? r.issues.map((i) => i.message).join("; ") : domainMessage(r));
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <article data-testid="pending-request">
      <header>
        <strong>
          <ListingTitle title={request.listing?.title ?? null} />
        </strong>{" "}
        · {t("buyer")} <span className="mono">{buyerLabel(request.buyerId)}</span> · {new Date(request.createdAt).toLocaleString(lang)}
      </header>
      <p>
        {t("purpose")}: <q data-testid="request-purpose">{request.purpose}</q>
      </p>
      <form onSubmit={submit} aria-label={t("decideRequest")}>
        <label htmlFor={reasonId}>{t("reason")}</label>
        <input id={reasonId} name="reason" maxLength={500} aria-describedby={`${reasonId}-hint`} />
        <small id={`${reasonId}-hint`}>{t("reasonHint")}</small>
        <ErrorLine message={error} />
        <div role="group">
          <button type="submit" name="decision" value="APPROVE" aria-busy={busy}>
            {t("approve")}
          </button>
          <button type="submit" name="decision" value="DENY" className="secondary" aria-busy={busy}>
            {t("deny")}
          </button>
        </div>
      </form>
    </article>
  );
}
