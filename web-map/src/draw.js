// Drawing the input of an analysis on the map: a point, a line, a polygon, or
// a picked feature. Clicks add vertices; a double click (or "finish") ends a
// line or polygon.
import { setDraw } from './highlight.js';
import { PICKABLE } from './style.js';

export function createDrawer(map, onChange) {
  let kind = null;
  let coords = [];
  let done = false;
  let picked = null;

  const geometry = () => {
    if (picked) return picked.geometry;
    if (kind === 'point' && coords.length) return { type: 'Point', coordinates: coords[0] };
    if (kind === 'line' && coords.length >= 2) return { type: 'LineString', coordinates: coords };
    if (kind === 'polygon' && coords.length >= 3) return { type: 'Polygon', coordinates: [[...coords, coords[0]]] };
    return null;
  };

  const redraw = () => {
    const features = coords.map((c) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: c }, properties: {} }));
    const g = geometry();
    if (g && g.type !== 'Point') features.push({ type: 'Feature', geometry: g, properties: {} });
    else if (!g && coords.length >= 2) features.push({ type: 'Feature', geometry: { type: 'LineString', coordinates: coords }, properties: {} });
    if (picked) features.push({ type: 'Feature', geometry: picked.geometry, properties: {} });
    setDraw(map, features);
    onChange && onChange();
  };

  const api = {
    get kind() {
      return kind;
    },
    get done() {
      return done || (kind === 'point' && coords.length === 1) || Boolean(picked);
    },
    get picked() {
      return picked;
    },
    geometry,
    start(next) {
      kind = next;
      coords = [];
      picked = null;
      done = false;
      map.getCanvas().style.cursor = 'crosshair';
      if (next === 'line' || next === 'polygon') map.doubleClickZoom.disable();
      redraw();
    },
    /** Handles a map click; returns true when the drawer used it. */
    click(e) {
      if (!kind || api.done) return false;
      if (kind === 'pick') {
        const layers = PICKABLE.filter((id) => map.getLayer(id) && map.getLayoutProperty(id, 'visibility') !== 'none');
        const hit = map.queryRenderedFeatures(e.point, { layers })[0];
        if (!hit) return true;
        picked = { layer: hit.sourceLayer, fid: hit.id, properties: hit.properties, geometry: hit.geometry };
      } else {
        coords.push([Number(e.lngLat.lng.toFixed(6)), Number(e.lngLat.lat.toFixed(6))]);
      }
      if (kind === 'point' || kind === 'pick') api.finish();
      redraw();
      return true;
    },
    finish() {
      done = true;
      map.getCanvas().style.cursor = '';
      setTimeout(() => map.doubleClickZoom.enable(), 0);
      redraw();
    },
    clear() {
      kind = null;
      coords = [];
      picked = null;
      done = false;
      map.getCanvas().style.cursor = '';
      map.doubleClickZoom.enable();
      redraw();
    },
  };
  map.on('dblclick', (e) => {
    if (kind === 'line' || kind === 'polygon') {
      e.preventDefault();
      // The double click's two clicks already added the same vertex twice.
      if (coords.length >= 2 && coords.at(-1)[0] === coords.at(-2)[0] && coords.at(-1)[1] === coords.at(-2)[1]) coords.pop();
      api.finish();
    }
  });
  return api;
}
