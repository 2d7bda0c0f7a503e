// Emergency mode: place the incident (click or coordinates), list the nearest
// sources with distance and bearing, trace the river downstream to intakes
// with arrival times, draw an air plume from wind and stability, and save the
// map with the result list for the command post.
import { fill, h, notice, fmtDistance, fmtDuration, compass } from './ui.js';
import { t, pick, lang } from './i18n.js';
import { getJSON, postJSON, qs } from './api.js';
import { setResult, highlight, zoomTo } from './highlight.js';
import { resultTables } from './results.js';
import { savePng, savePdf } from './snapshot.js';

const STABILITY = ['A', 'B', 'C', 'D', 'E', 'F'];

export function createEmergency(map, collections) {
  const s = {
    armed: false,
    lon: '',
    lat: '',
    release: 'water',
    radius: 10000,
    k: 5,
    plume: { wind_from_deg: 0, wind_speed_mps: 3, stability: 'D', release_g_s: 100, height_m: 10, level_of_concern_mg_m3: 1 },
    nearest: null,
    downstream: null,
    plumeResult: null,
    busy: false,
  };
  let box = null;

  function incident() {
    const lon = Number(s.lon);
    const lat = Number(s.lat);
    if (s.lon === '' || s.lat === '' || !Number.isFinite(lon) || !Number.isFinite(lat) || Math.abs(lon) > 180 || Math.abs(lat) > 90) return null;
    return { lon, lat };
  }

  function drawResults() {
    const at = incident();
    const features = [];
    if (s.plumeResult && s.plumeResult.zone) features.push({ type: 'Feature', geometry: s.plumeResult.zone, properties: { color: '#9333ea' } });
    if (s.downstream && s.downstream.path) features.push({ type: 'Feature', geometry: s.downstream.path, properties: { color: '#0284c7', width: 4 } });
    if (at) features.push({ type: 'Feature', geometry: { type: 'Point', coordinates: [at.lon, at.lat] }, properties: { color: '#dc2626', radius: 9 } });
    setResult(map, features);
  }

  async function run() {
    const at = incident();
    if (!at) {
      notice(t('emergency.need_point'), 'warn');
      return;
    }
    s.busy = true;
    render();
    drawResults();
    highlight(map, []);
    const tasks = [];
    tasks.push(
      getJSON(`/api/analysis/nearest?${qs({ lon: at.lon, lat: at.lat, layers: 'pollution_sources,drinking_water_sources', k: s.k, max_distance_m: s.radius })}`)
        .then((r) => { s.nearest = r; })
        .catch((e) => { s.nearest = null; notice(`${t('emergency.nearest')}: ${e.message}`, 'warn'); }),
    );
    s.downstream = null;
    s.plumeResult = null;
    // A server without river tracing or plumes answers 404: say so, keep the rest.
    const failed = (what) => (e) => notice(e.status === 404 ? t(`emergency.${what}_unavailable`) : `${t(`emergency.${what}`)}: ${e.message}`, e.status === 404 ? 'info' : 'warn');
    if (s.release !== 'air') {
      tasks.push(
        postJSON('/api/analysis/downstream', { lon: at.lon, lat: at.lat, max_distance_m: 100000 })
          .then((r) => { s.downstream = r; })
          .catch(failed('downstream')),
      );
    }
    if (s.release !== 'water') {
      const body = { lon: at.lon, lat: at.lat, ...Object.fromEntries(Object.entries(s.plume).map(([k, v]) => [k, k === 'stability' ? v : Number(v)])), max_distance_m: 20000 };
      tasks.push(
        postJSON('/api/analysis/plume', body)
          .then((r) => { s.plumeResult = r; })
          .catch(failed('plume')),
      );
    }
    await Promise.all(tasks);
    s.busy = false;
    drawResults();
    const geoms = [{ type: 'Point', coordinates: [at.lon, at.lat] }];
    for (const f of (s.nearest && s.nearest.features) || []) if (f.properties.layer === 'pollution_sources') geoms.push(f.geometry);
    if (s.downstream && s.downstream.path) geoms.push(s.downstream.path);
    if (s.plumeResult && s.plumeResult.zone) geoms.push(s.plumeResult.zone);
    zoomTo(map, geoms, 13);
    render();
  }

  /** The result list as plain lines (PNG and PDF). */
  function lines() {
    const at = incident();
    const out = [];
    if (at) out.push(`${t('emergency.incident')}: ${at.lon.toFixed(5)}, ${at.lat.toFixed(5)}`);
    out.push(`${t('emergency.time')}: ${new Date().toLocaleString(lang() === 'en' ? 'en-GB' : 'zh-CN')}`);
    if (s.nearest) {
      out.push('', `【${t('emergency.nearest')}】`);
      (s.nearest.features || []).forEach((f) => out.push(`${pick(f.properties)} — ${fmtDistance(f.properties.distance_m)} ${compass(f.properties.bearing_deg, lang())}`));
    }
    if (s.downstream) {
      out.push('', `【${t('emergency.downstream')}】`);
      (s.downstream.features || []).forEach((f) => out.push(`${pick(f.properties)} — ${fmtDistance(f.properties.along_river_m)} · ${fmtDuration(f.properties.arrival_earliest_s)} / ${fmtDuration(f.properties.arrival_expected_s)}`));
    }
    if (s.plumeResult) {
      out.push('', `【${t('emergency.plume')}】`, `${t('emergency.valid_range')}: ${fmtDistance(s.plumeResult.valid_range_m)}`);
      (s.plumeResult.features || []).forEach((f) => out.push(`${pick(f.properties)} — ${fmtDistance(f.properties.distance_m)}`));
      const note = s.plumeResult.note;
      if (note) out.push(typeof note === 'object' ? pick(note, 'note') || note[lang()] || note.zh || '' : String(note));
    }
    return out;
  }

  function numberField(key, label, step = 1) {
    return h('label', { class: 'field small' }, label, h('input', { type: 'number', step, value: s.plume[key], dataset: { plume: key }, onchange: (e) => { s.plume[key] = e.target.value; } }));
  }

  function render() {
    if (!box) return;
    const at = incident();
    const release = ['water', 'air', 'both'].map((r) =>
      h('label', { class: 'check' }, h('input', { type: 'radio', name: 'release', value: r, checked: s.release === r, onchange: () => { s.release = r; render(); } }), t(`emergency.release_${r}`)),
    );
    const plumeInputs = s.release !== 'water'
      ? h('fieldset', { class: 'plume' }, h('legend', {}, t('emergency.plume_inputs')),
          numberField('wind_from_deg', t('plume.wind_from_deg'), 10),
          numberField('wind_speed_mps', t('plume.wind_speed_mps'), 0.5),
          h('label', { class: 'field small' }, t('plume.stability'), h('select', { dataset: { plume: 'stability' }, onchange: (e) => { s.plume.stability = e.target.value; } }, STABILITY.map((c) => h('option', { value: c, selected: s.plume.stability === c }, c)))),
          numberField('release_g_s', t('plume.release_g_s'), 10),
          numberField('height_m', t('plume.height_m'), 1),
          numberField('level_of_concern_mg_m3', t('plume.level_of_concern_mg_m3'), 0.1))
      : null;
    const nearestList = s.nearest ? h('section', { id: 'emergency-nearest' }, h('h3', {}, t('emergency.nearest')), resultTables(map, s.nearest.features || [], collections, ['bearing'])) : null;
    const downstreamList = s.downstream
      ? h('section', { id: 'emergency-downstream' }, h('h3', {}, t('emergency.downstream')), resultTables(map, s.downstream.features || [], collections, ['along', 'arrival']))
      : null;
    const plumeList = s.plumeResult
      ? h('section', { id: 'emergency-plume' }, h('h3', {}, t('emergency.plume')), h('p', { class: 'note' }, `${t('emergency.valid_range')}: ${fmtDistance(s.plumeResult.valid_range_m)}`), resultTables(map, s.plumeResult.features || [], collections))
      : null;
    const title = t('emergency.report_title');
    fill(box, 
      h('h2', {}, t('mode.emergency')),
      h('div', { class: 'actions' }, h('button', { type: 'button', id: 'incident-pick', class: s.armed ? 'active' : '', onclick: () => { s.armed = true; map.getCanvas().style.cursor = 'crosshair'; render(); } }, t('emergency.click_map'))),
      s.armed ? h('p', { class: 'note hint' }, t('emergency.click_hint')) : null,
      h('div', { class: 'coords' },
        h('label', { class: 'field small' }, t('emergency.lon'), h('input', { type: 'number', id: 'incident-lon', step: 0.0001, value: s.lon, onchange: (e) => { s.lon = e.target.value; } })),
        h('label', { class: 'field small' }, t('emergency.lat'), h('input', { type: 'number', id: 'incident-lat', step: 0.0001, value: s.lat, onchange: (e) => { s.lat = e.target.value; } }))),
      h('fieldset', { class: 'release' }, h('legend', {}, t('emergency.release')), release),
      h('label', { class: 'field' }, t('emergency.radius'), h('input', { type: 'number', id: 'incident-radius', min: 100, max: 100000, step: 1000, value: s.radius, onchange: (e) => { s.radius = Number(e.target.value) || 10000; } })),
      plumeInputs,
      h('div', { class: 'actions' },
        h('button', { type: 'button', id: 'emergency-run', class: 'primary', disabled: s.busy, onclick: run }, s.busy ? t('common.loading') : t('emergency.run')),
        h('button', { type: 'button', id: 'emergency-png', disabled: !at || !s.nearest, onclick: () => savePng(map, title, lines()) }, t('export.png')),
        h('button', { type: 'button', id: 'emergency-pdf', disabled: !at || !s.nearest, onclick: () => savePdf(map, title, lines()) }, t('export.pdf'))),
      nearestList,
      downstreamList,
      plumeList,
    );
  }

  return {
    mount(el) {
      box = el;
      render();
    },
    render,
    /** Handles a map click while placing the incident; returns whether it used it. */
    click(e) {
      if (!s.armed) return false;
      s.armed = false;
      map.getCanvas().style.cursor = '';
      s.lon = e.lngLat.lng.toFixed(5);
      s.lat = e.lngLat.lat.toFixed(5);
      drawResults();
      run();
      return true;
    },
    /** For tests and links: set the incident and run. */
    async at(lon, lat) {
      s.lon = String(lon);
      s.lat = String(lat);
      await run();
    },
    lines,
  };
}
