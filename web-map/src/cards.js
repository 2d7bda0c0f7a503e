// Summary cards for leaders: online rate, open exceedances, water sources at
// risk, and the top-5 risk list (a click zooms the map there).
import { fill, h } from './ui.js';
import { t, pick } from './i18n.js';
import { getJSON } from './api.js';
import { highlight, zoomTo } from './highlight.js';

let data = { online: null, exceedances: null, risk: null };

async function count(query) {
  const r = await getJSON(`/api/collections/monitoring_stations/items?limit=0&${query}`);
  return r.numberMatched ?? 0;
}

async function loadOnline() {
  const [normal, exceeding, offline] = await Promise.all(['status=normal', 'status=exceeding', 'status=offline'].map(count));
  const reporting = normal + exceeding + offline;
  return { rate: reporting ? (normal + exceeding) / reporting : null, reporting };
}

async function loadExceedances() {
  const r = await getJSON('/api/stats/counties?indicator=open_exceedances');
  return r.counties.reduce((s, c) => s + (c.value || 0), 0);
}

async function loadRisk() {
  let r;
  try {
    r = await getJSON('/api/analysis/risk/summary?limit=10');
  } catch (e) {
    if (e.status === 404) return null; // a server without the risk analysis
    throw e;
  }
  const features = r.features || [];
  const atRisk = features.filter((f) => (f.properties.risk_score || 0) > 0);
  return { total: r.numberMatched ?? atRisk.length, top: atRisk.slice(0, 5) };
}

/** Fetches the figures; a missing endpoint leaves its card empty, never an error. */
export async function loadCards() {
  const settle = (p) => p.then((v) => v, () => undefined);
  const [online, exceedances, risk] = await Promise.all([settle(loadOnline()), settle(loadExceedances()), settle(loadRisk())]);
  data = { online, exceedances, risk };
  return data;
}

function card(key, value, note) {
  return h('div', { class: 'card', dataset: { card: key } }, h('div', { class: 'label' }, t(`card.${key}`)), h('div', { class: 'value' }, value), note ? h('div', { class: 'note' }, note) : null);
}

export function renderCards(box, map) {
  const { online, exceedances, risk } = data;
  const onlineValue = online && online.rate !== null ? `${(online.rate * 100).toFixed(1)}%` : '—';
  const onlineNote = online && online.rate === null ? t('card.no_reports') : null;
  const riskValue = risk ? String(risk.total) : '—';
  const riskNote = risk === null ? t('card.risk_unavailable') : null;
  const top = risk && risk.top.length
    ? h(
        'ol',
        { class: 'top5' },
        risk.top.map((f) =>
          h(
            'li',
            {
              tabindex: 0,
              onclick: () => {
                highlight(map, f);
                zoomTo(map, f, 13);
              },
            },
            h('span', {}, pick(f.properties)),
            h('span', { class: 'num' }, Number(f.properties.risk_score).toFixed(1)),
          ),
        ),
      )
    : h('div', { class: 'note' }, risk === null ? t('card.risk_unavailable') : t('common.none'));
  fill(box, 
    card('online_rate', onlineValue, onlineNote),
    card('open_exceedances', exceedances === undefined ? '—' : String(exceedances)),
    card('water_at_risk', riskValue, riskNote),
    h('div', { class: 'card wide', dataset: { card: 'top5' } }, h('div', { class: 'label' }, t('card.top5')), top),
  );
}
