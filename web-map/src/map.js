// Creates the MapLibre map over our own tiles and exposes it to tests as
// window.__envatlasMap.
import maplibregl from 'maplibre-gl';
import { buildStyle, LOCAL_IDEOGRAPH_FONT } from './style.js';

/** Yibin's extent (the sample atlas); the map opens on it. */
export const HOME_BOUNDS = [
  [103.6, 27.85],
  [105.35, 29.25],
];

export function createMap(container, { lang, minZoom, webConfig }) {
  const origin = window.location.origin;
  const style = buildStyle(origin, lang, minZoom);
  if (webConfig && webConfig.basemap_url) addBasemap(style, webConfig);
  const map = new maplibregl.Map({
    container,
    style,
    bounds: HOME_BOUNDS,
    fitBoundsOptions: { padding: 20 },
    localIdeographFontFamily: LOCAL_IDEOGRAPH_FONT,
    // Keeps the last frame readable so "save as PNG" can copy the canvas.
    canvasContextAttributes: { preserveDrawingBuffer: true },
    attributionControl: { compact: true, customAttribution: 'envatlas · 宜宾市生态环境局示例数据' },
    maxZoom: 18,
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
