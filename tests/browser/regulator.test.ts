/**
 * The regulator in a real Chromium, in English: the trade report shows the buyer's trade as a
 * chart; the audit log is filtered by a listing's title and an account's email (not ids); one
 * entry's inclusion proof and the checkpoint signature are verified in the browser (WebCrypto),
 * and a wrong key is refused. GraphiQL renders from bundled assets and runs a query offline.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { launchConsoleBrowser, screenshot, type ConsoleBrowser } from "./support/chromium.ts";
import { startDemoExchange, type DemoExchange } from "./support/demo.ts";
import { signIn } from "./support/console-page.ts";
import { makeTrade } from "./support/trade.ts";

describe("regulator console (en) and GraphiQL", { timeout: 120_000 }, () => {
  let demo: DemoExchange;
  let chrome: ConsoleBrowser;
  let page: Page;

  beforeAll(async () => {
    demo = await startDemoExchange();
    await makeTrade(demo.exchange.url, demo.login("BUYER").apiKey);
    chrome = await launchConsoleBrowser();
    ({ page } = await chrome.newPage("en"));
  }, 120_000);

  afterAll(async () => {
    await chrome?.close();
    await demo?.exchange.stop();
  });

  it("shows the trade in the report, as a chart and a table", async () => {
    await signIn(page, demo.exchange.url, demo.login("REGULATOR"), "en");
    await page.getByRole("link", { name: "Trade report" }).click();
    await page.getByTestId("trade-row").first().waitFor();
    // Of the six queries the buyer ran today, five were in the free tier: one settled trade.
    await expect(page.getByTestId("trade-row").first().locator("td").nth(1).textContent()).resolves.toBe("1");
    await expect(page.getByTestId("trade-chart").locator("canvas").count()).resolves.toBe(1);
    await screenshot(page, "regulator-trades.en");
  });

  it("filters the audit log by a listing's title and an account's email", async () => {
    await page.getByRole("link", { name: "Audit log" }).click();
    await page.getByLabel("Listing (title)").fill("出租车");
    await page.getByLabel("Account (email)").fill("buyer@demo.exchange");
    await page.getByLabel("Action").fill("query.executed");
    await page.getByRole("button", { name: "Apply" }).click();
    await page.getByTestId("audit-row").first().waitFor();
    await expect(page.getByTestId("audit-row").count()).resolves.toBe(6);
    await expect(page.getByTestId("audit-row").locator("td").nth(2).textContent()).resolves.toBe("query.executed");
    await screenshot(page, "regulator-audit.en");
  });

  it("verifies the entry's inclusion proof and the checkpoint signature in the browser, and refuses a wrong key", async () => {
    await page
      .getByTestId("audit-row")
      .first()
      .getByRole("link", { name: /Verify/ })
      .click();
    await page.getByRole("button", { name: "Check" }).click();
    await expect(page.getByTestId("verify-result").textContent()).resolves.toMatch(/^Verified: entry \d+ is in the tree of \d+ entries/);
    await screenshot(page, "regulator-verify.en");
    const key = page.getByLabel("Log verifier key (pin it once)");
    const real = await key.inputValue();
    await key.fill(real.replace(/\+[0-9a-f]{8}\+/, "+00000000+"));
    await page.getByRole("button", { name: "Check" }).click();
    await page.getByText(/^NOT verified/).waitFor();
  });

  it("switches to Chinese", async () => {
    await page.getByRole("button", { name: "中文" }).click();
    await page.getByRole("heading", { name: "在浏览器中验证检查点与包含证明" }).waitFor();
    await screenshot(page, "regulator-verify.zh-CN");
  });

  it("renders GraphiQL from bundled assets and runs a query with nothing beyond 127.0.0.1", async () => {
    const { page: gql } = await chrome.newPage("en");
    await gql.goto(`${demo.exchange.url}/graphql`);
    await gql.locator(".graphiql-container").first().waitFor();
    // Replace the welcome text with a query and run it. The editor closes the outer brace itself.
    await gql.locator(".graphiql-query-editor .monaco-editor").first().click();
    await gql.keyboard.press("ControlOrMeta+A");
    await gql.keyboard.insertText("{ auditLog { origin } ");
    await gql.keyboard.press("Escape"); // close the completion list that typing opened
    await gql.keyboard.press("ControlOrMeta+Enter");
    await gql
      .waitForFunction(() => document.querySelector(".graphiql-response")?.textContent?.includes("data-exchange.local/audit"), null, {
        timeout: 15_000,
      })
      .catch(async (e) => {
        await screenshot(gql, "graphiql-failed.en");
        throw e;
      });
    await screenshot(gql, "graphiql.en");
    expect(chrome.blocked).toEqual([]);
    expect(chrome.consoleErrors.filter((e) => /Content Security Policy/i.test(e))).toEqual([]);
  });
});
