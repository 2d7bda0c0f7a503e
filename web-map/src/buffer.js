// The planners' buffer tool: draw or pick an input, set a distance, list what
// lies within it grouped by layer, export CSV and GeoJSON.
import { fill, h, notice, download } from './ui.js';
import { t, pick } from './i18n.js';
import { getJSON, postJSON } from './api.js';
import { setResult, highlight, zoomTo } from './highlight.js';
import { resultTables } from './results.js';

const LAYERS = ['pollution_sources', 'drinking_water_sources', 'protection_zones', 'ecology_areas', 'rural_sites', 'monitoring_stations'];

export function createBufferTool(map, drawer, collections) {
  const state = { distance: 3000, layers: new Set(LAYERS), result: null, request: null, busy: false };
  let box = null;

  async function request() {
    const body = { distance_m: state.distance, layers: [...state.layers] };
    const picked = drawer.picked;
    if (picked) {
      const r = await getJSON(`/api/collections/${picked.layer}/items?fid=${picked.fid}&limit=1`);
      const f = (r.features || [])[0];
      if (!f) throw new Error(t('buffer.pick_missing'));
      body.feature = { layer: picked.layer, id: f.id };
    } else {
      body.geometry = drawer.geometry();
    }
    return body;
  }

  async function run() {
    if (!drawer.geometry()) {
      notice(t('buffer.need_input'), 'warn');
      return;
    }
    if (!drawer.done) drawer.finish();
    state.busy = true;
    render();
    try {
      state.request = await request();
      state.result = await postJSON('/api/analysis/buffer', state.request);
      const buf = state.result.buffer ? [{ type: 'Feature', geometry: state.result.buffer, properties: { color: '#f59e0b' } }] : [];
      setResult(map, buf);
      highlight(map, []);
      if (buf.length) zoomTo(map, buf, 15);
    } catch (e) {
      state.result = null;
      notice(`${t('buffer.failed')}: ${e.message}`, 'warn');
    }
    state.busy = false;
    render();
  }

  async function exportCsv() {
    if (!state.request) return;
    const res = await fetch('/api/analysis/buffer?f=csv', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(state.request) });
    if (res.ok) download(await res.blob(), 'buffer-results.csv');
    else notice(t('buffer.failed'), 'warn');
  }

  function exportGeoJson() {
    if (!state.result) return;
    download(new Blob([JSON.stringify(state.result, null, 1)], { type: 'application/geo+json' }), 'buffer-results.geojson');
  }

  function clear() {
    drawer.clear();
    state.result = null;
    state.request = null;
    setResult(map, []);
    highlight(map, []);
    render();
  }

  function render() {
    if (!box) return;
    const tool = (kind) =>
      h('button', { type: 'button', class: drawer.kind === kind ? 'active' : '', dataset: { draw: kind }, onclick: () => { drawer.start(kind); render(); } }, t(`draw.${kind}`));
    const hint = drawer.kind && !drawer.done ? h('p', { class: 'note hint' }, t(`draw.hint_${drawer.kind}`)) : null;
    const layerBoxes = LAYERS.map((id) => {
      const c = collections.find((x) => x.id === id);
      return h(
        'label',
        { class: 'check' },
        h('input', { type: 'checkbox', checked: state.layers.has(id), dataset: { bufferLayer: id }, onchange: (e) => { if (e.target.checked) state.layers.add(id); else state.layers.delete(id); } }),
        c ? pick(c, 'title') : id,
      );
    });
    const summary = state.result && state.result.summary
      ? h('p', { class: 'summary', id: 'buffer-summary' }, t('buffer.summary', { total: state.result.summary.total, distance: state.result.distance_m ?? state.distance }))
      : null;
    fill(box, 
      h('h2', {}, t('mode.buffer')),
      h('div', { class: 'tools' }, ['point', 'line', 'polygon', 'pick'].map(tool)),
      hint,
      drawer.kind && (drawer.kind === 'line' || drawer.kind === 'polygon') && !drawer.done ? h('button', { type: 'button', onclick: () => { drawer.finish(); render(); } }, t('draw.finish')) : null,
      h('label', { class: 'field' }, t('buffer.distance'), h('input', { type: 'number', id: 'buffer-distance', min: 0, max: 100000, step: 100, value: state.distance, onchange: (e) => { state.distance = Math.max(0, Number(e.target.value) || 0); } })),
      h('fieldset', { class: 'layers' }, h('legend', {}, t('buffer.layers')), layerBoxes),
      h('div', { class: 'actions' },
        h('button', { type: 'button', id: 'buffer-run', class: 'primary', disabled: state.busy, onclick: run }, state.busy ? t('common.loading') : t('buffer.run')),
        h('button', { type: 'button', onclick: clear }, t('common.clear')),
        h('button', { type: 'button', id: 'buffer-csv', disabled: !state.result, onclick: exportCsv }, t('export.csv')),
        h('button', { type: 'button', id: 'buffer-geojson', disabled: !state.result, onclick: exportGeoJson }, t('export.geojson')),
      ),
      summary,
      state.result ? resultTables(map, state.result.features || [], collections) : null,
    );
  }

  return {
    mount(el) {
      box = el;
      render();
    },
    render,
    onDrawChange: () => render(),
  };
}
