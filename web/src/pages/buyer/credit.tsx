/**
 * Buyer: credit balance, top-up through the configured payment rail (paid at once on the offline
 * demo rail; a Stripe Checkout link otherwise) and receipts, one per query charged.
 */
import { useState, type FormEvent } from "react";
import { graphql } from "../../../client/graphql.ts";
import { useI18n } from "../../i18n/index.ts";
import { useClient } from "../../session.ts";
import { useAsync } from "../../use-async.ts";
import { domainMessage, money, num } from "../../format.ts";
import { ErrorLine, Loading } from "../../components/status.tsx";

const CreditQuery = graphql(`
  query Credit {
    credit { balance held available currency }
    receipts(first: 20) { edges { node { id createdAt listingId price currency epsilon rowsPriced } } }
  }
`);

const TopUp = graphql(`
  mutation TopUp($input: TopUpCreditInput!) {
    topUpCredit(input: $input) {
      __typename
      ... on MutationTopUpCreditSuccess { data { status checkoutUrl amount currency } }
      ... on DomainError { code message }
    }
  }
`);

export function CreditPage() {
  const { t, lang } = useI18n();
  const client = useClient();
  const { data, error, reload } = useAsync(() => client(CreditQuery), []);
  const [message, setMessage] = useState<string | null>(null);
  const [checkout, setCheckout] = useState<string | null>(null);
  const [topUpError, setTopUpError] = useState<string | null>(null);
  const topUp = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const amount = Number(new FormData(e.currentTarget).get("amount"));
    setTopUpError(null);
    const { topUpCredit } = await client(TopUp, { input: { amount, idempotencyKey: crypto.randomUUID() } });
    if (topUpCredit.__typename === "MutationTopUpCreditSuccess") {
      setMessage(t("topUpDone", { status: topUpCredit.data.status }));
      setCheckout(topUpCredit.data.checkoutUrl ?? null);
      reload();
    } else setTopUpError(domainMessage(topUpCredit));
  };
  if (error) return <ErrorLine message={error} />;
  if (!data) return <Loading />;
  const c = data.credit;
  return (
    <section>
      <h1>{t("credit")}</h1>
      <dl>
        <dt>{t("balance")}</dt>
        <dd data-testid="credit-balance">{money(c.balance, c.currency, lang)}</dd>
        <dt>{t("available")}</dt>
        <dd>{money(c.available, c.currency, lang)}</dd>
        <dt>{t("held")}</dt>
        <dd>{money(c.held, c.currency, lang)}</dd>
      </dl>
      <form onSubmit={topUp}>
        <fieldset role="group">
          <label htmlFor="topup-amount" className="skip">
            {t("amount")}
          </label>
          <input id="topup-amount" name="amount" type="number" min="100" step="1" defaultValue="10000" aria-label={t("amount")} required />
          <button type="submit">{t("topUp")}</button>
        </fieldset>
      </form>
      {message && (
        <p className="ok" role="status">
          {message}
        </p>
      )}
      {checkout && <a href={checkout}>{t("topUpCheckout")}</a>}
      <ErrorLine message={topUpError} />
      <h2>{t("receipts")}</h2>
      {data.receipts.edges.length === 0 ? (
        <p>{t("none")}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t("date")}</th>
              <th scope="col">{t("price")}</th>
              <th scope="col">ε</th>
              <th scope="col">{t("rowsPriced")}</th>
            </tr>
          </thead>
          <tbody>
            {data.receipts.edges.map(({ node }) => (
              <tr key={node.id} data-testid="receipt">
                <td>{new Date(node.createdAt).toLocaleString(lang)}</td>
                <td>{money(node.price, node.currency, lang)}</td>
                <td>{num(Number(node.epsilon), lang, 6)}</td>
                <td>{node.rowsPriced}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
