// County choropleth: colours the county polygons by one indicator of
// /api/stats/counties.
import { fill, h, notice } from './ui.js';
import { t, pick } from './i18n.js';
import { getJSON } from './api.js';

export const INDICATORS = ['sources', 'national_sources', 'open_exceedances', 'sources_in_protection_zones', 'credit_avg'];
const RAMP = ['#fef3c7', '#fcd34d', '#f59e0b', '#d97706', '#92400e'];
const PLAIN_COLOR = '#ebe6d6';
// Per feature like the style's own value (one fill shader program, see style.js).
const PLAIN = ['coalesce', ['get', '_'], PLAIN_COLOR];

let state = { indicator: '', data: null };

function classes(values) {
  const v = values.filter((x) => Number.isFinite(x));
  if (!v.length) return null;
  const min = Math.min(...v);
  const max = Math.max(...v);
  const step = max > min ? (max - min) / RAMP.length : 1;
  return { min, max, step, of: (x) => (Number.isFinite(x) ? Math.min(RAMP.length - 1, Math.floor((x - min) / step)) : -1) };
}

function paint(map) {
  if (!map.getLayer('counties-fill')) return;
  if (!state.data) {
    map.setPaintProperty('counties-fill', 'fill-color', PLAIN);
    map.setPaintProperty('counties-fill', 'fill-opacity', 0.6);
    return;
  }
  const cls = classes(state.data.counties.map((c) => c.value));
  const match = ['match', ['get', 'adcode']];
  for (const c of state.data.counties) {
    const i = cls ? cls.of(c.value) : -1;
    match.push(c.adcode, i < 0 ? '#e7e5e4' : RAMP[i]);
  }
  match.push(PLAIN_COLOR);
  map.setPaintProperty('counties-fill', 'fill-color', state.data.counties.length ? match : PLAIN);
  map.setPaintProperty('counties-fill', 'fill-opacity', 0.75);
}

function fmt(v) {
  if (v === null || v === undefined) return '—';
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

function legend() {
  if (!state.data) return null;
  const cls = classes(state.data.counties.map((c) => c.value));
  const rows = cls
    ? RAMP.map((color, i) =>
        h('li', {}, h('span', { class: 'sw box', style: `background:${color}` }), `${fmt(cls.min + i * cls.step)} – ${fmt(i === RAMP.length - 1 ? cls.max : cls.min + (i + 1) * cls.step)}`),
      )
    : [h('li', {}, t('common.no_data'))];
  const sorted = [...state.data.counties].sort((a, b) => (b.value ?? -1) - (a.value ?? -1));
  return h(
    'div',
    {},
    h('ul', { class: 'legend ramp' }, rows),
    h(
      'table',
      { class: 'mini' },
      h('tbody', {}, sorted.map((c) => h('tr', {}, h('td', {}, pick(c)), h('td', { class: 'num' }, fmt(c.value))))),
    ),
  );
}

export function renderChoropleth(box, map) {
  const select = h(
    'select',
    {
      id: 'choropleth-indicator',
      onchange: async (e) => {
        await setIndicator(map, e.target.value);
        renderChoropleth(box, map);
      },
    },
    h('option', { value: '' }, t('choropleth.none')),
    INDICATORS.map((k) => h('option', { value: k, selected: state.indicator === k }, t(`indicator.${k}`))),
  );
  fill(box, h('h2', {}, t('panel.choropleth')), h('label', { class: 'field' }, select), legend() || '');
}

export async function setIndicator(map, indicator) {
  state.indicator = indicator;
  if (!indicator) {
    state.data = null;
  } else {
    try {
      state.data = await getJSON(`/api/stats/counties?indicator=${encodeURIComponent(indicator)}`);
    } catch (e) {
      state.data = null;
      notice(`${t('choropleth.failed')}: ${e.message}`, 'warn');
    }
  }
  paint(map);
}
