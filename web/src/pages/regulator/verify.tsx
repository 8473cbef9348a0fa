/**
 * Regulator: checks one entry's inclusion proof and the checkpoint's signature in this browser
 * (WebCrypto), against a verifier key the regulator pins (kept in localStorage; first filled from
 * /audit/key — compare it with the one you hold).
 */
import { useEffect, useState, type FormEvent } from "react";
import { graphql } from "../../../client/graphql.ts";
import { useI18n } from "../../i18n/index.ts";
import { useClient } from "../../session.ts";
import { verifyInclusion, type VerifyResult } from "../../verify/proof.ts";
import { domainMessage } from "../../format.ts";

const Proof = graphql(`
  query InclusionProof($index: Int!) {
    auditInclusionProof(index: $index) {
      __typename
      ... on QueryAuditInclusionProofSuccess { data { index treeSize entry proof checkpoint { note } } }
      ... on DomainError { code message }
    }
  }
`);

export function VerifyPage({ args }: { args: string[] }) {
  const { t } = useI18n();
  const client = useClient();
  const [vkey, setVkey] = useState(localStorage.getItem("pinned-verifier-key") ?? "");
  const [result, setResult] = useState<(VerifyResult & { index: number }) | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (vkey) return;
    void fetch("/audit/key")
      .then((r) => r.text())
      .then((k) => setVkey(k.trim()));
  }, [vkey]);
  const check = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const index = Number(new FormData(e.currentTarget).get("index"));
    setBusy(true);
    localStorage.setItem("pinned-verifier-key", vkey);
    try {
      const { auditInclusionProof: p } = await client(Proof, { index });
      if (p.__typename !== "QueryAuditInclusionProofSuccess") setResult({ ok: false, reason: domainMessage(p), checkpoint: null, index });
      else setResult({ ...(await verifyInclusion({ ...p.data, note: p.data.checkpoint.note }, vkey)), index });
    } catch (err) {
      setResult({ ok: false, reason: err instanceof Error ? err.message : String(err), checkpoint: null, index });
    } finally {
      setBusy(false);
    }
  };
  return (
    <section>
      <h1>{t("verifyTitle")}</h1>
      <form onSubmit={check}>
        <label>
          {t("entryIndex")}
          <input name="index" type="number" min="0" step="1" defaultValue={args[0] ?? "0"} required />
        </label>
        <label>
          {t("verifierKey")}
          <input name="vkey" className="mono" value={vkey} onChange={(e) => setVkey(e.target.value)} required />
        </label>
        <button type="submit" aria-busy={busy}>
          {t("runCheck")}
        </button>
      </form>
      {result && (
        <p role="status" data-testid="verify-result" className={result.ok ? "ok" : "error"}>
          {result.ok && result.checkpoint
            ? t("verified", { index: result.index, size: result.checkpoint.size, key: vkey.split("+")[0] ?? "" })
            : t("notVerified", { reason: result.reason ?? "" })}
        </p>
      )}
    </section>
  );
}
