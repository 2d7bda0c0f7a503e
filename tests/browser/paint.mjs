// First map paint on a running server, measured in Chromium (scripts/bench webmap):
// `node paint.mjs URL [runs]` loads the page in a fresh (cold-cache) context
// each run and prints, as JSON, the median milliseconds from navigation start to
// - `idle_ms`: the map's first `idle` — every visible tile loaded and drawn,
//   labels placed: the first paint we quote;
// - `tiles_ms`: the first frame drawn after the first of our tiles arrived;
// - `load_ms`: MapLibre's `load` (style ready, a first frame);
// and a breakdown of where the time goes (medians): the bundle received, the
// app's entry running (the bundle parsed and evaluated), the map created (the
// catalog and settings fetched), the style loaded.
import { launchBrowser } from './harness.mjs';

const [url, runsArg] = process.argv.slice(2);
const runs = Number(runsArg || 7);
const browser = await launchBrowser();
const samples = [];
try {
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const page = await context.newPage();
    await page.goto(url);
    await page.waitForFunction(() => window.__envatlasTimings && window.__envatlasTimings.idle !== null, null, { timeout: 60000 });
    samples.push(
      await page.evaluate(() => {
        const t = window.__envatlasTimings;
        const mark = (name) => performance.getEntriesByName(name)[0]?.startTime ?? null;
        const script = performance.getEntriesByType('resource').find((e) => new URL(e.name).pathname === '/app.js');
        return {
          bundle: script ? script.responseEnd : null,
          main: mark('envatlas:main'),
          map: mark('envatlas:map'),
          style: mark('envatlas:style'),
          load: t.load,
          tiles: t.tiles,
          idle: t.idle,
        };
      }),
    );
    await context.close();
  }
} finally {
  await browser.close();
}
const median = (key) => {
  const xs = samples.map((s) => s[key]).filter((x) => x !== null).sort((a, b) => a - b);
  return xs.length ? Math.round(xs[Math.floor(xs.length / 2)]) : null;
};
console.log(
  JSON.stringify({
    runs,
    load_ms: median('load'),
    tiles_ms: median('tiles'),
    idle_ms: median('idle'),
    idle_all_ms: samples.map((s) => Math.round(s.idle)),
    breakdown_ms: { bundle_received: median('bundle'), app_started: median('main'), map_created: median('map'), style_loaded: median('style') },
  }),
);
