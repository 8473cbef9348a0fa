/** Steps every role's test repeats: open the console and sign in through the form, as a person would. */
import type { Page } from "playwright-core";
import type { DemoCredential } from "../../../seed/demo.ts";

const LABELS = {
  en: { email: "Email", password: "Password", signIn: "Sign in" },
  "zh-CN": { email: "邮箱", password: "密码", signIn: "登录" },
} as const;

export async function signIn(page: Page, base: string, who: Pick<DemoCredential, "email" | "password">, lang: "en" | "zh-CN"): Promise<void> {
  const l = LABELS[lang];
  await page.goto(`${base}/`);
  await page.getByLabel(l.email).fill(who.email);
  await page.getByLabel(l.password).fill(who.password);
  await page.getByRole("button", { name: l.signIn }).click();
  await page.getByText(who.email).waitFor();
}
