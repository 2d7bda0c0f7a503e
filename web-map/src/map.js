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
  window.__envatlasMap = map;
  return map;
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
