/** Sign-in with the existing `signIn` mutation; the session token is kept for this tab only. */
import { useState, type FormEvent } from "react";
import { graphql } from "../../client/graphql.ts";
import { request } from "../../client/request.ts";
import { useI18n } from "../i18n/index.ts";
import { useSession, type Role } from "../session.ts";

const SignInMutation = graphql(`
  mutation SignIn($input: SignInInput!) {
    signIn(input: $input) {
      __typename
      ... on MutationSignInSuccess { data { token account { email roles } } }
      ... on DomainError { code message }
    }
  }
`);

export function SignIn() {
  const { t } = useI18n();
  const { setSession } = useSession();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setBusy(true);
    setError(null);
    try {
      const { signIn } = await request({ baseUrl: "" }, SignInMutation, {
        input: { email: String(form.get("email")), password: String(form.get("password")) },
      });
      if (signIn.__typename === "MutationSignInSuccess") {
        setSession({ token: signIn.data.token, email: signIn.data.account.email, roles: signIn.data.account.roles as Role[] });
      } else setError(t("badCredentials"));
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <article>
      <h1>{t("signIn")}</h1>
      <form onSubmit={submit} aria-label={t("signIn")}>
        <label>
          {t("email")}
          <input name="email" type="email" autoComplete="username" required />
        </label>
        <label>
          {t("password")}
          <input name="password" type="password" autoComplete="current-password" required />
        </label>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <button type="submit" aria-busy={busy}>
          {t("signIn")}
        </button>
      </form>
    </article>
  );
}
