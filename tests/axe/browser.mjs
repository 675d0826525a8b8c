// What the two checkers share: axe-core's source and Debian's headless Chromium, started
// as root in a closed network (no sandbox, and no background connections to refuse).
// CHROMIUM overrides the browser's path.
import fs from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);

/** axe-core, to be added to a page as a script. */
export const axeSource = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

/** The WCAG 2.1 A and AA rules. */
export const wcag = {
  runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
  resultTypes: ["violations"],
};

/** Starts Chromium. */
export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
