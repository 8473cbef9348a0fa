/**
 * The owner in a real Chromium, in English and in Chinese: sign in, create a dataset, upload a CSV
 * through the page's file input and watch the progress reach done, see a bad file refused with its
 * row, column and rule, declare a policy (an invalid value is flagged next to its field, by the
 * console and by the API), publish a listing with a price plan (and see the bounds chosen at its
 * publication), ask for bounds suggested from the data (the API's refusal of too large an ε shown
 * next to the field; the ε spent and left, current vs suggested bounds, each typical query's bias
 * and noise), apply and save them as a new policy version, be told when the budget cannot cover
 * one, approve an access request the buyer made through the API, review a revised analysis as a
 * diff against the approved code, and see the ε each buyer spent (chart) and the earnings. Nothing
 * is fetched beyond 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Locator, Page } from "playwright-core";
import { en } from "../../web/src/i18n/en.ts";
import { zhCN } from "../../web/src/i18n/zh-CN.ts";
import { launchConsoleBrowser, screenshot, type ConsoleBrowser } from "./support/chromium.ts";
import { startDemoExchange, type DemoExchange } from "./support/demo.ts";
import { signIn } from "./support/console-page.ts";
import { makeTrade } from "./support/trade.ts";
import { buyerRequestsAccess, buyerRevisesAnalysis } from "./support/owner-api.ts";

const DISTRICTS = ["东区", "西区", "南区"];
const GOOD_CSV = [
  "person_id,district,age,spend",
  ...Array.from({ length: 30 }, (_, i) => `p${String(i % 10).padStart(2, "0")},${DISTRICTS[i % 3]},${20 + ((i * 7) % 40)},${((i * 13) % 90) + 0.5}`),
].join("\n");
// Row 3 holds an object where a value belongs: refused as nested_value, at row 3, column "extra".
const BAD_NDJSON = ['{"person_id":"p1","extra":"a"}', '{"person_id":"p2","extra":"b"}', '{"person_id":"p3","extra":{"x":1}}'].join("\n");
const ADDED_LINE = "// reviewed change: the trip count comes first";

/** The text of the error shown next to a control (linked by aria-describedby). */
async function fieldError(control: Locator): Promise<string> {
  return control.evaluate((el) => document.getElementById(el.getAttribute("aria-describedby") ?? "")?.textContent ?? "");
}

function ownerFlow(lang: "en" | "zh-CN") {
  const L = lang === "en" ? en : zhCN;
  const fill = (text: string, vars: Record<string, string>) => text.replace(/\{(\w+)\}/g, (_, k: string) => vars[k] ?? "");
  const datasetName = `people-${lang}`;
  const titleEn = `People by district (${lang})`;
  const purpose = `district planning study (${lang})`;

  describe(`owner console (${lang})`, { timeout: 180_000 }, () => {
    let demo: DemoExchange;
    let chrome: ConsoleBrowser;
    let page: Page;

    beforeAll(async () => {
      // Publishing profiles a policy left at the default bounds, as in production (tests default it off).
      demo = await startDemoExchange({ PROFILE_AT_PUBLISH: "true" });
      await makeTrade(demo.exchange.url, demo.login("BUYER").apiKey);
      await buyerRevisesAnalysis(demo.exchange.url, demo.login("BUYER").apiKey, ADDED_LINE);
      chrome = await launchConsoleBrowser();
      ({ page } = await chrome.newPage(lang));
    }, 180_000);

    afterAll(async () => {
      await chrome?.close();
      await demo?.exchange.stop();
    });

    it("signs in and shows only the owner's pages", async () => {
      await signIn(page, demo.exchange.url, demo.login("OWNER"), lang);
      const nav = page.getByRole("navigation", { name: L.navMain });
      for (const label of [L.navDatasets, L.navRequests, L.navAnalyses, L.navEarnings]) {
        await expect(nav.getByRole("link", { name: label }).isVisible()).resolves.toBe(true);
      }
      await expect(nav.getByRole("link", { name: L.navCatalog }).count()).resolves.toBe(0);
      await expect(nav.getByRole("link", { name: L.navAudit }).count()).resolves.toBe(0);
      // A buyer's page opened by its address is refused (and the API refuses its calls anyway).
      await page.goto(`${demo.exchange.url}/#/credit`);
      await expect(page.getByTestId("not-allowed").textContent()).resolves.toBe(L.notAllowed);
      await nav.getByRole("link", { name: L.navDatasets }).click();
      // The demo owner's seeded datasets are listed.
      await page.getByTestId("dataset-row").first().waitFor();
      await screenshot(page, `owner-datasets.${lang}`);
    });

    it("creates a dataset and uploads a CSV through the file input, with progress to done", async () => {
      const form = page.getByRole("form", { name: L.newDataset });
      await form.getByLabel(L.name).fill(datasetName);
      await form.getByLabel(L.description).fill("test people");
      await form.getByRole("button", { name: L.create }).click();
      await page.getByRole("heading", { name: datasetName }).waitFor();
      await page.getByLabel(L.chooseFile).setInputFiles({ name: "people.csv", mimeType: "text/csv", buffer: Buffer.from(GOOD_CSV) });
      await page.getByTestId("upload-done").waitFor();
      await expect(page.getByTestId("upload-phase").textContent()).resolves.toContain("done");
      await expect(page.getByTestId("upload-rows").textContent()).resolves.toContain("30");
      await expect(page.getByTestId("upload-bytes").textContent()).resolves.toContain(String(Buffer.byteLength(GOOD_CSV)));
      const bar = page.getByTestId("upload-progress").locator("progress");
      await expect(bar.evaluate((el: HTMLProgressElement) => el.value === el.max && el.max > 1)).resolves.toBe(true);
      await page.getByTestId("version-row").first().waitFor();
      await expect(page.getByTestId("version-row").count()).resolves.toBe(1);
      await screenshot(page, `owner-upload.${lang}`);
    });

    it("shows a dropped file's refusal with its row, column and rule, and keeps no version of it", async () => {
      // This one is dropped on the drop zone, as a file dragged from the desktop would be.
      const files = await page.evaluateHandle((text) => {
        const dt = new DataTransfer();
        dt.items.add(new File([text], "bad.ndjson", { type: "application/x-ndjson" }));
        return dt;
      }, BAD_NDJSON);
      const zone = page.getByTestId("drop-zone");
      await zone.dispatchEvent("dragover", { dataTransfer: files });
      await expect(zone.getAttribute("class")).resolves.toContain("over");
      await zone.dispatchEvent("drop", { dataTransfer: files });
      await page.getByTestId("upload-errors").waitFor();
      await expect(page.getByTestId("upload-error-row").textContent()).resolves.toBe("3");
      await expect(page.getByTestId("upload-error-column").textContent()).resolves.toBe("extra");
      await expect(page.getByTestId("upload-error-rule").textContent()).resolves.toBe("nested_value");
      await expect(page.getByTestId("version-row").count()).resolves.toBe(1);
      await screenshot(page, `owner-upload-refused.${lang}`);
    });

    it("flags invalid policy values next to their field (the console's check and the API's), then saves", async () => {
      await expect(page.getByLabel(L.privacyUnit).inputValue()).resolves.toBe("person_id");
      await page.getByLabel(fill(L.roleOf, { column: "district" })).selectOption("dimension");
      await page.getByLabel(fill(L.valuesOf, { column: "district" })).fill(DISTRICTS.join(", "));
      await page.getByLabel(fill(L.roleOf, { column: "age" })).selectOption("dimension");
      await page.getByLabel(fill(L.valuesOf, { column: "age" })).fill("young, old");
      await page.getByLabel(fill(L.roleOf, { column: "spend" })).selectOption("measure");
      await page.getByLabel(fill(L.lowerBoundOf, { column: "spend" })).fill("0");
      await page.getByLabel(fill(L.upperBoundOf, { column: "spend" })).fill("100");
      await page.getByRole("checkbox", { name: "SUM", exact: true }).check();
      // The console's own check: k below 2 is flagged at once, next to the field.
      const k = page.getByLabel(L.minGroupSize);
      await k.fill("1");
      await expect(k.getAttribute("aria-invalid")).resolves.toBe("true");
      await expect(fieldError(k)).resolves.toBe(L.vMinGroupSize);
      await k.fill("2");
      await expect(k.getAttribute("aria-invalid")).resolves.toBeNull();
      // The API's check: "young" is no int key; its issue path lands next to the age keys.
      await page.getByRole("button", { name: L.savePolicy }).click();
      const ageKeys = page.getByLabel(fill(L.valuesOf, { column: "age" }));
      await page.waitForFunction(() => document.querySelector('[aria-invalid="true"]') !== null);
      await expect(ageKeys.getAttribute("aria-invalid")).resolves.toBe("true");
      await expect(fieldError(ageKeys)).resolves.toMatch(/not a valid int/);
      await screenshot(page, `owner-policy-errors.${lang}`);
      // Fixed, and saved from the keyboard (Enter in a field submits the form).
      await ageKeys.fill("20, 30, 40");
      await ageKeys.press("Enter");
      await expect(page.getByTestId("policy-saved").textContent()).resolves.toBe(fill(L.policySaved, { version: "1" }));
    });

    it("publishes a listing with its price plan", async () => {
      const form = page.getByRole("form", { name: L.publish });
      await form.getByLabel(L.titleZh).fill(`各区人群（${lang}）`);
      await form.getByLabel(L.titleEn).fill(titleEn);
      await form.getByLabel(L.licence).fill("CC BY-NC 4.0");
      await form.getByLabel(L.permittedUse).fill("research only");
      await form.getByLabel(L.perQueryFee).fill("50");
      await form.getByLabel(L.pricePerEpsilon).fill("1000");
      // No description in either language: the API's issue is shown next to the description.
      await form.getByRole("button", { name: L.publishButton }).click();
      const description = form.getByLabel(L.descriptionZh);
      await form.locator('textarea[name="descriptionZh"][aria-invalid="true"]').waitFor();
      await expect(fieldError(description)).resolves.toMatch(/description/);
      await form.getByLabel(L.descriptionEn).fill("Spend per person and district, made up for a test.");
      await form.getByRole("button", { name: L.publishButton }).click();
      await page.getByTestId("listing-published").waitFor();
      const row = page.getByTestId("listing-row").filter({ hasText: lang === "en" ? titleEn : `各区人群（${lang}）` });
      await row.getByText("PUBLISHED").waitFor();
      // 50 per query + 1000 per ε × 0.1 = 150 fen.
      await expect(row.getByTestId("listing-price").textContent()).resolves.toMatch(/1\.50/);
      // The policy kept the default bounds and had no profile: they were chosen at publication,
      // from a DP profile or (too little data, or no budget) kept, and the owner sees which.
      const outcome = row.getByTestId("bounds-outcome");
      await expect(outcome.getAttribute("data-outcome")).resolves.toMatch(/^(PROFILED|DEFAULTS)$/);
      const outcomeText = (await outcome.getAttribute("data-outcome")) === "PROFILED" ? L.boundsProfiled : L.boundsDefaults;
      await expect(outcome.textContent()).resolves.toBe(outcomeText);
      await expect(row.getByTestId("bounds-at-publish").textContent()).resolves.toContain(L.boundsAtPublishDetail.split("{")[0]!);
      await screenshot(page, `owner-listing.${lang}`);
    });

    it("suggests bounds from the data for ε from the dataset's budget, applies them and saves them as a new policy version", async () => {
      const section = page.getByTestId("bounds-suggestion");
      const epsilon = section.getByLabel(L.suggestEpsilon);
      await expect(epsilon.inputValue()).resolves.toBe("0.1");
      // More than the exchange allows for a profile: the API's InvalidInput lands next to the field.
      await epsilon.fill("2");
      await section.getByRole("button", { name: L.suggestButton }).click();
      await section.locator('input[name="suggestEpsilon"][aria-invalid="true"]').waitFor();
      await expect(fieldError(epsilon)).resolves.toMatch(/1/);
      await expect(section.getByTestId("suggestion-result").count()).resolves.toBe(0);
      await epsilon.fill("0.1");
      await section.getByRole("button", { name: L.suggestButton }).click();
      const result = section.getByTestId("suggestion-result");
      await result.waitFor();
      // The ε spent is shown with what is left of the dataset's budget. Thirty rows and no public
      // size: every bin is usually under its noise floor and the note says the profile holds too
      // little. Noise is unbounded, so a bin sometimes clears its floor by chance (each profile
      // histogram, about 1 in 40): then typical queries show, with the no-exact-size caveat.
      // Either way the note and the table must agree.
      const spent = result.getByTestId("suggest-spent");
      await expect(spent.textContent()).resolves.toContain(`${L.suggestSpent.split("{spent}")[0]}0.1`);
      const note = (await result.getByTestId("suggest-note").textContent()) ?? "";
      const typicalShown = await result.getByTestId("typical-query").count();
      if (/too little/.test(note)) expect(typicalShown).toBe(0);
      else {
        expect(note).toMatch(/no exact size is declared/);
        expect(typicalShown).toBeGreaterThan(0);
      }
      // With the exact size declared public the profile has something to go on.
      await page.getByRole("checkbox", { name: L.publishRowCount }).check();
      await page.getByRole("button", { name: L.savePolicy }).click();
      await page.getByTestId("policy-saved").waitFor();
      await section.getByRole("button", { name: L.suggestButton }).click();
      await result.getByTestId("typical-query").first().waitFor();
      const profiledVersion = Number(await spent.getAttribute("data-policy-version"));
      expect(profiledVersion).toBeGreaterThan(1);
      // Current and suggested bounds side by side, with each typical query's bias and noise under both.
      const rows = Number(await result.getByTestId("suggested-rows").textContent());
      const groups = Number(await result.getByTestId("suggested-groups").textContent());
      expect(Number.isInteger(rows) && rows >= 1).toBe(true);
      expect(Number.isInteger(groups) && groups >= 1).toBe(true);
      const clamp = result.locator('[data-testid="clamp-row"][data-column="spend"]');
      const suggestedClamp = clamp.getByTestId("suggested-clamp");
      const lo = await suggestedClamp.getAttribute("data-lo");
      const hi = await suggestedClamp.getAttribute("data-hi");
      expect(Number(lo)).toBeLessThan(Number(hi));
      await expect(result.getByTestId("typical-query").count()).resolves.toBeGreaterThan(0);
      await expect(result.getByTestId("typical-query").first().locator("td").first().textContent()).resolves.toMatch(/%/);
      await expect(result.getByTestId("suggest-chart").locator("canvas").count()).resolves.toBe(1);
      await screenshot(page, `owner-bounds-suggestion.${lang}`);
      // Applied over other values: the draft's bounds become the suggested ones; saved, they make
      // the next policy version.
      await page.getByLabel(L.maxRowsPerUnit).fill(String(rows + 7));
      await page.getByLabel(L.maxGroupsPerUnit).fill(String(groups + 3));
      await page.getByLabel(fill(L.lowerBoundOf, { column: "spend" })).fill(String(Number(lo) - 5));
      await page.getByLabel(fill(L.upperBoundOf, { column: "spend" })).fill(String(Number(hi) + 5));
      await result.getByRole("button", { name: L.applySuggestion }).click();
      await result.getByTestId("suggestion-applied").waitFor();
      await expect(page.getByLabel(L.maxRowsPerUnit).inputValue()).resolves.toBe(String(rows));
      await expect(page.getByLabel(L.maxGroupsPerUnit).inputValue()).resolves.toBe(String(groups));
      await expect(page.getByLabel(fill(L.lowerBoundOf, { column: "spend" })).inputValue()).resolves.toBe(lo);
      await expect(page.getByLabel(fill(L.upperBoundOf, { column: "spend" })).inputValue()).resolves.toBe(hi);
      await page.getByRole("button", { name: L.savePolicy }).click();
      const saved = fill(L.policySaved, { version: String(profiledVersion + 1) });
      await page.getByTestId("policy-saved").filter({ hasText: saved }).waitFor();
      // Opened afresh, the editor shows the saved policy: the suggested bounds.
      await page.reload();
      await page.getByLabel(L.maxRowsPerUnit).waitFor();
      await expect(page.getByLabel(L.maxRowsPerUnit).inputValue()).resolves.toBe(String(rows));
      await expect(page.getByLabel(L.maxGroupsPerUnit).inputValue()).resolves.toBe(String(groups));
      await expect(page.getByLabel(fill(L.lowerBoundOf, { column: "spend" })).inputValue()).resolves.toBe(lo);
      await expect(page.getByLabel(fill(L.upperBoundOf, { column: "spend" })).inputValue()).resolves.toBe(hi);
      // A dataset budget of 0.5 cannot cover a profile at ε 1: refused, and the owner is told so.
      await page.getByLabel(L.buyerBudget).fill("0.1");
      await page.getByLabel(L.datasetBudget).fill("0.5");
      await page.getByRole("button", { name: L.savePolicy }).click();
      await page.getByTestId("policy-saved").waitFor();
      const again = page.getByTestId("bounds-suggestion");
      await again.getByLabel(L.suggestEpsilon).fill("1");
      await again.getByRole("button", { name: L.suggestButton }).click();
      await expect(again.getByRole("alert").textContent()).resolves.toContain(L.suggestBudgetExhausted.split("{requested}")[0]!);
      await expect(again.getByTestId("suggestion-result").count()).resolves.toBe(0);
      await screenshot(page, `owner-bounds-exhausted.${lang}`);
    });

    it("approves an access request the buyer made through the API", async () => {
      await buyerRequestsAccess(demo.exchange.url, demo.login("OWNER").apiKey, demo.login("BUYER").apiKey, titleEn, purpose);
      await page.getByRole("link", { name: L.navRequests }).click();
      const pending = page.getByTestId("pending-request").filter({ hasText: purpose });
      await pending.waitFor();
      await screenshot(page, `owner-requests.${lang}`);
      // By keyboard: the reason field, then Tab to "Approve" and Enter.
      await pending.getByLabel(L.reason).focus();
      await page.keyboard.press("Tab");
      await expect(page.evaluate(() => document.activeElement?.textContent)).resolves.toBe(L.approve);
      await page.keyboard.press("Enter");
      const decided = page.getByTestId("decided-request").filter({ hasText: purpose });
      await decided.waitFor();
      await expect(decided.getByTestId("request-status").textContent()).resolves.toBe("APPROVED");
      await expect(page.getByTestId("pending-request").count()).resolves.toBe(0);
    });

    it("reviews a revised analysis as a diff against the approved code, and approves it", async () => {
      await page.getByRole("link", { name: L.navAnalyses }).click();
      const card = page.getByTestId("analysis").filter({ hasText: "PENDING_REVIEW" });
      await card.waitFor();
      await expect(card.getByTestId("diff-added").count()).resolves.toBe(1);
      await expect(card.getByTestId("diff-added").textContent()).resolves.toContain(ADDED_LINE);
      await expect(card.getByTestId("diff-removed").count()).resolves.toBe(0);
      await expect(card.getByText(fill(L.diffSummary, { added: "1", removed: "0" })).isVisible()).resolves.toBe(true);
      await screenshot(page, `owner-analysis-diff.${lang}`);
      await card.getByRole("button", { name: L.approve }).click();
      await page.getByTestId("analysis-status").filter({ hasText: "APPROVED" }).waitFor();
      await expect(page.getByTestId("analysis").filter({ hasText: "PENDING_REVIEW" }).count()).resolves.toBe(0);
    });

    it("shows earnings, sales and the ε each buyer spent as a chart", async () => {
      await page.getByRole("link", { name: L.navEarnings }).click();
      await page.getByTestId("earned").waitFor();
      // Six taxi queries (five in the free tier, at no charge): the owner earned its share.
      await expect(page.getByTestId("sale-row").count()).resolves.toBe(6);
      await expect(page.getByTestId("earned").textContent()).resolves.toMatch(/[1-9]/);
      const select = page.getByRole("combobox", { name: L.dataset });
      const taxi = await select.locator("option", { hasText: "出租车" }).getAttribute("value");
      await select.selectOption(taxi ?? "");
      await page.getByTestId("buyer-spend").first().waitFor();
      // The demo buyer's queries; the owner's own profile at publish (PROFILE_AT_PUBLISH is on
      // here) is spent from the same budget but shown apart, never as a buyer.
      await expect(page.getByTestId("buyer-spend").count()).resolves.toBe(1);
      await expect(page.getByTestId("owner-spend").textContent()).resolves.toMatch(/^\d/);
      await expect(page.getByTestId("budget-chart").locator("canvas").count()).resolves.toBe(1);
      for (const row of await page.getByTestId("buyer-spend").all()) {
        await expect(row.locator("td").first().textContent()).resolves.toMatch(/0\.\d/);
      }
      await screenshot(page, `owner-earnings.${lang}`);
    });

    it("asked nothing beyond 127.0.0.1 and logged no error but the refused upload's 422", async () => {
      expect(chrome.blocked).toEqual([]);
      expect(chrome.consoleErrors.filter((e) => !/status of 422/.test(e))).toEqual([]);
    });
  });
}

ownerFlow("en");
ownerFlow("zh-CN");
