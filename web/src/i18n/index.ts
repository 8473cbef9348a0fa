/**
 * Two languages, every string in both: the default comes from the browser, the choice is kept in
 * localStorage. `t(key, vars)` fills `{name}` placeholders.
 */
import { createContext, useContext } from "react";
import { en } from "./en.ts";
import { zhCN } from "./zh-CN.ts";

export type Messages = typeof en;
export type MessageKey = keyof Messages;
export type Lang = "en" | "zh-CN";

export const catalogs: Record<Lang, Messages> = { en, "zh-CN": zhCN };

export function initialLang(): Lang {
  const saved = localStorage.getItem("lang");
  if (saved === "en" || saved === "zh-CN") return saved;
  return navigator.language.toLowerCase().startsWith("zh") ? "zh-CN" : "en";
}

export function translate(lang: Lang, key: MessageKey, vars: Record<string, string | number> = {}): string {
  return catalogs[lang][key].replace(/\{(\w+)\}/g, (_, name: string) => String(vars[name] ?? `{${name}}`));
}

export interface I18n {
  lang: Lang;
  setLang(lang: Lang): void;
  t(key: MessageKey, vars?: Record<string, string | number>): string;
}

export const I18nContext = createContext<I18n>({ lang: "en", setLang: () => undefined, t: (key, vars) => translate("en", key, vars) });

export function useI18n(): I18n {
  return useContext(I18nContext);
}
