// Translations: ui/i18n/{uz,ru,en}.js. t(key, vars) fills {name} placeholders; apply() fills every
// [data-i18n] element. A missing key falls back to O'zbekcha, then to the key itself (visible in tests).
import uz from '../i18n/uz.js';
import ru from '../i18n/ru.js';
import en from '../i18n/en.js';

export const LANGS = { uz, ru, en };
export const DEFAULT_LANG = 'uz';
let current = DEFAULT_LANG;

export function lang() { return current; }

export function setLang(code) {
  current = LANGS[code] ? code : DEFAULT_LANG;
  document.documentElement.lang = current;
  apply(document);
}

export function has(key) { return key in LANGS[current] || key in LANGS[DEFAULT_LANG]; }

export function t(key, vars = {}) {
  const s = LANGS[current][key] ?? LANGS[DEFAULT_LANG][key] ?? key;
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
}

export function apply(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
}

/** Whole sum with grouped thousands, in the current language's currency words. */
export function money(amount) {
  const sep = current === 'en' ? ',' : '\u00a0';
  const s = String(Math.round(amount)).replace(/\B(?=(\d{3})+(?!\d))/g, sep);
  return t('money', { amount: s });
}
