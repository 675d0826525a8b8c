// Checks HTML files with axe-core (WCAG 2.1 A and AA rules) in Debian's headless Chromium,
// at a phone's width (390 px), once in light and once in dark mode, and measures whether
// the page is wider than the screen. Prints one JSON object per line:
// {"file", "scheme", "violations": [{"id", "impact", "help", "targets"}], "width"}.
// Usage: node check.mjs FILE.html...   (CHROMIUM overrides the browser's path)
import fs from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const axeSource = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  // As root in a closed network: no sandbox, and no background connections to refuse.
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
try {
  for (const file of process.argv.slice(2)) {
    for (const scheme of ["light", "dark"]) {
      const context = await browser.newContext({
        viewport: { width: 390, height: 844 },
        colorScheme: scheme,
        // The mail bodies and pages need nothing from the network; nothing may load.
        offline: true,
      });
      const page = await context.newPage();
      await page.goto(pathToFileURL(file).href);
      await page.addScriptTag({ content: axeSource });
      const result = await page.evaluate(() =>
        // eslint-disable-next-line no-undef
        axe.run(document, {
          runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
          resultTypes: ["violations"],
        }),
      );
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      const violations = result.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        targets: v.nodes.map((n) => n.target.join(" ")),
      }));
      console.log(JSON.stringify({ file, scheme, violations, width }));
      await context.close();
    }
  }
} finally {
  await browser.close();
}
