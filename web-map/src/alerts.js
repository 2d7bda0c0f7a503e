// Live alerts: server-sent events from /api/events shown as notices, with the
// station highlighted. When the server has no such route, the panel says so.
import { notice } from './ui.js';
import { t, pick, lang } from './i18n.js';
import { getJSON, has } from './api.js';
import { highlight } from './highlight.js';

const EVENTS = ['exceedance_opened', 'exceedance_closed', 'station_offline', 'station_online'];

// `onEvent` lets the page refresh what an event changes (the summary cards).
export function startAlerts(map, onStatus, onEvent = () => undefined) {
  if (!has('/api/events') || typeof EventSource === 'undefined') {
    onStatus('unavailable');
    return null;
  }
  const source = new EventSource('/api/events');
  source.onopen = () => onStatus('connected');
  source.onerror = () => onStatus('reconnecting');
  for (const name of EVENTS) {
    source.addEventListener(name, async (ev) => {
      let data = {};
      try {
        data = JSON.parse(ev.data);
      } catch {
        return;
      }
      let station = null;
      if (data.station_id) {
        try {
          const r = await getJSON(`/api/collections/monitoring_stations/items/${encodeURIComponent(data.station_id)}`);
          station = r;
        } catch {
          station = null;
        }
      }
      const who = station ? pick(station.properties) : data.station_id || data.source_id || '';
      const what = data.pollutant ? `${t(`pollutant.${data.pollutant}`) === `pollutant.${data.pollutant}` ? data.pollutant : t(`pollutant.${data.pollutant}`)}` : '';
      const value = data.value !== null && data.value !== undefined ? ` ${data.value}${data.limit !== null && data.limit !== undefined ? ` / ${data.limit}` : ''}` : '';
      const colon = lang() === 'zh' ? '：' : ': ';
      notice(`${t(`event.${name}`)}${colon}${who} ${what}${value}`, name === 'exceedance_opened' || name === 'station_offline' ? 'alert' : 'info', 15000);
      if (station && station.geometry) highlight(map, station);
      onEvent(name, data);
    });
  }
  return source;
}
