/**
 * The buyer in a real Chromium, in Chinese: sign in, find the taxi listing by a Chinese word, read
 * its schema, price and ε left, build a query, see the quote (price, ε, expected error) before
 * running it, run it and get a table and a chart. Nothing is fetched from beyond 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { launchConsoleBrowser, screenshot, type ConsoleBrowser } from "./support/chromium.ts";
import { startDemoExchange, type DemoExchange } from "./support/demo.ts";
import { signIn } from "./support/console-page.ts";

describe("buyer console (zh-CN)", { timeout: 120_000 }, () => {
  let demo: DemoExchange;
  let chrome: ConsoleBrowser;
  let page: Page;

  beforeAll(async () => {
    demo = await startDemoExchange();
    chrome = await launchConsoleBrowser();
    ({ page } = await chrome.newPage("zh-CN"));
  }, 120_000);

  afterAll(async () => {
    await chrome?.close();
    await demo?.exchange.stop();
  });

  it("signs in with the session mutation and shows only the buyer's pages", async () => {
    await signIn(page, demo.exchange.url, demo.login("BUYER"), "zh-CN");
    const nav = page.getByRole("navigation", { name: "主导航" });
    await expect(nav.getByRole("link", { name: "数据目录" }).isVisible()).resolves.toBe(true);
    await expect(nav.getByRole("link", { name: "我的数据集" }).count()).resolves.toBe(0);
    await expect(nav.getByRole("link", { name: "审计日志" }).count()).resolves.toBe(0);
  });

  it("finds the listing by a Chinese word and shows its schema, price and ε left", async () => {
    await page.getByLabel("搜索数据产品（中文或英文）").fill("出租车");
    await page.getByRole("button", { name: "搜索", exact: true }).click();
    await page
      .getByRole("link", { name: /上海出租车行程/ })
      .first()
      .click();
    await page.getByRole("heading", { name: /上海出租车行程/ }).waitFor();
    await expect(page.getByRole("cell", { name: "pickup_district" }).isVisible()).resolves.toBe(true);
    await expect(page.getByTestId("listing-price").textContent()).resolves.toMatch(/\d/);
    await expect(page.getByTestId("epsilon-left").textContent()).resolves.toMatch(/\d/);
    await screenshot(page, "buyer-listing.zh-CN");
  });

  it("quotes price, ε and expected error before running, then shows the table and chart", async () => {
    await page.getByRole("checkbox", { name: "AVG(fare_yuan)" }).check();
    await page.getByRole("button", { name: "获取报价" }).click();
    const quote = page.getByTestId("quote");
    await quote.waitFor();
    await expect(page.getByTestId("quote-price").textContent()).resolves.toMatch(/\d/);
    await expect(page.getByTestId("quote-epsilon").textContent()).resolves.toMatch(/0\.\d/);
    // COUNT_UNITS, and AVG as a noisy SUM and a noisy COUNT: each with its own expected error.
    await expect(page.getByTestId("quote-error").count()).resolves.toBeGreaterThanOrEqual(2);
    // Per aggregate: the bias bounding is expected to cause and the 95% range of the relative error.
    await expect(page.getByTestId("quote-aggregate-error").count()).resolves.toBe(2);
    // The demo policy released no contribution profile: bias and range are said to be unknown, not left out.
    await expect(page.getByTestId("quote-bias").last().textContent()).resolves.toMatch(/%|未知/);
    await expect(page.getByTestId("quote-interval").last().textContent()).resolves.toMatch(/^\[.*%.*%\]$|未知/);
    await screenshot(page, "buyer-quote.zh-CN");
    await page.getByRole("button", { name: /运行查询/ }).click();
    await page.getByTestId("results").waitFor();
    await expect(page.getByTestId("result-row").count()).resolves.toBeGreaterThan(1);
    await expect(page.getByTestId("result-chart").locator("canvas").count()).resolves.toBe(1);
    await expect(page.getByText("各分组的COUNT_UNITS，误差线为 ±1 个预期标准差").isVisible()).resolves.toBe(true);
    await screenshot(page, "buyer-results.zh-CN");
  });

  it("shows the credit and tops it up on the configured rail", async () => {
    await page.getByRole("link", { name: "余额与收据" }).click();
    const balance = page.getByTestId("credit-balance");
    await balance.waitFor();
    const before = await balance.textContent();
    await page.getByLabel("金额（最小货币单位，如分）").fill("10000");
    await page.getByRole("button", { name: "充值" }).click();
    await page.getByRole("status").waitFor();
    // The offline demo rail pays at once: the balance shown changes by the amount.
    await page.waitForFunction((old) => document.querySelector('[data-testid="credit-balance"]')?.textContent !== old, before);
    await screenshot(page, "buyer-credit.zh-CN");
  });

  it("switches to English and keeps working, with no request beyond 127.0.0.1 and no CSP error", async () => {
    await page.getByRole("button", { name: "English" }).click();
    await page.getByRole("heading", { name: "Credit" }).waitFor();
    await screenshot(page, "buyer-credit.en");
    expect(chrome.blocked).toEqual([]);
    expect(chrome.consoleErrors).toEqual([]);
  });
});
