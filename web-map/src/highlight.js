// Highlighting one or more features and moving the map to them.
import { maplibregl, withOverlay } from './map.js';

const collection = (features) => ({ type: 'FeatureCollection', features });

export function highlight(map, features) {
  const list = Array.isArray(features) ? features : features ? [features] : [];
  const data = collection(list.map((f) => ({ type: 'Feature', geometry: f.geometry, properties: {} })));
  withOverlay(map, 'highlight', (src) => src.setData(data), !list.length);
}

export function setResult(map, features) {
  withOverlay(map, 'result', (src) => src.setData(collection(features || [])), !(features && features.length));
}

export function setDraw(map, features) {
  withOverlay(map, 'draw', (src) => src.setData(collection(features || [])), !(features && features.length));
}

function extend(bounds, coords) {
  if (typeof coords[0] === 'number') bounds.extend(coords);
  else for (const c of coords) extend(bounds, c);
}

/** Moves the map to a feature (or a list of them / a geometry). */
export function zoomTo(map, target, maxZoom = 14) {
  const geoms = (Array.isArray(target) ? target : [target]).map((f) => (f && f.geometry ? f.geometry : f)).filter(Boolean);
  const bounds = new maplibregl.LngLatBounds();
  for (const g of geoms) {
    if (g.type === 'GeometryCollection') g.geometries.forEach((x) => extend(bounds, x.coordinates));
    else extend(bounds, g.coordinates);
  }
  if (bounds.isEmpty()) return;
  map.fitBounds(bounds, { padding: 60, maxZoom, duration: 600 });
}
