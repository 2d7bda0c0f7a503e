// First map paint on a running server, measured in Chromium (scripts/bench webmap):
// `node paint.mjs URL [runs]` loads the page in a fresh (cold-cache) context
// each run and prints the median milliseconds from navigation start to the
// map's `load` (style ready, first frame) and first `idle` (every visible tile
// loaded and drawn), as JSON.
import { launchBrowser } from './harness.mjs';

const [url, runsArg] = process.argv.slice(2);
const runs = Number(runsArg || 7);
const browser = await launchBrowser();
const loads = [];
const idles = [];
try {
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const page = await context.newPage();
    await page.goto(url);
    await page.waitForFunction(() => window.__envatlasTimings && window.__envatlasTimings.idle !== null, null, { timeout: 60000 });
    const t = await page.evaluate(() => window.__envatlasTimings);
    loads.push(t.load);
    idles.push(t.idle);
    await context.close();
  }
} finally {
  await browser.close();
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(JSON.stringify({ runs, load_ms: Math.round(median(loads)), idle_ms: Math.round(median(idles)), idle_all_ms: idles.map(Math.round) }));
