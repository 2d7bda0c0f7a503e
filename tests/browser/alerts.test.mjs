// Live alerts in a real Chromium (issue #7): the page listens to /api/events;
// an hourly average over a station's limit, posted through the HTTP ingest,
// appears as a notice naming the station and highlights it on the map.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, openMap, waitIdle, shot } from './harness.mjs';

const LAPTOP = { width: 1366, height: 768 };
const TOKEN = 'browser-test-write-token';

let server;
let browser;

before(async () => {
  server = await startServer({ env: { ENVATLAS_WRITE_TOKEN: TOKEN } });
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

const api = async (path, init) => {
  const r = await fetch(server.url + path, init);
  const body = await r.json();
  assert.ok(r.ok, `${init?.method || 'GET'} ${path}: ${r.status} ${JSON.stringify(body)}`);
  return body;
};

test('an exceedance posted to the ingest appears as a notice and highlights the station', async () => {
  // A station and pollutant with an hourly limit compared as measured (no O2
  // correction) and no exceedance open yet, so the reading opens one.
  const { limits } = await api('/api/monitoring/limits');
  const { exceedances } = await api('/api/monitoring/exceedances?status=open');
  const open = new Set(exceedances.map((e) => `${e.station_id}/${e.pollutant}`));
  const limit = limits.find((l) => l.basis === 'hourly' && l.ref_o2 === null && !open.has(`${l.station_id}/${l.pollutant}`));
  assert.ok(limit, `a station limit to exceed: ${JSON.stringify(limits.slice(0, 3))}`);
  const station = await api(`/api/collections/monitoring_stations/items/${encodeURIComponent(limit.station_id)}`);
  const [lon, lat] = station.geometry.coordinates;

  const { page, context, record } = await openMap(browser, server.url, LAPTOP);
  await page.waitForSelector('#alerts-status[data-state="connected"]', { timeout: 30000 });
  assert.equal(await page.textContent('#alerts-status'), '实时告警：已连接');

  const openCount = async () => (await api('/api/stats/counties?indicator=open_exceedances')).counties.reduce((s, c) => s + (c.value || 0), 0);
  const cardValue = () => page.textContent('[data-card="open_exceedances"] .value');
  await page.waitForFunction(() => document.querySelector('[data-card="open_exceedances"] .value')?.textContent !== '—');
  const openBefore = await openCount();
  assert.equal(await cardValue(), String(openBefore));

  // Newer than anything the sample holds for this station: seeding puts the
  // sample's newest reading on the current hour, so "five minutes ago" was older
  // than it during the first five minutes of every hour (the detector then
  // ignores the reading). One second ago, whole seconds, is never in the future.
  const time = new Date(Date.now() - 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  const value = limit.value * 5;
  const stored = await api('/api/monitoring/readings', {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify([{ station_id: limit.station_id, pollutant: limit.pollutant, kind: 'avg', time, value, flag: 'N' }]),
  });
  assert.equal(stored.stored, 1);

  // The notice: an alert naming the station (Chinese name), the value and the limit.
  const notice = page.locator('#notices .notice.alert', { hasText: station.properties.name_zh });
  await notice.first().waitFor({ timeout: 30000 });
  const text = await notice.first().textContent();
  assert.match(text, /^超标告警：/, text);
  assert.ok(text.includes(` ${value} / ${limit.value}`), text);
  assert.equal(await notice.first().getAttribute('role'), 'alert');

  // The highlight source holds the station's point, and the highlight layer draws it there.
  // (The highlight overlay is added to the map at its first use.)
  await page.waitForFunction(async () => (await window.__envatlasMap.getSource('highlight')?.getData())?.features.length === 1);
  const highlighted = await page.evaluate(async () => (await window.__envatlasMap.getSource('highlight').getData()).features);
  assert.deepEqual(highlighted[0].geometry, { type: 'Point', coordinates: [lon, lat] });
  await page.evaluate((c) => window.__envatlasMap.jumpTo({ center: c, zoom: 13 }), [lon, lat]);
  await waitIdle(page);
  const drawn = await page.evaluate(() => window.__envatlasMap.queryRenderedFeatures({ layers: ['highlight-point'] }).length);
  assert.equal(drawn, 1);
  await shot(page, '08-live-alert');
  // The summary card follows the event: open exceedances as the server counts them now.
  const openAfter = await openCount();
  await page.waitForFunction((v) => document.querySelector('[data-card="open_exceedances"] .value')?.textContent === v, String(openAfter), { timeout: 15000 });

  // The server agrees: the episode is open and the station reports `exceeding`.
  const nowOpen = await api('/api/monitoring/exceedances?status=open');
  assert.ok(nowOpen.exceedances.some((e) => e.station_id === limit.station_id && e.pollutant === limit.pollutant));
  assert.deepEqual(record.offOrigin, []);
  assert.deepEqual(record.errors, []);
  await context.close();
});
