// Searches a kkr site the way a reader does: opens soeg.html (served over HTTP), types the
// query into Pagefind's search field, waits for the results, and checks the page with
// axe-core (WCAG 2.1 A and AA) with the results showing. Prints one JSON object:
// {"results": [{"href", "title"}], "text" (all the results say, excerpts included),
//  "violations": [{"id", "help", "targets"}]}.
// Usage: node search.mjs URL-OF-soeg.html QUERY   (CHROMIUM overrides the browser's path)
import { axeSource, launch, wcag } from "./browser.mjs";

const [url, query] = process.argv.slice(2);
const browser = await launch();
try {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await page.goto(url);
  const field = page.getByRole("searchbox").or(page.locator("input.pagefind-ui__search-input"));
  await field.first().fill(query);
  let results = [];
  let text = "";
  try {
    await page.waitForSelector(".pagefind-ui__result-link", { timeout: 15000 });
    // Let every result's excerpt arrive before reading them.
    await page.waitForTimeout(500);
    results = await page.$$eval(".pagefind-ui__result-link", (links) =>
      links.map((a) => ({ href: a.getAttribute("href"), title: a.textContent.trim() })),
    );
    text = await page.locator("#soeg").innerText();
  } catch {
    // No result within the time: reported as none.
  }
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate((options) =>
    // eslint-disable-next-line no-undef
    axe.run(document, options),
    wcag,
  );
  const violations = result.violations.map((v) => ({
    id: v.id,
    help: v.help,
    targets: v.nodes.map((n) => n.target.join(" ")),
  }));
  console.log(JSON.stringify({ results, text, violations }));
} finally {
  await browser.close();
}
