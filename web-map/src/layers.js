// The layer panel: one switch per catalog layer, each with its legend.
import { fill, h } from './ui.js';
import { t, pick } from './i18n.js';
import {
  LAYER_GROUPS,
  STATUS_COLORS,
  CONTROL_RADIUS,
  ZONE_COLORS,
  ECO_COLORS,
  RURAL_COLORS,
  STATION_COLORS,
  INDUSTRY_SYMBOLS,
} from './style.js';

const ORDER = [
  'pollution_sources',
  'drinking_water_sources',
  'protection_zones',
  'ecology_areas',
  'rural_sites',
  'monitoring_stations',
  'admin_boundaries',
  'rivers',
];

const visible = Object.fromEntries(ORDER.map((id) => [id, true]));

function swatch(color, shape = 'dot', size = 10, stroke) {
  const style = `background:${color};width:${size}px;height:${size}px;${stroke ? `border:2px solid ${stroke};` : ''}`;
  return h('span', { class: `sw ${shape}`, style });
}

function row(sw, label) {
  return h('li', {}, sw, h('span', {}, label));
}

function legendFor(id) {
  switch (id) {
    case 'pollution_sources':
      return [
        ...Object.entries(STATUS_COLORS).map(([k, c]) => row(swatch(c), t(`status.${k}`))),
        ...Object.entries(CONTROL_RADIUS).map(([k, r]) => row(swatch('#a8a29e', 'dot', r * 2), t(`control_level.${k}`))),
        h('li', { class: 'symbols' }, INDUSTRY_SYMBOLS.map(([, s, en]) => h('span', { class: 'sym', title: en }, `${s} ${t(`industry.${s}`)}`))),
      ];
    case 'drinking_water_sources':
      return [row(swatch('#0ea5e9', 'dot', 10, '#0c4a6e'), t('legend.water_source'))];
    case 'protection_zones':
      return Object.entries(ZONE_COLORS).map(([k, c]) => row(swatch(c, 'box'), t(`zone_level.${k}`)));
    case 'ecology_areas':
      return Object.entries(ECO_COLORS).map(([k, c]) => row(swatch(c, 'box'), t(`category.${k}`)));
    case 'rural_sites':
      return Object.entries(RURAL_COLORS).map(([k, c]) => row(swatch(c), t(`category.${k}`)));
    case 'monitoring_stations':
      return Object.entries(STATION_COLORS).map(([k, c]) => row(swatch('#fff', 'dot', 10, c), t(`kind.${k}`)));
    case 'admin_boundaries':
      return [row(swatch('#6b604f', 'line'), t('legend.city_line')), row(swatch('#8c8272', 'line dashed'), t('legend.county_line'))];
    case 'rivers':
      return [row(swatch('#5b9bd5', 'line'), t('legend.river'))];
    default:
      return [];
  }
}

export function setLayerVisible(map, id, on) {
  visible[id] = on;
  for (const layer of LAYER_GROUPS[id] || []) {
    if (map.getLayer(layer)) map.setLayoutProperty(layer, 'visibility', on ? 'visible' : 'none');
  }
}

/** Renders the panel into `box`; called again after a language change. */
export function renderLayerPanel(box, map, collections) {
  const byId = Object.fromEntries((collections || []).map((c) => [c.id, c]));
  const items = ORDER.map((id) => {
    const c = byId[id];
    const title = c ? pick(c, 'title') : t(`layer.${id}`);
    const input = h('input', {
      type: 'checkbox',
      checked: visible[id],
      dataset: { layer: id },
      onchange: (e) => setLayerVisible(map, id, e.target.checked),
    });
    const count = c && Number.isFinite(c.featureCount) ? h('span', { class: 'count' }, c.featureCount) : null;
    return h(
      'li',
      { class: 'layer', dataset: { layer: id } },
      h('label', {}, input, h('span', { class: 'title' }, title), count),
      h('ul', { class: 'legend' }, legendFor(id)),
    );
  });
  fill(box, h('h2', {}, t('panel.layers')), h('ul', { id: 'layer-list' }, items));
}
