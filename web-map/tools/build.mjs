// Builds web-map/dist/ (the bundle the server embeds): app.js, app.css,
// index.html, favicon.ico. Deterministic: the same sources and lockfile give
// the same bytes, so the committed bundle can be checked for staleness.
//   node tools/build.mjs          write dist/
//   node tools/build.mjs --check  build in memory, fail when dist/ differs
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync, readdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { favicon } from './favicon.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const check = process.argv.includes('--check');

const result = await build({
  absWorkingDir: root,
  entryPoints: ['src/main.js'],
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  outfile: 'dist/app.js',
  write: false,
  legalComments: 'eof',
  charset: 'utf8',
  loader: { '.css': 'css' },
  logLevel: 'warning',
});

const files = new Map();
for (const f of result.outputFiles) files.set(f.path.split(/[\\/]/).pop(), Buffer.from(f.contents));
// The page names its script and style sheet by content hash, so the server can
// let browsers cache them for a year and a new build still reaches them.
const short = (name) => createHash('sha256').update(files.get(name)).digest('hex').slice(0, 12);
const page = readFileSync(join(root, 'src/index.html'), 'utf8')
  .replace('/app.js"', `/app.js?v=${short('app.js')}"`)
  .replace('/app.css"', `/app.css?v=${short('app.css')}"`);
files.set('index.html', Buffer.from(page));
files.set('favicon.ico', favicon());

if (check) {
  const stale = [];
  for (const [name, bytes] of files) {
    const path = join(dist, name);
    if (!existsSync(path) || !readFileSync(path).equals(bytes)) stale.push(name);
  }
  const extra = existsSync(dist) ? readdirSync(dist).filter((n) => !files.has(n)) : [];
  if (stale.length || extra.length) {
    console.error(`web-map/dist is stale (differs: ${stale.join(', ') || '-'}; not built: ${extra.join(', ') || '-'}).`);
    console.error('Run `npm run build` in web-map/ and commit web-map/dist/.');
    process.exit(1);
  }
  console.log(`web-map/dist is up to date (${files.size} files).`);
} else {
  mkdirSync(dist, { recursive: true });
  for (const [name, bytes] of files) writeFileSync(join(dist, name), bytes);
  console.log(`web-map/dist: ${[...files].map(([n, b]) => `${n} ${b.length} B`).join(', ')}`);
}
