// Small DOM helpers shared by the panels: element creation, notices, downloads.

/** Creates an element: h('button', {class: 'x', onclick: f}, 'text', child). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Shows a transient notice over the map; `kind` is info, warn or alert. */
export function notice(text, kind = 'info', ms = 6000) {
  const box = document.getElementById('notices');
  if (!box) return null;
  const el = h('div', { class: `notice ${kind}`, role: kind === 'alert' ? 'alert' : 'status' }, text);
  el.append(h('button', { type: 'button', class: 'close', 'aria-label': 'close', onclick: () => el.remove() }, '×'));
  box.prepend(el);
  while (box.children.length > 5) box.lastElementChild.remove();
  if (ms > 0) setTimeout(() => el.remove(), ms);
  return el;
}

/** Saves a Blob under a file name through a temporary link. */
export function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Formats metres as "850 m" or "12.3 km" (display only; the API speaks metres). */
export function fmtDistance(m) {
  if (m === null || m === undefined || !Number.isFinite(m)) return '—';
  return m < 1000 ? `${Math.round(m)} m` : `${(m / 1000).toFixed(m < 10000 ? 2 : 1)} km`;
}

/** Formats seconds as "1 h 05 min" or "12 min". */
export function fmtDuration(s) {
  if (s === null || s === undefined || !Number.isFinite(s)) return '—';
  const min = Math.round(s / 60);
  if (min < 60) return `${min} min`;
  return `${Math.floor(min / 60)} h ${String(min % 60).padStart(2, '0')} min`;
}

/** Compass point (zh or en) of a bearing in degrees. */
export function compass(deg, lang) {
  if (deg === null || deg === undefined || !Number.isFinite(deg)) return '—';
  const zh = ['北', '东北', '东', '东南', '南', '西南', '西', '西北'];
  const en = ['N', 'NE', 'E', 'SE', 'S', 'SW', 'W', 'NW'];
  const i = Math.round((((deg % 360) + 360) % 360) / 45) % 8;
  return `${(lang === 'en' ? en : zh)[i]} ${Math.round(deg)}°`;
}

/** Replaces an element's children, skipping null/false (optional parts). */
export function fill(box, ...children) {
  box.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false && c !== ''));
}
