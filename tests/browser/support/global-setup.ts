/**
 * Before any test: the console is built (web/dist), and in CI Chromium must be installed — a
 * browser suite that cannot run in CI fails the run instead of disappearing from it.
 */
import { ensureConsoleBuilt } from "./console-build.ts";
import { assertChromium } from "./chromium.ts";

export default function setup(): void {
  ensureConsoleBuilt();
  if (process.env.CI) assertChromium();
}
