/**
 * Owner: what you earned, what is payable and paid out, payouts (request one once the payable
 * reaches the threshold; set up the payout account first), sales, and the ε spent per buyer.
 */
import { useState } from "react";
import { graphql } from "../../../client/graphql.ts";
import { useI18n } from "../../i18n/index.ts";
import { useClient } from "../../session.ts";
import { useAsync } from "../../use-async.ts";
import { domainMessage, money, num } from "../../format.ts";
import { ErrorLine, Loading } from "../../components/status.tsx";
import { BudgetPerBuyer } from "./budget-per-buyer.tsx";

const EarningsQuery = graphql(`
  query OwnerEarnings {
    earnings { currency earned payable paidOut payoutThreshold canRequestPayout }
    payoutAccount { ready rail }
    payouts(first: 20) { edges { node { id amount currency status createdAt paidAt failure } } }
    sales(first: 20) { edges { node { id createdAt listingId price ownerShare platformFee currency epsilon } } }
  }
`);

const RequestPayout = graphql(`
  mutation RequestPayout {
    requestPayout { __typename ... on MutationRequestPayoutSuccess { data { status amount currency } } ... on DomainError { code message } }
  }
`);

const Onboard = graphql(`
  mutation StartPayoutOnboarding {
    startPayoutOnboarding { __typename ... on MutationStartPayoutOnboardingSuccess { data { onboardingUrl account { ready } } } ... on DomainError { code message } }
  }
`);

export function EarningsPage() {
  const { t, lang } = useI18n();
  const client = useClient();
  const { data, error, reload } = useAsync(() => client(EarningsQuery), []);
  const [message, setMessage] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [onboardUrl, setOnboardUrl] = useState<string | null>(null);
  if (error) return <ErrorLine message={error} />;
  if (!data) return <Loading />;
  const e = data.earnings;
  const m = (amount: number, currency = e.currency) => money(amount, currency, lang);
  const payout = async () => {
    setActionError(null);
    const { requestPayout: r } = await client(RequestPayout);
    if (r.__typename === "MutationRequestPayoutSuccess")
      setMessage(t("payoutDone", { status: r.data.status, amount: m(r.data.amount, r.data.currency) }));
    else setActionError(domainMessage(r));
    reload();
  };
  const onboard = async () => {
    setActionError(null);
    const { startPayoutOnboarding: r } = await client(Onboard);
    if (r.__typename === "MutationStartPayoutOnboardingSuccess") setOnboardUrl(r.data.onboardingUrl ?? null);
    else setActionError(domainMessage(r));
    reload();
  };
  return (
    <section>
      <h1>{t("earnings")}</h1>
      <dl>
        <dt>{t("earned")}</dt>
        <dd data-testid="earned">{m(e.earned)}</dd>
        <dt>{t("payable")}</dt>
        <dd data-testid="payable">{m(e.payable)}</dd>
        <dt>{t("paidOut")}</dt>
        <dd>{m(e.paidOut)}</dd>
        <dt>{t("payoutThreshold")}</dt>
        <dd>{m(e.payoutThreshold)}</dd>
      </dl>
      <p>
        {!data.payoutAccount?.ready && (
          <button type="button" className="secondary" onClick={() => void onboard()}>
            {t("setUpPayouts")}
          </button>
        )}{" "}
        <button type="button" onClick={() => void payout()} disabled={!e.canRequestPayout}>
          {t("requestPayout")}
        </button>
      </p>
      {onboardUrl && <a href={onboardUrl}>{t("finishOnboarding")}</a>}
      {message && (
        <p className="ok" role="status">
          {message}
        </p>
      )}
      <ErrorLine message={actionError} />
      <h2>{t("payouts")}</h2>
      {data.payouts.edges.length === 0 ? (
        <p>{t("none")}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t("date")}</th>
              <th scope="col">{t("amountPaid")}</th>
              <th scope="col">{t("status")}</th>
            </tr>
          </thead>
          <tbody>
            {data.payouts.edges.map(({ node }) => (
              <tr key={node.id} data-testid="payout-row">
                <td>{new Date(node.createdAt).toLocaleString(lang)}</td>
                <td>{m(node.amount, node.currency)}</td>
                <td>{node.failure ? `${node.status}: ${node.failure}` : node.status}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>{t("sales")}</h2>
      {data.sales.edges.length === 0 ? (
        <p>{t("none")}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t("date")}</th>
              <th scope="col">{t("price")}</th>
              <th scope="col">{t("ownerShare")}</th>
              <th scope="col">ε</th>
            </tr>
          </thead>
          <tbody>
            {data.sales.edges.map(({ node }) => (
              <tr key={node.id} data-testid="sale-row">
                <td>{new Date(node.createdAt).toLocaleString(lang)}</td>
                <td>{m(node.price, node.currency)}</td>
                <td>{m(node.ownerShare, node.currency)}</td>
                <td>{num(Number(node.epsilon), lang, 6)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <BudgetPerBuyer />
    </section>
  );
}
