// Entry point: loads the catalog, builds the map and the three panels
// (thematic, buffer, emergency) and wires the language toggle.
import 'maplibre-gl/dist/maplibre-gl.css';
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { createMap } from './map.js';
import { discover, getJSON, has } from './api.js';
import { t, lang, setLang, onLang, applyI18n } from './i18n.js';
import { relabel } from './style.js';
import { h } from './ui.js';
import { renderLayerPanel } from './layers.js';
import { renderChoropleth } from './choropleth.js';
import { loadCards, renderCards } from './cards.js';
import { showFeatureAt } from './popup.js';
import { createDrawer } from './draw.js';
import { createBufferTool } from './buffer.js';
import { createEmergency } from './emergency.js';
import { startAlerts } from './alerts.js';
import { fetchCountyLabels } from './labels.js';

async function main() {
  document.documentElement.lang = lang() === 'zh' ? 'zh-CN' : 'en';
  applyI18n(document);
  performance.mark('envatlas:main');
  // Everything the first frame needs, at once (index.html preloads these, so
  // they are usually here before the script has finished starting).
  const [, catalog, webConfig, countyLabels] = await Promise.all([
    discover(),
    getJSON('/api/collections').catch(() => ({ collections: [] })),
    getJSON('/api/web-config').catch(() => null),
    fetchCountyLabels().catch(() => null),
  ]);
  const collections = catalog.collections || [];
  const minZoom = Object.fromEntries(collections.filter((c) => c.style).map((c) => [c.id, c.style.min_zoom]));
  performance.mark('envatlas:catalog');
  const map = createMap('map', { lang: lang(), minZoom, webConfig, countyLabels });
  performance.mark('envatlas:map');
  map.once('style.load', () => performance.mark('envatlas:style'));

  const thematic = document.getElementById('panel-thematic');
  const layersBox = h('div', { id: 'layers-box' });
  const choroBox = h('div', { id: 'choropleth-box' });
  const alertsLine = h('p', { id: 'alerts-status', class: 'note' });
  const detailBox = h('section', { id: 'feature-detail', hidden: true });
  thematic.replaceChildren(detailBox, layersBox, choroBox, alertsLine);
  const cardsBox = document.getElementById('cards');

  const drawer = createDrawer(map, () => buffer.onDrawChange());
  const buffer = createBufferTool(map, drawer, collections);
  const emergency = createEmergency(map, collections);
  let alertState = 'unavailable';
  const renderAlerts = () => {
    alertsLine.textContent = t(`alerts.${alertState}`);
    alertsLine.dataset.state = alertState;
  };

  let mode = 'thematic';
  const setMode = (next) => {
    mode = next;
    for (const b of document.querySelectorAll('#modes button')) b.classList.toggle('active', b.dataset.mode === next);
    for (const p of document.querySelectorAll('.panel')) p.hidden = p.id !== `panel-${next}`;
    document.body.dataset.mode = next;
    if (next !== 'buffer') drawer.clear();
  };
  for (const b of document.querySelectorAll('#modes button')) b.addEventListener('click', () => setMode(b.dataset.mode));

  const renderAll = () => {
    renderLayerPanel(layersBox, map, collections);
    renderChoropleth(choroBox, map);
    renderCards(cardsBox, map);
    buffer.render();
    emergency.render();
    renderAlerts();
    document.getElementById('lang-toggle').textContent = lang() === 'zh' ? 'English' : '中文';
  };
  document.getElementById('lang-toggle').addEventListener('click', () => setLang(lang() === 'zh' ? 'en' : 'zh'));
  onLang((l) => {
    relabel(map, l);
    renderAll();
  });

  buffer.mount(document.getElementById('panel-buffer'));
  emergency.mount(document.getElementById('panel-emergency'));
  renderAll();

  map.on('click', (e) => {
    if (mode === 'buffer' && drawer.click(e)) return;
    if (mode === 'emergency' && emergency.click(e)) return;
    if (mode === 'thematic') showFeatureAt(map, e.point, e.lngLat, collections);
  });
  // First paint figures for scripts/bench webmap (ms since navigation start):
  // `load` (style ready, first frame), `tiles` (first frame drawn after the
  // first of our tiles arrived), `idle` (every visible tile loaded and drawn).
  const timings = { load: null, tiles: null, idle: null };
  window.__envatlasTimings = timings;
  map.once('load', () => {
    timings.load = performance.now();
    document.body.dataset.ready = 'true';
  });
  let tileArrived = false;
  const onTile = (e) => {
    if (e.sourceId === 'atlas' && e.tile) tileArrived = true;
  };
  const onRender = () => {
    if (!tileArrived) return;
    timings.tiles = performance.now();
    map.off('sourcedata', onTile);
    map.off('render', onRender);
  };
  map.on('sourcedata', onTile);
  map.on('render', onRender);
  // The summary cards (five API calls, one of them the risk assessment) wait
  // for the map's first complete frame: on a busy server they would compete
  // with the tiles for its time, and they are not on the map.
  map.once('idle', () => {
    timings.idle = performance.now();
    loadCards().then(() => renderCards(cardsBox, map));
  });
  startAlerts(
    map,
    (st) => {
      alertState = st;
      renderAlerts();
    },
    // Open exceedances and the online rate change with every event.
    () => loadCards().then(() => renderCards(cardsBox, map)),
  );
  window.__envatlas = { map, setMode, setLang, emergency, buffer, drawer };
}

main().catch((e) => {
  document.body.append(h('p', { class: 'fatal' }, `${t('common.failed')}: ${e.message}`));
});
