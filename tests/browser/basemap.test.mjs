// The optional raster basemap (`[web] basemap_url`, here through
// ENVATLAS_WEB__BASEMAP_URL): a test-only XYZ tile server on another port
// stands in for a provincial WMTS/XYZ service with a key. The map must ask it
// for tiles (with the key), draw them under our layers and credit it, and ask
// no other host. Without the setting no request leaves the origin (webmap.test.mjs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { deflateSync } from 'node:zlib';
import { startServer, launchBrowser, openMap, waitIdle, shot, freePort } from './harness.mjs';

const LAPTOP = { width: 1366, height: 768 };
const KEY = 'test-key-123';
const ATTRIBUTION = '© 测试底图 test basemap';

function crc32(bytes) {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function chunk(type, data) {
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const out = Buffer.alloc(body.length + 8);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), body.length + 4);
  return out;
}

/** A 256×256 PNG of one colour: the basemap tile, easy to find in the map's pixels. */
function solidPng([r, g, b]) {
  const size = 256;
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const row = Buffer.alloc(1 + size * 3);
  for (let i = 0; i < size; i++) row.set([r, g, b], 1 + i * 3);
  const raw = Buffer.concat(Array.from({ length: size }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const TILE = solidPng([255, 0, 255]);
const tileRequests = [];
let tiles;
let tilesOrigin;
let server;
let browser;

before(async () => {
  const port = await freePort();
  tilesOrigin = `http://127.0.0.1:${port}`;
  tiles = createServer((req, res) => {
    const u = new URL(req.url, tilesOrigin);
    const m = u.pathname.match(/^\/xyz\/(\d+)\/(\d+)\/(\d+)\.png$/);
    tileRequests.push({ path: u.pathname, key: u.searchParams.get('tk'), zxy: m ? m.slice(1).map(Number) : null });
    if (!m || u.searchParams.get('tk') !== KEY) {
      res.writeHead(403).end();
      return;
    }
    // A cross-origin raster tile must allow CORS, or WebGL cannot use it.
    res.writeHead(200, { 'content-type': 'image/png', 'access-control-allow-origin': '*' }).end(TILE);
  });
  await new Promise((ok) => tiles.listen(port, '127.0.0.1', ok));
  server = await startServer({
    env: {
      ENVATLAS_WEB__BASEMAP_URL: `${tilesOrigin}/xyz/{z}/{x}/{y}.png?tk=${KEY}`,
      ENVATLAS_WEB__BASEMAP_ATTRIBUTION: ATTRIBUTION,
    },
  });
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
  if (tiles) await new Promise((ok) => tiles.close(ok));
});

/** Share of map pixels that differ clearly between two RGBA snapshots. */
function changedShare(a, b) {
  let changed = 0;
  for (let i = 0; i < a.length; i += 4) {
    if (Math.abs(a[i] - b[i]) + Math.abs(a[i + 1] - b[i + 1]) + Math.abs(a[i + 2] - b[i + 2]) > 60) changed++;
  }
  return changed / (a.length / 4);
}

// The map's pixels, scaled down, copied inside a `render` event (the WebGL
// canvas keeps no frame once it is shown).
const pixels = (page) =>
  page.evaluate(
    () =>
      new Promise((resolve) => {
        const map = window.__envatlasMap;
        map.once('render', () => {
          const c = document.createElement('canvas');
          c.width = 200;
          c.height = 120;
          const ctx = c.getContext('2d');
          ctx.drawImage(map.getCanvas(), 0, 0, c.width, c.height);
          resolve(Array.from(ctx.getImageData(0, 0, c.width, c.height).data));
        });
        map.triggerRepaint();
      }),
  );

test('a configured XYZ basemap is requested with its key, drawn under our layers and credited', async () => {
  const cfg = await (await fetch(`${server.url}/api/web-config`)).json();
  assert.equal(cfg.basemap_url, `${tilesOrigin}/xyz/{z}/{x}/{y}.png?tk=${KEY}`);

  const { page, context, record } = await openMap(browser, server.url, LAPTOP, '/', { allow: [tilesOrigin] });
  // The tile server saw XYZ requests with the key, for the opening zoom.
  const good = tileRequests.filter((r) => r.zxy && r.key === KEY);
  assert.ok(good.length >= 2, JSON.stringify(tileRequests));
  assert.deepEqual(tileRequests.filter((r) => !r.zxy || r.key !== KEY), []);
  const zoom = await page.evaluate(() => window.__envatlasMap.getZoom());
  for (const { zxy } of good) assert.ok(Math.abs(zxy[0] - zoom) <= 1.5, `tile z ${zxy[0]} at map zoom ${zoom}`);
  // Only our origin and the basemap host were asked.
  assert.deepEqual(record.offOrigin, []);
  assert.ok(record.allowed.length >= good.length);
  for (const u of record.allowed) assert.ok(u.startsWith(`${tilesOrigin}/xyz/`), u);
  assert.deepEqual(record.errors, []);

  // The layer is in the style, above the land background and under our layers, and loaded.
  const state = await page.evaluate(() => {
    const map = window.__envatlasMap;
    const ids = map.getStyle().layers.map((l) => l.id);
    return {
      index: ids.indexOf('basemap'),
      counties: ids.indexOf('counties-fill'),
      visibility: map.getLayoutProperty('basemap', 'visibility') ?? 'visible',
      loaded: map.isSourceLoaded('basemap'),
      attribution: document.querySelector('.maplibregl-ctrl-attrib')?.textContent || '',
    };
  });
  assert.ok(state.index === 1 && state.counties > state.index, JSON.stringify(state));
  assert.equal(state.visibility, 'visible');
  assert.ok(state.loaded);
  assert.ok(state.attribution.includes(ATTRIBUTION), state.attribution);

  // The magenta tiles show: hiding the basemap layer changes most of the map's pixels.
  const withBasemap = await pixels(page);
  await shot(page, '08-basemap');
  await page.evaluate(() => window.__envatlasMap.setLayoutProperty('basemap', 'visibility', 'none'));
  await waitIdle(page);
  const without = await pixels(page);
  const share = changedShare(withBasemap, without);
  assert.ok(share > 0.5, `share of pixels changed by the basemap: ${share}`);
  await context.close();
});
