// County name labels from one point per county (tile-based polygon labels
// repeat in every tile a county touches). The points come from the county
// polygons of /api/collections/admin_boundaries/items.
import { getJSON } from './api.js';

function ringArea(ring) {
  let a = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) a += (ring[j][0] - ring[i][0]) * (ring[j][1] + ring[i][1]);
  return a / 2;
}

function centroid(ring) {
  let a = 0;
  let x = 0;
  let y = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const f = ring[j][0] * ring[i][1] - ring[i][0] * ring[j][1];
    a += f;
    x += (ring[j][0] + ring[i][0]) * f;
    y += (ring[j][1] + ring[i][1]) * f;
  }
  return a ? [x / (3 * a), y / (3 * a)] : ring[0];
}

function inside([px, py], ring) {
  let c = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > py !== yj > py && px < ((xj - xi) * (py - yi)) / (yj - yi) + xi) c = !c;
  }
  return c;
}

/**
 * A point inside the polygon near its middle: the centroid of the largest
 * part, else the midpoint of the widest horizontal chord through it.
 */
export function labelPoint(geometry) {
  const polys = geometry.type === 'MultiPolygon' ? geometry.coordinates : [geometry.coordinates];
  const outer = polys.map((p) => p[0]).sort((a, b) => Math.abs(ringArea(b)) - Math.abs(ringArea(a)))[0];
  const c = centroid(outer);
  if (inside(c, outer)) return c;
  const xs = [];
  for (let i = 0, j = outer.length - 1; i < outer.length; j = i++) {
    const [xi, yi] = outer[i];
    const [xj, yj] = outer[j];
    if (yi > c[1] !== yj > c[1]) xs.push(((xj - xi) * (c[1] - yi)) / (yj - yi) + xi);
  }
  xs.sort((a, b) => a - b);
  let best = null;
  for (let i = 0; i + 1 < xs.length; i += 2) if (!best || xs[i + 1] - xs[i] > best[1] - best[0]) best = [xs[i], xs[i + 1]];
  return best ? [(best[0] + best[1]) / 2, c[1]] : outer[0];
}

/** One label point per county, as a FeatureCollection for the `county-labels` source. */
export async function fetchCountyLabels() {
  const r = await getJSON('/api/collections/admin_boundaries/items?level=county&limit=1000');
  const features = (r.features || []).map((f) => ({
    type: 'Feature',
    geometry: { type: 'Point', coordinates: labelPoint(f.geometry) },
    properties: { name_zh: f.properties.name_zh, name_en: f.properties.name_en, adcode: f.properties.adcode },
  }));
  return { type: 'FeatureCollection', features };
}
