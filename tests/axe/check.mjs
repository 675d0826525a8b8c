// Checks HTML files with axe-core (WCAG 2.1 A and AA rules) in Debian's headless Chromium,
// at a phone's width (390 px), once in light and once in dark mode, and measures whether
// the page is wider than the screen. Prints one JSON object per line:
// {"file", "scheme", "violations": [{"id", "impact", "help", "targets"}], "width"}.
// Usage: node check.mjs FILE.html...   (CHROMIUM overrides the browser's path)
import { pathToFileURL } from "node:url";
import { axeSource, launch, wcag } from "./browser.mjs";

const browser = await launch();
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
      const result = await page.evaluate((options) =>
        // eslint-disable-next-line no-undef
        axe.run(document, options),
        wcag,
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
