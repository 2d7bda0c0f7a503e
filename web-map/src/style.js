// The map style: an offline basemap drawn from our own tiles (land background,
// county boundaries and names, rivers and their names) under the thematic
// layers. No glyph URL: MapLibre then draws every label with the browser's
// own fonts (localIdeographFontFamily for Chinese), so nothing leaves the origin.

export const TILE_LAYERS = [
  'admin_boundaries',
  'rivers',
  'ecology_areas',
  'protection_zones',
  'rural_sites',
  'drinking_water_sources',
  'monitoring_stations',
  'pollution_sources',
];

export const FONT = ['Noto Sans CJK SC', 'Noto Sans SC', 'Microsoft YaHei', 'PingFang SC', 'sans-serif'];
export const LOCAL_IDEOGRAPH_FONT = "'Noto Sans CJK SC', 'Noto Sans SC', 'Microsoft YaHei', 'PingFang SC', sans-serif";

export const STATUS_COLORS = {
  normal: '#16a34a',
  exceeding: '#dc2626',
  offline: '#6b7280',
  no_data: '#c4b5a5',
};

export const ZONE_COLORS = { level1: '#1e40af', level2: '#3b82f6', quasi: '#93c5fd' };
export const ECO_COLORS = { nature_reserve: '#15803d', ecological_redline: '#65a30d', scenic_forest: '#a3e635' };
export const RURAL_COLORS = { village: '#a16207', livestock_farm: '#c2410c' };
export const STATION_COLORS = { source_online: '#7c3aed', air_quality: '#0891b2', water_section: '#2563eb' };
export const CONTROL_RADIUS = { national: 8, provincial: 6, municipal: 4.5 };

/** Industry (GB/T 4754 division, first two digits) → one-character symbol. */
export const INDUSTRY_SYMBOLS = [
  ['15', '酒', 'Liquor'],
  ['03', '畜', 'Livestock'],
  ['06', '煤', 'Coal'],
  ['46', '水', 'Sewage'],
  ['38', '电', 'Batteries'],
  ['22', '纸', 'Paper'],
  ['30', '泥', 'Cement'],
  ['26', '化', 'Chemicals'],
  ['44', '火', 'Power'],
];
const OTHER_SYMBOL = '工';

const STATUS_MATCH = ['match', ['get', 'status'], ...Object.entries(STATUS_COLORS).flat(), STATUS_COLORS.no_data];

function matchColor(prop, table, fallback) {
  return ['match', ['get', prop], ...Object.entries(table).flat(), fallback];
}

/** Label expression in the current language (Chinese when the name is missing). */
export function labelField(lang) {
  return lang === 'en' ? ['coalesce', ['get', 'name_en'], ['get', 'name_zh']] : ['get', 'name_zh'];
}

/** Which style layers make up each catalog layer (for toggles and picking). */
export const LAYER_GROUPS = {
  pollution_sources: ['sources-circle', 'sources-symbol'],
  drinking_water_sources: ['water-circle'],
  protection_zones: ['zones-fill', 'zones-line'],
  ecology_areas: ['eco-fill', 'eco-line'],
  rural_sites: ['rural-circle'],
  monitoring_stations: ['stations-circle'],
  admin_boundaries: ['counties-fill', 'counties-line', 'city-line', 'counties-label'],
  rivers: ['rivers-line', 'rivers-label'],
};

/** Style layers a click can pick a feature from, topmost first. */
export const PICKABLE = [
  'sources-circle',
  'stations-circle',
  'water-circle',
  'rural-circle',
  'zones-fill',
  'eco-fill',
];

const POLY = ['in', ['geometry-type'], ['literal', ['Polygon', 'MultiPolygon']]];
const POINT = ['in', ['geometry-type'], ['literal', ['Point', 'MultiPoint']]];
const NOT_POINT = ['!', POINT];

const EMPTY = { type: 'FeatureCollection', features: [] };

// Fills are drawn without MapLibre's antialiasing outline: every fill has its
// own line layer on top, and the outline pass costs two more shader programs,
// which a browser without a GPU (software WebGL) compiles slowly on first paint.

/**
 * A constant paint value written as a per-feature expression. MapLibre builds
 * one shader program per layer type *and* per set of per-feature paint
 * properties (a constant is a uniform, a per-feature value a vertex
 * attribute), so four circle layers with four different sets cost four
 * programs. Every circle layer has per-feature colour, radius and stroke
 * colour, every fill and line layer per-feature colour: one program per layer
 * type, compiled once (slow without a GPU) instead of once per layer.
 */
const perFeature = (value) => ['coalesce', ['get', '_'], value];

// Solid lines drawn as a dash with no gap: a dashed line (the county
// boundaries, the drawn line) is another line program ("lineSDF"), so every
// line layer uses it and the opening view needs one line program, not two.
const SOLID = [1, 0];

export function buildStyle(origin, lang, minZoom = {}) {
  const mz = (id, d) => minZoom[id] ?? d;
  const src = { source: 'atlas' };
  const sl = (layer) => ({ ...src, 'source-layer': layer });
  return {
    version: 8,
    name: 'envatlas',
    sources: {
      atlas: {
        type: 'vector',
        tiles: [`${origin}/tiles/${TILE_LAYERS.join(',')}/{z}/{x}/{y}`],
        minzoom: 0,
        maxzoom: 16,
      },
      // Overlays: taken out of the opening style and added at first use (map.js withOverlay).
      draw: { type: 'geojson', data: EMPTY },
      result: { type: 'geojson', data: EMPTY },
      highlight: { type: 'geojson', data: EMPTY },
      'county-labels': { type: 'geojson', data: EMPTY },
    },
    layers: [
      { id: 'background', type: 'background', paint: { 'background-color': '#f2efe6' } },
      {
        id: 'counties-fill',
        type: 'fill',
        ...sl('admin_boundaries'),
        filter: ['==', ['get', 'level'], 'county'],
        paint: { 'fill-color': perFeature('#ebe6d6'), 'fill-opacity': 0.6, 'fill-antialias': false },
      },
      {
        id: 'eco-fill',
        type: 'fill',
        ...sl('ecology_areas'),
        minzoom: mz('ecology_areas', 5),
        paint: { 'fill-color': matchColor('category', ECO_COLORS, '#84cc16'), 'fill-opacity': 0.3, 'fill-antialias': false },
      },
      {
        id: 'eco-line',
        type: 'line',
        ...sl('ecology_areas'),
        minzoom: mz('ecology_areas', 5),
        paint: { 'line-color': matchColor('category', ECO_COLORS, '#84cc16'), 'line-width': 1, 'line-dasharray': SOLID },
      },
      {
        id: 'zones-fill',
        type: 'fill',
        ...sl('protection_zones'),
        minzoom: mz('protection_zones', 8),
        paint: { 'fill-color': matchColor('zone_level', ZONE_COLORS, '#93c5fd'), 'fill-opacity': 0.35, 'fill-antialias': false },
      },
      {
        id: 'zones-line',
        type: 'line',
        ...sl('protection_zones'),
        minzoom: mz('protection_zones', 8),
        paint: { 'line-color': matchColor('zone_level', ZONE_COLORS, '#93c5fd'), 'line-width': 0.8, 'line-dasharray': SOLID },
      },
      {
        id: 'rivers-line',
        type: 'line',
        ...sl('rivers'),
        layout: { 'line-join': 'round', 'line-cap': 'round' },
        paint: {
          'line-color': perFeature('#5b9bd5'),
          'line-width': ['interpolate', ['linear'], ['zoom'], 5, 0.8, 10, 2, 14, 4],
          'line-dasharray': SOLID,
        },
      },
      {
        id: 'counties-line',
        type: 'line',
        ...sl('admin_boundaries'),
        filter: ['==', ['get', 'level'], 'county'],
        paint: { 'line-color': perFeature('#8c8272'), 'line-width': 1, 'line-dasharray': [3, 2] },
      },
      {
        id: 'city-line',
        type: 'line',
        ...sl('admin_boundaries'),
        filter: ['==', ['get', 'level'], 'city'],
        paint: { 'line-color': perFeature('#6b604f'), 'line-width': 2, 'line-dasharray': SOLID },
      },
      { id: 'result-fill', type: 'fill', source: 'result', filter: POLY, paint: { 'fill-color': ['coalesce', ['get', 'color'], '#f59e0b'], 'fill-opacity': 0.18, 'fill-antialias': false } },
      { id: 'result-line', type: 'line', source: 'result', filter: NOT_POINT, paint: { 'line-color': ['coalesce', ['get', 'color'], '#d97706'], 'line-width': ['coalesce', ['get', 'width'], 2], 'line-dasharray': SOLID } },
      {
        id: 'rural-circle',
        type: 'circle',
        ...sl('rural_sites'),
        minzoom: mz('rural_sites', 8),
        paint: {
          'circle-color': matchColor('category', RURAL_COLORS, '#a16207'),
          'circle-radius': perFeature(3.5),
          'circle-stroke-color': perFeature('#fff'),
          'circle-stroke-width': 0.8,
        },
      },
      {
        id: 'water-circle',
        type: 'circle',
        ...sl('drinking_water_sources'),
        minzoom: mz('drinking_water_sources', 5),
        paint: {
          'circle-color': perFeature('#0ea5e9'),
          'circle-radius': perFeature(6),
          'circle-stroke-color': perFeature('#0c4a6e'),
          'circle-stroke-width': 2,
        },
      },
      {
        id: 'stations-circle',
        type: 'circle',
        ...sl('monitoring_stations'),
        minzoom: mz('monitoring_stations', 5),
        paint: {
          'circle-color': STATUS_MATCH,
          'circle-radius': perFeature(4.5),
          'circle-stroke-color': matchColor('kind', STATION_COLORS, '#2563eb'),
          'circle-stroke-width': 2.5,
        },
      },
      {
        id: 'sources-circle',
        type: 'circle',
        ...sl('pollution_sources'),
        paint: {
          'circle-color': STATUS_MATCH,
          'circle-radius': ['match', ['get', 'control_level'], ...Object.entries(CONTROL_RADIUS).flat(), 4.5],
          'circle-stroke-color': perFeature('#3f3f46'),
          'circle-stroke-width': 0.8,
          'circle-opacity': 0.9,
        },
      },
      {
        id: 'sources-symbol',
        type: 'symbol',
        ...sl('pollution_sources'),
        minzoom: 11,
        layout: {
          'text-field': ['match', ['slice', ['get', 'industry_code'], 0, 2], ...INDUSTRY_SYMBOLS.flatMap(([c, s]) => [c, s]), OTHER_SYMBOL],
          'text-font': FONT,
          'text-size': 10,
          'text-offset': [0, -1.3],
          'text-allow-overlap': true,
        },
        paint: { 'text-color': '#3f3f46', 'text-halo-color': '#fff', 'text-halo-width': 1.2 },
      },
      {
        id: 'rivers-label',
        type: 'symbol',
        ...sl('rivers'),
        minzoom: 7,
        layout: {
          'symbol-placement': 'line',
          'text-field': labelField(lang),
          'text-font': FONT,
          'text-size': 12,
          'symbol-spacing': 400,
        },
        paint: { 'text-color': '#1d4ed8', 'text-halo-color': '#f2efe6', 'text-halo-width': 1.5 },
      },
      {
        id: 'counties-label',
        type: 'symbol',
        source: 'county-labels',
        layout: { 'text-field': labelField(lang), 'text-font': FONT, 'text-size': 13, 'text-padding': 4 },
        paint: { 'text-color': '#44403c', 'text-halo-color': '#fff', 'text-halo-width': 1.5 },
      },
      { id: 'draw-line', type: 'line', source: 'draw', filter: NOT_POINT, paint: { 'line-color': perFeature('#be185d'), 'line-width': 2, 'line-dasharray': [2, 1] } },
      { id: 'draw-point', type: 'circle', source: 'draw', filter: POINT, paint: { 'circle-color': perFeature('#be185d'), 'circle-radius': perFeature(5), 'circle-stroke-color': perFeature('#fff'), 'circle-stroke-width': 1.5 } },
      { id: 'result-point', type: 'circle', source: 'result', filter: POINT, paint: { 'circle-color': ['coalesce', ['get', 'color'], '#dc2626'], 'circle-radius': ['coalesce', ['get', 'radius'], 7], 'circle-stroke-color': perFeature('#fff'), 'circle-stroke-width': 2 } },
      { id: 'highlight-fill', type: 'fill', source: 'highlight', filter: POLY, paint: { 'fill-color': perFeature('#facc15'), 'fill-opacity': 0.35, 'fill-antialias': false } },
      { id: 'highlight-line', type: 'line', source: 'highlight', filter: NOT_POINT, paint: { 'line-color': perFeature('#ca8a04'), 'line-width': 4, 'line-dasharray': SOLID } },
      { id: 'highlight-point', type: 'circle', source: 'highlight', filter: POINT, paint: { 'circle-color': perFeature('rgba(250, 204, 21, 0.35)'), 'circle-radius': perFeature(16), 'circle-stroke-color': perFeature('#ca8a04'), 'circle-stroke-width': 3 } },
    ],
  };
}

/** Re-labels the map's symbol layers after a language change. */
export function relabel(map, lang) {
  for (const id of ['rivers-label', 'counties-label']) {
    if (map.getLayer(id)) map.setLayoutProperty(id, 'text-field', labelField(lang));
  }
}
