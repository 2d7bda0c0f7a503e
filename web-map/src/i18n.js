// Language state (Chinese by default, English on request) and the translation
// of static labels. Texts live in messages.js; layer and property titles come
// from the server's catalog (title_zh / title_en).
import { MESSAGES } from './messages.js';

const listeners = [];
let current = initial();

function initial() {
  const fromUrl = new URLSearchParams(window.location.search).get('lang');
  if (fromUrl === 'en' || fromUrl === 'zh') return fromUrl;
  try {
    const saved = window.localStorage.getItem('envatlas.lang');
    if (saved === 'en' || saved === 'zh') return saved;
  } catch {
    // Storage may be disabled (private mode, intranet policy): stay in Chinese.
  }
  return 'zh';
}

export function lang() {
  return current;
}

/** Translates a key; `{name}` placeholders are filled from `vars`. */
export function t(key, vars = {}) {
  const entry = MESSAGES[key];
  const text = entry ? entry[current] ?? entry.zh : key;
  return text.replace(/\{(\w+)\}/g, (_, k) => (vars[k] === undefined ? '' : String(vars[k])));
}

/** The `<base>_zh` or `<base>_en` member of an object, falling back to Chinese. */
export function pick(obj, base = 'name') {
  if (!obj) return '';
  return obj[`${base}_${current}`] || obj[`${base}_zh`] || obj[base] || '';
}

/** Registers a callback run after every language change. */
export function onLang(fn) {
  listeners.push(fn);
}

export function setLang(next) {
  if (next !== 'zh' && next !== 'en') return;
  current = next;
  try {
    window.localStorage.setItem('envatlas.lang', next);
  } catch {
    // See initial(): the choice then lasts for this page only.
  }
  document.documentElement.lang = next === 'zh' ? 'zh-CN' : 'en';
  applyI18n(document);
  for (const fn of listeners) fn(next);
}

/** Fills every [data-i18n] text, [data-i18n-ph] placeholder and [data-i18n-title] title. */
export function applyI18n(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-ph]')) el.placeholder = t(el.dataset.i18nPh);
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
}
