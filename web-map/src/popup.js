// Clicking a feature: its attributes with Chinese (or English) titles, and for
// monitored sources and stations the last 72 hours per pollutant.
import { maplibregl } from './map.js';
import { h } from './ui.js';
import { t, pick, lang } from './i18n.js';
import { getJSON } from './api.js';
import { PICKABLE } from './style.js';
import { highlight } from './highlight.js';
import { normaliseSeries, renderChart } from './chart.js';

const HIDDEN = new Set(['name_zh', 'name_en', 'fid', 'synthetic', 'industry_en', 'industry_zh']);
const ENUMS = new Set(['status', 'control_level', 'discharge', 'credit_rating', 'source_type', 'supply_level', 'zone_level', 'category', 'kind', 'sewage_status', 'level']);
const HOURS = 72;

let popup = null;

/** Value as shown to people: enum codes translated, booleans as yes/no. */
export function displayValue(name, value, props = {}) {
  if (value === null || value === undefined || value === '') return '—';
  if (typeof value === 'boolean') return t(value ? 'common.yes' : 'common.no');
  if (name === 'industry_code') return `${value} ${pick(props, 'industry')}`;
  if (ENUMS.has(name)) {
    const key = `${name}.${value}`;
    const text = t(key);
    return text === key ? String(value) : text;
  }
  return String(value);
}

function propertyTitle(collection, name) {
  const def = collection && (collection.properties || []).find((p) => p.name === name);
  if (def) return lang() === 'en' ? def.title_en || name : def.title_zh || name;
  return t(`prop.${name}`) === `prop.${name}` ? name : t(`prop.${name}`);
}

/** The full feature behind a tile feature (tiles carry few properties at low zoom). */
async function fullFeature(layer, fid) {
  const r = await getJSON(`/api/collections/${layer}/items?fid=${fid}&limit=1`);
  return (r.features || [])[0] || null;
}

async function stationsOf(layer, feature) {
  if (layer === 'monitoring_stations') return [feature];
  if (layer !== 'pollution_sources' || !feature.properties.online_monitored) return [];
  const r = await getJSON(`/api/collections/monitoring_stations/items?source_id=${encodeURIComponent(feature.id)}&limit=20`);
  return r.features || [];
}

async function charts(box, stations) {
  const to = new Date();
  const from = new Date(to.getTime() - HOURS * 3600 * 1000);
  for (const s of stations) {
    for (const pollutant of String(s.properties.pollutants || '').split(',').filter(Boolean)) {
      try {
        const q = new URLSearchParams({ pollutant, from: from.toISOString(), to: to.toISOString(), agg: 'hour' });
        const answer = await getJSON(`/api/monitoring/stations/${encodeURIComponent(s.id)}/series?${q}`);
        for (const g of normaliseSeries(answer, pollutant)) renderChart(box, g, `${pick(s.properties)} · ${t(`pollutant.${g.pollutant}`) === `pollutant.${g.pollutant}` ? g.pollutant : t(`pollutant.${g.pollutant}`)}`);
      } catch (e) {
        // 404: a server without monitoring (or an unknown station): no chart, no error.
        if (e.status === 404) {
          box.append(h('p', { class: 'note' }, t('chart.unavailable')));
          return;
        }
        box.append(h('p', { class: 'note' }, `${pollutant}: ${t('common.no_data')}`));
      }
    }
  }
  if (!box.querySelector('.chart')) box.append(h('p', { class: 'note' }, t('chart.empty')));
}

export function attributesTable(feature, collection) {
  const props = feature.properties || {};
  const rows = Object.entries(props)
    .filter(([k]) => !HIDDEN.has(k))
    .map(([k, v]) => h('tr', {}, h('th', {}, propertyTitle(collection, k)), h('td', {}, displayValue(k, v, props))));
  return h('table', { class: 'attrs' }, h('tbody', {}, rows));
}

/**
 * Shows the topmost pickable feature at a click: its name in a small popup
 * on the map, its attributes and charts in the side panel (room for charts,
 * usable on tablets). Returns whether a feature was found.
 */
export async function showFeatureAt(map, point, lngLat, collections) {
  const layers = PICKABLE.filter((id) => map.getLayer(id) && map.getLayoutProperty(id, 'visibility') !== 'none');
  const hit = map.queryRenderedFeatures(point, { layers })[0];
  const detail = document.getElementById('feature-detail');
  if (!hit) return false;
  const layer = hit.sourceLayer;
  const collection = collections.find((c) => c.id === layer);
  const layerName = collection ? pick(collection, 'title') : layer;
  const head = h('div', { class: 'popup-head' }, h('strong', {}, pick(hit.properties) || ''), h('span', { class: 'layer-name' }, layerName));
  if (popup) popup.remove();
  popup = new maplibregl.Popup({ maxWidth: '320px', className: 'feature-popup' }).setLngLat(lngLat).setDOMContent(head).addTo(map);
  if (!detail) return true;
  detail.hidden = false;
  detail.replaceChildren(h('p', { class: 'note' }, t('common.loading')));
  try {
    const feature = hit.id !== undefined ? await fullFeature(layer, hit.id) : null;
    const f = feature || { id: '', properties: hit.properties, geometry: hit.geometry };
    highlight(map, f.geometry ? f : { geometry: hit.geometry });
    const close = h('button', { type: 'button', class: 'close', 'aria-label': 'close', onclick: () => { detail.hidden = true; detail.replaceChildren(); highlight(map, []); if (popup) popup.remove(); } }, '×');
    const title = h('div', { class: 'popup-head' }, h('strong', {}, pick(f.properties) || f.id), h('span', { class: 'layer-name' }, layerName), close);
    const chartBox = h('div', { class: 'charts' });
    detail.replaceChildren(title, attributesTable(f, collection), chartBox);
    detail.scrollIntoView({ block: 'start' });
    const stations = await stationsOf(layer, f);
    if (stations.length) await charts(chartBox, stations);
  } catch (e) {
    detail.replaceChildren(h('p', { class: 'note' }, `${t('common.failed')}: ${e.message}`));
  }
  return true;
}
