// Test harness: starts the real server binary over a temporary copy of the
// sample data, launches Debian's Chromium through playwright-core, and records
// console errors and every request that would leave the server's origin.
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, mkdirSync, rmSync, existsSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHOTS = join(ROOT, 'target', 'browser-screenshots');

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

async function waitReady(url, child, ms = 120000) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      const r = await fetch(`${url}/ready`);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server not ready in time');
}

/**
 * Starts `envatlas serve` (ENVATLAS_BIN or target/debug/envatlas) on a copy of data/.
 * `env` adds server settings (e.g. `{ ENVATLAS_WRITE_TOKEN: 't' }`) to the clean environment.
 */
export async function startServer({ env = {} } = {}) {
  const bin = process.env.ENVATLAS_BIN || join(ROOT, 'target', 'debug', 'envatlas');
  if (!existsSync(bin)) throw new Error(`no server binary at ${bin}: run cargo build -p envatlas-server`);
  const dir = mkdtempSync(join(tmpdir(), 'envatlas-browser-'));
  for (const name of readdirSync(join(ROOT, 'data'))) {
    if (name.startsWith('envatlas.db')) continue;
    cpSync(join(ROOT, 'data', name), join(dir, name), { recursive: true });
  }
  const port = await freePort();
  const log = [];
  const child = spawn(bin, ['serve', '--listen', `127.0.0.1:${port}`, '--data-dir', dir], {
    // The server's own settings only: no ENVATLAS_* from the caller (only the test's
    // `env`), no envatlas.toml from the cwd.
    env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ENVATLAS_'))), ...env },
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d) => log.push(String(d)));
  child.stderr.on('data', (d) => log.push(String(d)));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitReady(url, child);
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`${e.message}\n${log.join('').slice(-3000)}`);
  }
  return {
    url,
    log,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser() {
  const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS });
}

/**
 * Opens the map in a fresh context of the given viewport. Requests outside
 * the origin are aborted and recorded (`offOrigin`), except to the origins in
 * `allow` (a test's own basemap server), which go through and are recorded in
 * `allowed`; console errors and page errors are recorded too.
 */
export async function openMap(browser, origin, viewport, path = '/', { allow = [] } = {}) {
  const context = await browser.newContext({ viewport, acceptDownloads: true, locale: 'zh-CN' });
  const record = { offOrigin: [], allowed: [], errors: [] };
  await context.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (u.origin === origin || u.protocol === 'blob:' || u.protocol === 'data:') return route.continue();
    if (allow.includes(u.origin)) {
      record.allowed.push(u.href);
      return route.continue();
    }
    record.offOrigin.push(u.href);
    return route.abort();
  });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') record.errors.push(m.text());
  });
  page.on('pageerror', (e) => record.errors.push(String(e)));
  // Name the request behind a "Failed to load resource" console error.
  page.on('response', (r) => {
    if (r.status() >= 400) record.errors.push(`HTTP ${r.status()} ${r.request().method()} ${r.url()}`);
  });
  await page.goto(origin + path);
  await waitIdle(page);
  return { context, page, record };
}

/** Waits until the map has loaded its style and tiles and finished rendering. */
export async function waitIdle(page, timeout = 60000) {
  await page.waitForFunction(() => window.__envatlasMap && window.__envatlasMap.loaded(), null, { timeout });
  await page.evaluate(
    () =>
      new Promise((resolveIdle) => {
        const map = window.__envatlasMap;
        if (map.loaded() && map.areTilesLoaded() && !map.isMoving()) {
          map.triggerRepaint();
        }
        map.once('idle', () => resolveIdle());
        map.triggerRepaint();
      }),
  );
}

export async function shot(page, name) {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}
