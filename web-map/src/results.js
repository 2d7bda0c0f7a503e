// Result tables of analyses: features grouped by layer, with name, distance
// and key attributes; a row click highlights the feature.
import { h, fmtDistance, compass, fmtDuration } from './ui.js';
import { t, pick, lang } from './i18n.js';
import { displayValue } from './popup.js';
import { highlight, zoomTo } from './highlight.js';

/** The attributes worth a column, per layer. */
export const KEY_ATTRIBUTES = {
  pollution_sources: ['industry_code', 'control_level', 'status'],
  drinking_water_sources: ['source_type', 'supply_level', 'population_served'],
  protection_zones: ['zone_level'],
  ecology_areas: ['category'],
  rural_sites: ['category', 'sewage_status'],
  monitoring_stations: ['kind', 'status'],
};

function layerTitle(collections, id) {
  const c = collections.find((x) => x.id === id);
  return c ? pick(c, 'title') : id;
}

export function groupByLayer(features) {
  const groups = new Map();
  for (const f of features) {
    const id = f.properties.layer || '';
    if (!groups.has(id)) groups.set(id, []);
    groups.get(id).push(f);
  }
  return groups;
}

/**
 * Renders result tables; `extra` lists additional columns:
 * 'bearing' (nearest), 'along' and 'arrival' (downstream).
 */
export function resultTables(map, features, collections, extra = []) {
  if (!features.length) return h('p', { class: 'note empty' }, t('common.none'));
  const out = [];
  for (const [layer, list] of groupByLayer(features)) {
    const keys = KEY_ATTRIBUTES[layer] || [];
    const head = h(
      'tr',
      {},
      h('th', {}, t('col.name')),
      h('th', {}, t('col.distance')),
      extra.includes('bearing') ? h('th', {}, t('col.bearing')) : null,
      extra.includes('along') ? h('th', {}, t('col.along_river')) : null,
      extra.includes('arrival') ? h('th', {}, t('col.arrival')) : null,
      keys.map((k) => h('th', {}, t(`prop.${k}`))),
    );
    const rows = list.map((f) => {
      const p = f.properties;
      return h(
        'tr',
        {
          class: 'result-row',
          tabindex: 0,
          dataset: { layer, id: p.id || f.id || '' },
          onclick: (e) => {
            for (const r of e.currentTarget.closest('.results').querySelectorAll('tr.selected')) r.classList.remove('selected');
            e.currentTarget.classList.add('selected');
            highlight(map, f);
            zoomTo(map, f, 14);
          },
        },
        h('td', { class: 'name' }, pick(p) || p.id || f.id),
        h('td', { class: 'num' }, fmtDistance(p.distance_m)),
        extra.includes('bearing') ? h('td', {}, compass(p.bearing_deg, lang())) : null,
        extra.includes('along') ? h('td', { class: 'num' }, fmtDistance(p.along_river_m)) : null,
        extra.includes('arrival') ? h('td', { class: 'num' }, `${fmtDuration(p.arrival_earliest_s)} / ${fmtDuration(p.arrival_expected_s)}`) : null,
        keys.map((k) => h('td', {}, displayValue(k, p[k], p))),
      );
    });
    out.push(
      h(
        'section',
        { class: 'result-group', dataset: { layer } },
        h('h3', {}, `${layerTitle(collections, layer)} (${list.length})`),
        h('div', { class: 'table-wrap' }, h('table', { class: 'results-table' }, h('thead', {}, head), h('tbody', {}, rows))),
      ),
    );
  }
  return h('div', { class: 'results' }, out);
}
