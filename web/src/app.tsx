/**
 * The shell: language switch, the session, navigation by role, and the page for the current
 * route. Each route names the roles that may see it; the API refuses the same calls anyway.
 */
import { useEffect, useMemo, useState } from "react";
import { I18nContext, initialLang, translate, useI18n, type Lang, type MessageKey } from "./i18n/index.ts";
import { SessionContext, hasRole, loadSession, saveSession, useSession, type Session } from "./session.ts";
import { useRoute } from "./router.ts";
import { SignIn } from "./pages/sign-in.tsx";
import { routes } from "./routes.tsx";

export function App() {
  const [lang, setLangState] = useState<Lang>(initialLang);
  const [session, setSessionState] = useState<Session | null>(loadSession);
  const i18n = useMemo(
    () => ({
      lang,
      setLang: (l: Lang) => {
        localStorage.setItem("lang", l);
        setLangState(l);
      },
      t: (key: MessageKey, vars?: Record<string, string | number>) => translate(lang, key, vars),
    }),
    [lang],
  );
  useEffect(() => {
    document.documentElement.lang = lang;
    document.title = i18n.t("appName");
  }, [lang, i18n]);
  const sessionState = useMemo(
    () => ({
      session,
      setSession: (s: Session | null) => {
        saveSession(s);
        setSessionState(s);
      },
    }),
    [session],
  );
  return (
    <I18nContext.Provider value={i18n}>
      <SessionContext.Provider value={sessionState}>
        <Shell />
      </SessionContext.Provider>
    </I18nContext.Provider>
  );
}

function Shell() {
  const { session, setSession } = useSession();
  const route = useRoute();
  const [i18nLang, t, setLang] = useI18nParts();
  const visible = routes.filter((r) => r.nav && hasRole(session, r.roles));
  const current = routes.find((r) => r.path === route[0]) ?? (session ? visible[0] : undefined);
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="container">
        <nav>
          <ul>
            <li>
              <strong>{t("appName")}</strong>
            </li>
          </ul>
          <ul>
            {session && <li>{t("signedInAs", { email: session.email })}</li>}
            <li>
              <button
                type="button"
                className="secondary outline"
                lang={i18nLang === "en" ? "zh-CN" : "en"}
                onClick={() => setLang(i18nLang === "en" ? "zh-CN" : "en")}
              >
                {t("switchLanguage")}
              </button>
            </li>
            {session && (
              <li>
                <button type="button" className="secondary" onClick={() => setSession(null)}>
                  {t("signOut")}
                </button>
              </li>
            )}
          </ul>
        </nav>
        {session && (
          <nav className="roles" aria-label={t("navMain")}>
            <ul>
              {visible.map((r) => (
                <li key={r.path}>
                  <a href={`#/${r.path}`} aria-current={current?.path === r.path ? "page" : undefined}>
                    {t(r.label)}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
        )}
      </header>
      <main className="container" id="main">
        {!session ? <SignIn /> : !current ? null : hasRole(session, current.roles) ? <current.page args={route.slice(1)} /> : <NotAllowed />}
      </main>
    </>
  );
}

function NotAllowed() {
  const [, t] = useI18nParts();
  return (
    <p role="alert" data-testid="not-allowed">
      {t("notAllowed")}
    </p>
  );
}

function useI18nParts(): [Lang, (key: MessageKey, vars?: Record<string, string | number>) => string, (l: Lang) => void] {
  const i = useI18n();
  return [i.lang, i.t, i.setLang];
}
