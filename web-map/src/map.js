// Creates the MapLibre map over our own tiles and exposes it to tests as
// window.__envatlasMap.
import maplibregl from 'maplibre-gl';
import { buildStyle, LOCAL_IDEOGRAPH_FONT } from './style.js';

// Start MapLibre's worker as soon as the script runs, so it compiles while the
// page fetches what the map needs (it would otherwise start with the map).
maplibregl.prewarm();

/** Yibin's extent (the sample atlas); the map opens on it. */
export const HOME_BOUNDS = [
  [103.6, 27.85],
  [105.35, 29.25],
];

export function createMap(container, { lang, minZoom, webConfig, countyLabels }) {
  const origin = window.location.origin;
  const style = buildStyle(origin, lang, minZoom);
  // In the style from the start, so the first frame already has them.
  if (countyLabels) style.sources['county-labels'].data = countyLabels;
  if (webConfig && webConfig.basemap_url) addBasemap(style, webConfig);
  const overlays = splitOverlays(style);
  const map = new maplibregl.Map({
    container,
    style,
    bounds: HOME_BOUNDS,
    fitBoundsOptions: { padding: 20 },
    localIdeographFontFamily: LOCAL_IDEOGRAPH_FONT,
    // No preserveDrawingBuffer (a copy of every frame): "save as PNG/PDF"
    // copies the canvas right after a frame is drawn (snapshot.js).
    attributionControl: { compact: true, customAttribution: 'envatlas · 宜宾市生态环境局示例数据' },
    maxZoom: 18,
    // Labels appear at once: no cross-fade, which also spares the frames a
    // software-rendered browser spends fading them in before the map is idle.
    fadeDuration: 0,
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: true }), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-right');
  OVERLAYS.set(map, overlays);
  window.__envatlasMap = map;
  return map;
}

// The drawing, result and highlight overlays start empty and are added to the
// map at first use (withOverlay): three empty GeoJSON sources in the opening
// style would be 18 more worker tiles and sourcedata events before the first
// `idle` (about 0.1 s of first paint in a browser without a GPU).
const OVERLAY_SOURCES = ['draw', 'result', 'highlight'];
const OVERLAYS = new WeakMap();

/** Takes the overlay sources and layers out of the style, keeping the full layer order. */
function splitOverlays(style) {
  const order = style.layers.map((l) => l.id);
  const byName = {};
  for (const name of OVERLAY_SOURCES) {
    byName[name] = { source: style.sources[name], layers: style.layers.filter((l) => l.source === name) };
    delete style.sources[name];
  }
  style.layers = style.layers.filter((l) => !OVERLAY_SOURCES.includes(l.source));
  return { order, byName };
}

/**
 * Calls `fn` with the overlay source `name` (draw, result, highlight), adding
 * it and its layers (at their place in the style's order) on first use.
 * `empty`: the call only clears, so an overlay not added yet stays away.
 */
export function withOverlay(map, name, fn, empty = false) {
  const existing = map.getSource(name);
  if (existing) return fn(existing);
  const overlays = OVERLAYS.get(map);
  const o = overlays && overlays.byName[name];
  if (!o || empty) return undefined;
  try {
    map.addSource(name, o.source);
  } catch {
    // The style is still loading: add it once it has.
    map.once('load', () => withOverlay(map, name, fn));
    return undefined;
  }
  for (const layer of o.layers) {
    const before = overlays.order.slice(overlays.order.indexOf(layer.id) + 1).find((id) => map.getLayer(id));
    map.addLayer(layer, before);
  }
  return fn(map.getSource(name));
}

/** The optional raster basemap from `[web] basemap_url` (off by default: it leaves the origin). */
function addBasemap(style, cfg) {
  style.sources.basemap = {
    type: 'raster',
    tiles: [cfg.basemap_url],
    tileSize: 256,
    attribution: cfg.basemap_attribution || '',
  };
  style.layers.splice(1, 0, { id: 'basemap', type: 'raster', source: 'basemap', paint: { 'raster-opacity': 0.85 } });
}

export { maplibregl };
