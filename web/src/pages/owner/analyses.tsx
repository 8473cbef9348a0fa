/**
 * Owner: analyses buyers submitted for your listings. One waiting for review shows its code with
 * a diff against the revision you approved before (all new when none was), the columns it reads
 * and its output bounds; approve or deny the exact revision you read (by its code hash).
 */
import { useState, type FormEvent } from "react";
import { graphql } from "../../../client/graphql.ts";
import { useI18n } from "../../i18n/index.ts";
import { useClient } from "../../session.ts";
import { useAsync } from "../../use-async.ts";
import { domainMessage } from "../../format.ts";
import { ErrorLine, Loading } from "../../components/status.tsx";
import { CodeDiff } from "../../components/code-diff.tsx";
import { buyerLabel } from "./buyer-label.ts";

const AnalysesQuery = graphql(`
  query OwnerAnalyses {
    analysesForMyListings(first: 50) {
      edges {
        node {
          id title status buyerId updatedAt
          latest { revision codeHash source columns outputs { name lo hi } }
          approved { revision source }
        }
      }
    }
  }
`);

const DecideAnalysis = graphql(`
  mutation DecideAnalysis($input: DecideAnalysisInput!) {
    decideAnalysis(input: $input) {
      __typename
      ... on MutationDecideAnalysisSuccess { data { id status } }
      ... on InvalidInput { issues { path message } }
      ... on DomainError { code message }
    }
  }
`);

type AnalysisNode = { id: string; title: string; status: string; buyerId: string } & {
  latest: {
    revision: number;
    codeHash: string;
    source: string;
    columns: readonly string[];
    outputs: ReadonlyArray<{ name: string; lo: number; hi: number }>;
  };
  approved: { revision: number; source: string } | null;
};

export function AnalysesPage() {
  const { t } = useI18n();
  const client = useClient();
  const { data, error, reload } = useAsync(() => client(AnalysesQuery), []);
  if (error) return <ErrorLine message={error} />;
  if (!data) return <Loading />;
  const all = data.analysesForMyListings.edges.map((e) => e.node);
  return (
    <section>
      <h1>{t("analyses")}</h1>
      {all.length === 0 && <p>{t("none")}</p>}
      {all.map((a) => (
        <AnalysisCard key={a.id} analysis={a} onDecided={reload} />
      ))}
    </section>
  );
}

function AnalysisCard({ analysis: a, onDecided }: { analysis: AnalysisNode; onDecided: () => void }) {
  const { t } = useI18n();
  const client = useClient();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const pending = a.status === "PENDING_REVIEW";
  const reasonId = `analysis-reason-${a.id}`;
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const submitter = (e.nativeEvent as SubmitEvent).submitter as HTMLButtonElement | null;
    const decision = submitter?.value === "DENY" ? "DENY" : "APPROVE";
    const reason = String(new FormData(e.currentTarget).get("reason") ?? "").trim();
    if (decision === "DENY" && !reason) return setError(t("reasonRequired"));
    setBusy(true);
    setError(null);
    try {
      const { decideAnalysis: r } = await client(DecideAnalysis, {
        input: { analysisId: a.id, codeHash: a.latest.codeHash, decision, ...(reason ? { reason } : {}) },
      });
      if (r.__typename === "MutationDecideAnalysisSuccess") onDecided();
      else setError(r.__typename === "InvalidInput" ? r.issues.map((i) => i.message).join("; ") : domainMessage(r));
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  const diff = (
    <CodeDiff
      before={a.approved && a.approved.revision !== a.latest.revision ? a.approved.source : a.approved ? a.latest.source : null}
      after={a.latest.source}
      testId="analysis-diff"
    />
  );
  return (
    <article data-testid="analysis" aria-labelledby={`analysis-${a.id}`}>
      <header>
        <strong id={`analysis-${a.id}`}>{a.title}</strong> · {t("buyer")} <span className="mono">{buyerLabel(a.buyerId)}</span> ·{" "}
        <span data-testid="analysis-status">{a.status}</span> · {t("revision", { n: a.latest.revision })}
      </header>
      <p>
        {t("readsColumns")}: {a.latest.columns.join(", ")} · {t("outputs")}: {a.latest.outputs.map((o) => `${o.name} [${o.lo}, ${o.hi}]`).join(", ")}
      </p>
      {pending ? (
        diff
      ) : (
        <details>
          <summary>{t("showCode")}</summary>
          {diff}
        </details>
      )}
      {pending && (
        <form onSubmit={submit} aria-label={t("decideAnalysis")}>
          <label htmlFor={reasonId}>{t("reason")}</label>
          <input id={reasonId} name="reason" maxLength={500} aria-describedby={`${reasonId}-hint`} />
          <small id={`${reasonId}-hint`}>{t("reasonHint")}</small>
          <ErrorLine message={error} />
          <div role="group">
            <button type="submit" name="decision" value="APPROVE" aria-busy={busy}>
              {t("approve")}
            </button>
            <button type="submit" name="decision" value="DENY" className="secondary" aria-busy={busy}>
              {t("reject")}
            </button>
          </div>
        </form>
      )}
    </article>
  );
}
