//! The staff panel's translations (ui/i18n/staff.{uz,ru,en}.js) and its local formats.
// t(key, vars) fills {name} placeholders; apply() fills [data-i18n] (text), [data-i18n-ph]
// (placeholder) and [data-i18n-title] (title). A missing key shows the key itself (the node check
// e2e/staff-i18n.test.mjs keeps the three tables equal). Sums, dates and numbers are formatted by
// hand, not with Intl: WebKitGTK (Tauri) and chromium (the browser suite) must print the same text.
import uz from '../i18n/staff.uz.js';
import ru from '../i18n/staff.ru.js';
import en from '../i18n/staff.en.js';

export const LANGS = { uz, ru, en };
export const DEFAULT_LANG = 'uz';
const STORE_KEY = 'fotobox.staffLang';
const NBSP = '\u00a0';
let current = DEFAULT_LANG;

export function lang() { return current; }

/** The language staff picked on this device, if any (localStorage; it wins over the config). */
export function storedLang() {
  try { const l = localStorage.getItem(STORE_KEY); return LANGS[l] ? l : null; } catch { return null; }
}

/** Switch the page to `code`; `remember` keeps it in localStorage for the next visit. */
export function setLang(code, remember = false) {
  current = LANGS[code] ? code : DEFAULT_LANG;
  if (remember) { try { localStorage.setItem(STORE_KEY, current); } catch { /* private mode */ } }
  document.documentElement.lang = current;
  apply(document);
  for (const b of document.querySelectorAll('[data-lang]')) b.classList.toggle('active', b.dataset.lang === current);
}

export function has(key) { return key in LANGS[current]; }

export function t(key, vars = {}) {
  const s = LANGS[current][key] ?? key;
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
}

/** A server value (status, severity, …) in words when the table knows it, else as it came. */
export function word(group, value) {
  const key = `${group}.${String(value).replace(/ /g, '_')}`;
  return has(key) ? t(key) : String(value ?? '');
}

export function apply(root) {
  for (const e of root.querySelectorAll('[data-i18n]')) e.textContent = t(e.dataset.i18n);
  for (const e of root.querySelectorAll('[data-i18n-ph]')) e.placeholder = t(e.dataset.i18nPh);
  for (const e of root.querySelectorAll('[data-i18n-title]')) e.title = t(e.dataset.i18nTitle);
}

/** Whole number with grouped thousands: `25 000` (uz, ru: no-break space), `25,000` (en). */
export function int(n) {
  const v = Math.round(Number(n) || 0);
  const sep = current === 'en' ? ',' : NBSP;
  return (v < 0 ? '-' : '') + String(Math.abs(v)).replace(/\B(?=(\d{3})+(?!\d))/g, sep);
}

/** Decimal with `digits` places, thousands grouped: `45 283,6` (uz, ru), `45,283.6` (en). */
export function dec(n, digits = 1) {
  const [whole, frac] = (Number(n) || 0).toFixed(digits).split('.');
  const w = whole.startsWith('-') ? `-${int(whole.slice(1))}` : int(whole);
  return frac === undefined ? w : `${w}${current === 'en' ? '.' : ','}${frac}`;
}

/** A sum in so‘m: `25 000 soʻm`, `25 000 сум`, `25,000 UZS`. */
export function money(amount) { return t('fmt.money', { n: int(amount) }); }

/** A percentage from a 0..1 rate: `87,5 %` (uz, ru), `87.5%` (en). */
export function percent(rate) { return t('fmt.percent', { n: dec(rate * 100, 1) }); }

/** Bytes as MiB with one decimal, in the language's unit. */
export function mib(bytes) { return t('fmt.mib', { n: dec(bytes / 1048576, 1) }); }

const p2 = (n) => String(n).padStart(2, '0');

/** A calendar date (yyyy-mm-dd, already in kiosk time) the local way: `25.04.2025` or `2025-04-25`. */
export function day(ymd) {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(ymd || '');
  if (!m) return ymd || '–';
  return current === 'en' ? `${m[1]}-${m[2]}-${m[3]}` : `${m[3]}.${m[2]}.${m[1]}`;
}

/** A chart's day label (yyyy-mm-dd): `25.04` or `04-25`. */
export function dayShort(ymd) {
  const s = day(ymd);
  return current === 'en' ? s.slice(5) : s.slice(0, 5);
}

/** An instant (ISO) in kiosk time (UTC + offsetMinutes): `25.04.2025 14:03` or `2025-04-25 14:03`. */
export function dateTime(iso, offsetMinutes = 0) {
  const ms = Date.parse(iso || '');
  if (!Number.isFinite(ms)) return '–';
  const d = new Date(ms + offsetMinutes * 60_000);
  const ymd = `${d.getUTCFullYear()}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())}`;
  return `${day(ymd)} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}`;
}

/** The count form of `n` in `code`: `one`, `few` or `many` (Russian 1 / 2–4 / 5+, English 1 / else;
 * Uzbek has a single form, `many`). The tables hold all three for every counted key. */
export function pluralForm(code, n) {
  const a = Math.abs(n) % 100;
  const b = a % 10;
  if (code === 'ru') {
    if (b === 1 && a !== 11) return 'one';
    if (b >= 2 && b <= 4 && (a < 12 || a > 14)) return 'few';
    return 'many';
  }
  if (code === 'en') return n === 1 ? 'one' : 'many';
  return 'many';
}

/** A counted text: the table's `key.one` / `key.few` / `key.many` with {n} and `vars` filled. */
export function plural(key, n, vars = {}) {
  return t(`${key}.${pluralForm(current, n)}`, { n, ...vars });
}
