/**
 * Chromium from Debian's package (`apt-get install -y chromium`), driven by playwright-core. Every
 * request to a host other than 127.0.0.1 is aborted and recorded, so a test can assert that the
 * console and GraphiQL never reach for a CDN, a font host or anything else on the internet.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const SCREENSHOTS_DIR = join(import.meta.dirname, "..", "screenshots");

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface ConsoleBrowser {
  browser: Browser;
  /** URLs the page tried to load from anywhere but 127.0.0.1 (all were aborted). */
  blocked: string[];
  /** Console errors (CSP violations included) seen on any page. */
  consoleErrors: string[];
  newPage(locale: "en" | "zh-CN"): Promise<{ context: BrowserContext; page: Page }>;
  close(): Promise<void>;
}

/** Fails with how to install Chromium when it is missing: the browser suite never skips. */
export function assertChromium(): void {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: install it with \`apt-get install -y chromium\` (or set CHROMIUM_PATH)`);
  }
}

export async function launchConsoleBrowser(): Promise<ConsoleBrowser> {
  assertChromium();
  // launch() always starts from a fresh, throw-away profile directory of its own (it refuses
  // --user-data-dir), so no state leaks between runs.
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: FLAGS });
  const blocked: string[] = [];
  const consoleErrors: string[] = [];
  mkdirSync(SCREENSHOTS_DIR, { recursive: true });
  return {
    browser,
    blocked,
    consoleErrors,
    async newPage(locale) {
      const context = await browser.newContext({ locale, viewport: { width: 1280, height: 900 } });
      await context.route("**/*", (route) => {
        const url = new URL(route.request().url());
        if (url.hostname === "127.0.0.1" || url.protocol === "data:" || url.protocol === "blob:") return route.continue();
        blocked.push(url.href);
        return route.abort("blockedbyclient");
      });
      const page = await context.newPage();
      page.on("console", (m) => {
        if (m.type() === "error") consoleErrors.push(m.text());
      });
      page.on("pageerror", (e) => consoleErrors.push(String(e)));
      return { context, page };
    },
    async close() {
      await browser.close();
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS_DIR, `${name}.png`), fullPage: true });
}
