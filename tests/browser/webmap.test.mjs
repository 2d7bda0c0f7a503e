// The web map as people use it, in a real Chromium: the thematic map renders
// our tiles, layers switch off, the language switches, a buffer query and the
// emergency view list the features the API finds; on a laptop and a tablet;
// no console errors and no request leaving the origin.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { startServer, launchBrowser, openMap, waitIdle, shot, ROOT } from './harness.mjs';
import { readPdf } from './pdf.mjs';

const LAPTOP = { width: 1366, height: 768 };
const TABLET = { width: 820, height: 1180 };

// Known sample features (data/layers, seed 42).
const WATER_SOURCE = { id: 'ws-0001', name: '示例水源 01', lonlat: [104.577144, 28.806377] };
const STATION = { id: 'ms-0001', source: 'ps-000007', lonlat: [104.497178, 28.158294] };
const SOURCE = { id: 'ps-000001', name: '示例水泥厂 21', lonlat: [104.475332, 28.060467] };

let server;
let browser;
const records = [];

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

async function open(viewport, path) {
  const opened = await openMap(browser, server.url, viewport, path);
  records.push(opened.record);
  return opened;
}

const rendered = (page, layers) =>
  page.evaluate((ls) => window.__envatlasMap.queryRenderedFeatures({ layers: ls }).length, layers);

test('the thematic map renders our tiles (laptop 1366×768)', async () => {
  const { page, context } = await open(LAPTOP);
  const counts = await page.evaluate(() => {
    const map = window.__envatlasMap;
    const all = map.queryRenderedFeatures();
    const by = {};
    for (const f of all) by[f.sourceLayer || f.source] = (by[f.sourceLayer || f.source] || 0) + 1;
    return by;
  });
  assert.ok(counts.admin_boundaries > 0, `counties rendered: ${JSON.stringify(counts)}`);
  assert.ok(counts.pollution_sources > 0, `sources rendered: ${JSON.stringify(counts)}`);
  assert.ok(counts.rivers > 0, `rivers rendered: ${JSON.stringify(counts)}`);
  // Panels: the layer list comes from the catalog, in Chinese.
  assert.equal(await page.textContent('#topbar h1'), '宜宾市生态环境专题地图');
  assert.equal(await page.locator('#layer-list > li').count(), 8);
  await page.waitForSelector('[data-card="online_rate"]');
  // The county choropleth switches to an indicator of /api/stats/counties.
  await page.selectOption('#choropleth-indicator', 'sources');
  await page.waitForSelector('#choropleth-box table.mini tr');
  assert.equal(await page.locator('#choropleth-box table.mini tr').count(), 10);
  // The top-5 risk list zooms the map to a water source and highlights it.
  await page.waitForSelector('[data-card="top5"] ol.top5 li');
  const zoomBefore = await page.evaluate(() => window.__envatlasMap.getZoom());
  await page.click('[data-card="top5"] ol.top5 li');
  await page.waitForFunction((z) => window.__envatlasMap.getZoom() > z + 2 && !window.__envatlasMap.isMoving(), zoomBefore);
  assert.equal(await page.evaluate(async () => (await window.__envatlasMap.getSource('highlight').getData()).features.length), 1);
  await page.evaluate((b) => window.__envatlasMap.fitBounds(b, { duration: 0 }), [[103.6, 27.85], [105.35, 29.25]]);
  await waitIdle(page);
  await shot(page, '01-thematic-laptop');
  await context.close();
});

test('a layer toggle hides its layer', async () => {
  const { page, context } = await open(LAPTOP);
  assert.ok((await rendered(page, ['sources-circle'])) > 0);
  await page.uncheck('input[data-layer="pollution_sources"]');
  await waitIdle(page);
  assert.equal(await page.evaluate(() => window.__envatlasMap.getLayoutProperty('sources-circle', 'visibility')), 'none');
  assert.equal(await rendered(page, ['sources-circle']), 0);
  await shot(page, '02-sources-hidden');
  await page.check('input[data-layer="pollution_sources"]');
  await waitIdle(page);
  assert.ok((await rendered(page, ['sources-circle'])) > 0);
  await context.close();
});

test('the language toggle switches the labels', async () => {
  const { page, context } = await open(LAPTOP);
  const zhLayer = await page.textContent('li.layer[data-layer="pollution_sources"] .title');
  await page.click('#lang-toggle');
  assert.equal(await page.textContent('#topbar h1'), 'Yibin Environmental Atlas');
  assert.equal(await page.textContent('#modes button[data-mode="buffer"]'), 'Buffer query');
  assert.equal(await page.textContent('#panel-thematic h2'), 'Layers and legend');
  const enLayer = await page.textContent('li.layer[data-layer="pollution_sources"] .title');
  assert.notEqual(enLayer, zhLayer);
  assert.match(enLayer, /^[A-Za-z -]+$/);
  assert.match(await page.textContent('li.layer[data-layer="pollution_sources"] .legend'), /Exceeding/);
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  await waitIdle(page);
  // The map's own labels (counties, rivers) switch to the English names.
  const labels = await page.evaluate(() =>
    window.__envatlasMap
      .queryRenderedFeatures({ layers: ['counties-label'] })
      .map((f) => f.layer.layout['text-field'].sections.map((x) => x.text).join('')),
  );
  assert.ok(labels.length > 0);
  for (const l of labels) assert.match(l, /^[A-Za-z' -]+$/);
  const field = await page.evaluate(() => window.__envatlasMap.getLayoutProperty('counties-label', 'text-field'));
  assert.ok(JSON.stringify(field).includes('name_en'), JSON.stringify(field));
  await shot(page, '03-english');
  await page.click('#lang-toggle');
  assert.equal(await page.textContent('#topbar h1'), '宜宾市生态环境专题地图');
  assert.equal(await page.textContent('li.layer[data-layer="pollution_sources"] .title'), zhLayer);
  await context.close();
});

test('clicking a source shows its attributes in Chinese', async () => {
  const { page, context } = await open(LAPTOP);
  await page.evaluate((c) => window.__envatlasMap.jumpTo({ center: c, zoom: 14 }), SOURCE.lonlat);
  await waitIdle(page);
  const xy = await page.evaluate((c) => window.__envatlasMap.project(c), SOURCE.lonlat);
  const box = await page.locator('#map').boundingBox();
  await page.mouse.click(box.x + xy.x, box.y + xy.y);
  await page.waitForSelector('#feature-detail table.attrs');
  assert.equal(await page.textContent('.feature-popup .popup-head strong'), SOURCE.name);
  assert.equal(await page.textContent('#feature-detail .popup-head strong'), SOURCE.name);
  const text = await page.textContent('#feature-detail table.attrs');
  assert.match(text, /水泥制造/);
  await waitIdle(page);
  await shot(page, '04-feature-popup');
  await context.close();
});

test('a monitored station shows its last 72 hours with the limit line', async () => {
  const { page, context } = await open(LAPTOP);
  await page.evaluate((c) => window.__envatlasMap.jumpTo({ center: c, zoom: 15 }), STATION.lonlat);
  await waitIdle(page);
  const xy = await page.evaluate((c) => window.__envatlasMap.project(c), STATION.lonlat);
  const box = await page.locator('#map').boundingBox();
  await page.mouse.click(box.x + xy.x, box.y + xy.y);
  await page.waitForSelector('#feature-detail .chart .uplot', { timeout: 30000 });
  const legends = await page.$$eval('#feature-detail .chart .u-legend', (ls) => ls.map((l) => l.textContent));
  assert.ok(legends.length >= 2, legends.join(' | '));
  assert.ok(legends.some((l) => l.includes('排放限值')), legends.join(' | '));
  assert.ok(await page.$$eval('#feature-detail .chart', (cs) => cs.some((c) => c.textContent.includes('化学需氧量'))));
  await waitIdle(page);
  await shot(page, '04b-station-chart');
  await context.close();
});

test('a buffer query at a known site lists the expected features', async () => {
  const { page, context } = await open(LAPTOP);
  await page.click('#modes button[data-mode="buffer"]');
  await page.evaluate((c) => window.__envatlasMap.jumpTo({ center: c, zoom: 14 }), WATER_SOURCE.lonlat);
  await waitIdle(page);
  await page.click('button[data-draw="point"]');
  const xy = await page.evaluate((c) => window.__envatlasMap.project(c), WATER_SOURCE.lonlat);
  const box = await page.locator('#map').boundingBox();
  await page.mouse.click(box.x + xy.x, box.y + xy.y);
  await page.fill('#buffer-distance', '2000');
  await page.dispatchEvent('#buffer-distance', 'change');
  await page.click('#buffer-run');
  await page.waitForSelector('#buffer-summary');
  // The page's table equals what the API answers for the same drawn point.
  const geometry = await page.evaluate(() => window.__envatlas.drawer.geometry());
  const api = await (
    await fetch(`${server.url}/api/analysis/buffer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ geometry, distance_m: 2000 }),
    })
  ).json();
  const listed = await page.$$eval('#panel-buffer tr.result-row', (rows) => rows.map((r) => `${r.dataset.layer}/${r.dataset.id}`));
  const expected = api.features.map((f) => `${f.properties.layer}/${f.properties.id}`);
  assert.ok(expected.length > 0);
  assert.deepEqual([...listed].sort(), [...expected].sort());
  assert.ok(listed.includes(`drinking_water_sources/${WATER_SOURCE.id}`), listed.join(' '));
  const groups = await page.$$eval('#panel-buffer .result-group', (g) => g.map((x) => x.dataset.layer));
  assert.ok(groups.includes('drinking_water_sources') && groups.includes('protection_zones'), groups.join(','));
  // A row click highlights its feature.
  await page.click(`#panel-buffer tr.result-row[data-id="${WATER_SOURCE.id}"]`);
  const highlighted = await page.evaluate(async () => (await window.__envatlasMap.getSource('highlight').getData()).features.length);
  assert.equal(highlighted, 1);
  // Exports: GeoJSON of the result, CSV from the API.
  const [geojson] = await Promise.all([page.waitForEvent('download'), page.click('#buffer-geojson')]);
  const fc = JSON.parse(readFileSync(await geojson.path(), 'utf8'));
  assert.equal(fc.features.length, expected.length);
  const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#buffer-csv')]);
  const csvText = readFileSync(await csv.path(), 'utf8');
  assert.match(csvText, /^\uFEFF?layer,id,name_zh,distance_m/);
  await waitIdle(page);
  await shot(page, '05-buffer');
  await context.close();
});

test('emergency mode lists the nearest sources for a known point', async () => {
  const { page, context } = await open(LAPTOP);
  await page.click('#modes button[data-mode="emergency"]');
  // The cement plant discharges to air (and lies > 5 km from any river).
  await page.check('input[name="release"][value="air"]');
  await page.fill('#incident-lon', String(SOURCE.lonlat[0]));
  await page.dispatchEvent('#incident-lon', 'change');
  await page.fill('#incident-lat', String(SOURCE.lonlat[1]));
  await page.dispatchEvent('#incident-lat', 'change');
  await page.click('#emergency-run');
  await page.waitForSelector('#emergency-nearest tr.result-row');
  const rows = await page.$$eval('#emergency-nearest .result-group[data-layer="pollution_sources"] tr.result-row', (rs) =>
    rs.map((r) => ({ id: r.dataset.id, cells: [...r.cells].map((c) => c.textContent) })),
  );
  const q = new URLSearchParams({ lon: SOURCE.lonlat[0], lat: SOURCE.lonlat[1], layers: 'pollution_sources,drinking_water_sources', k: 5, max_distance_m: 10000 });
  const api = await (await fetch(`${server.url}/api/analysis/nearest?${q}`)).json();
  const apiSources = api.features.filter((f) => f.properties.layer === 'pollution_sources').map((f) => f.properties.id);
  assert.deepEqual(rows.map((r) => r.id), apiSources);
  assert.equal(rows[0].id, SOURCE.id);
  assert.equal(rows[0].cells[0], SOURCE.name);
  assert.equal(rows[0].cells[1], '0 m');
  // The second nearest has a distance and a compass bearing.
  assert.match(rows[1].cells[2], /^(北|东北|东|东南|南|西南|西|西北) \d+°$/);
  await waitIdle(page);
  await shot(page, '06-emergency');
  // One action saves the map with the result list as a PNG.
  const [png] = await Promise.all([page.waitForEvent('download'), page.click('#emergency-png')]);
  const bytes = readFileSync(await png.path());
  assert.deepEqual([...bytes.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
  assert.ok(bytes.length > 20000, `png of ${bytes.length} bytes`);
  // And as a PDF: one A4 page with the sheet as an image and the result list as text.
  const [pdfDownload] = await Promise.all([page.waitForEvent('download'), page.click('#emergency-pdf')]);
  assert.equal(pdfDownload.suggestedFilename(), 'emergency.pdf');
  const pdf = readPdf(readFileSync(await pdfDownload.path()));
  assert.match(pdf.text, new RegExp(`${SOURCE.name} — 0 m`));
  for (const r of rows) assert.ok(pdf.text.includes(r.cells[0]), `${r.cells[0]} in the PDF text`);
  assert.ok(pdf.text.includes('最近'), pdf.text.slice(0, 200));
  assert.ok(pdf.image.width > 1366 && pdf.image.height >= 700, JSON.stringify(pdf.image));
  const decoded = await page.evaluate(async (b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const bmp = await createImageBitmap(new Blob([bytes], { type: 'image/jpeg' }));
    return { width: bmp.width, height: bmp.height };
  }, pdf.jpeg.toString('base64'));
  assert.deepEqual(decoded, { width: pdf.image.width, height: pdf.image.height });
  const pdftotext = spawnSync('pdftotext', ['-layout', await pdfDownload.path(), '-'], { encoding: 'utf8' });
  if (!pdftotext.error) {
    // An independent reader (poppler) finds the same text.
    assert.equal(pdftotext.status, 0, pdftotext.stderr);
    assert.ok(pdftotext.stdout.includes(SOURCE.name), pdftotext.stdout.slice(0, 300));
  }
  await context.close();
});

test('emergency mode traces the river downstream and draws an air plume', async () => {
  const { page, context } = await open(LAPTOP);
  await page.click('#modes button[data-mode="emergency"]');
  // Incident by clicking the map, a little above the Min intake.
  const spill = [WATER_SOURCE.lonlat[0] - 0.01, WATER_SOURCE.lonlat[1] + 0.01];
  await page.evaluate((c) => window.__envatlasMap.jumpTo({ center: c, zoom: 12 }), spill);
  await waitIdle(page);
  await page.check('input[name="release"][value="both"]');
  await page.click('#incident-pick');
  const xy = await page.evaluate((c) => window.__envatlasMap.project(c), spill);
  const box = await page.locator('#map').boundingBox();
  await page.mouse.click(box.x + xy.x, box.y + xy.y);
  await page.waitForSelector('#emergency-nearest tr.result-row');
  assert.ok(Math.abs(Number(await page.inputValue('#incident-lon')) - spill[0]) < 0.001);
  await page.waitForSelector('#emergency-downstream');
  await page.waitForSelector('#emergency-plume');
  const drawn = await page.evaluate(async () => (await window.__envatlasMap.getSource('result').getData()).features.map((f) => f.geometry.type));
  assert.ok(drawn.includes('Point'), drawn.join(','));
  assert.ok(drawn.some((t) => t.includes('LineString')), `downstream path drawn: ${drawn.join(',')}`);
  assert.ok(drawn.some((t) => t.includes('Polygon')), `plume zone drawn: ${drawn.join(',')}`);
  await waitIdle(page);
  await shot(page, '06b-emergency-downstream-plume');
  await context.close();
});

test('the map works on a tablet (820×1180)', async () => {
  const { page, context } = await open(TABLET);
  assert.ok((await rendered(page, ['sources-circle', 'counties-fill'])) > 0);
  const map = await page.locator('#map').boundingBox();
  const side = await page.locator('#sidebar').boundingBox();
  assert.ok(map.width >= 800 && map.height > 300, JSON.stringify(map));
  assert.ok(side.height > 200 && side.y > map.y, JSON.stringify(side));
  await shot(page, '07-tablet');
  await context.close();
});

test('no console errors and no request left the origin', () => {
  assert.ok(records.length >= 5);
  for (const r of records) {
    assert.deepEqual(r.offOrigin, []);
    assert.deepEqual(r.errors, []);
  }
});

test('the page and its assets are served from the binary', async () => {
  const index = await fetch(`${server.url}/`);
  assert.equal(index.status, 200);
  assert.match(index.headers.get('content-type'), /text\/html/);
  const html = await index.text();
  assert.equal(html, readFileSync(join(ROOT, 'web-map', 'dist', 'index.html'), 'utf8'));
  const js = html.match(/\/app\.js\?v=[0-9a-f]+/)[0];
  const r = await fetch(server.url + js);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('cache-control'), /immutable/);
  const again = await fetch(server.url + js, { headers: { 'if-none-match': r.headers.get('etag') } });
  assert.equal(again.status, 304);
  const icon = await fetch(`${server.url}/favicon.ico`);
  assert.equal(icon.status, 200);
  assert.equal(icon.headers.get('content-type'), 'image/x-icon');
  const cfg = await (await fetch(`${server.url}/api/web-config`)).json();
  assert.equal(cfg.basemap_url, null);
});
