// The staff panel's translations without a browser: the three tables (ui/i18n/staff.*.js) have
// the same keys and placeholders, every key the page uses exists, staff.html and js/staff.js hold
// no visible English outside the tables (a heuristic), Uzbek uses ʻ (U+02BB) in oʻ/gʻ, and the
// local formats of sums, dates and counts.
//
//   node --test e2e/staff-i18n.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './lib.js';

const LANG_CODES = ['uz', 'ru', 'en'];
const tables = Object.fromEntries(await Promise.all(LANG_CODES.map(async (l) =>
  [l, (await import(join(ROOT, 'ui', 'i18n', `staff.${l}.js`))).default])));
const html = readFileSync(join(ROOT, 'ui', 'staff.html'), 'utf8');
const js = readFileSync(join(ROOT, 'ui', 'js', 'staff.js'), 'utf8');

const placeholders = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort().join(',');

/** String literals of a JS source (comments skipped; `${…}` of templates replaced by a space). */
export function jsStrings(src) {
  const out = [];
  let i = 0;
  let prev = ''; // last significant character, to tell a regex literal from a division
  while (i < src.length) {
    const c = src[i];
    if (c === '/' && src[i + 1] === '/') { i = src.indexOf('\n', i); if (i < 0) break; continue; }
    if (c === '/' && src[i + 1] === '*') { i = src.indexOf('*/', i + 2) + 2; continue; }
    if (c === '/' && (prev === '' || '(,=:[!&|?{};+'.includes(prev))) {
      // A regex literal: skip it, classes included.
      let j = i + 1;
      let inClass = false;
      while (j < src.length && (src[j] !== '/' || inClass)) {
        if (src[j] === '\\') j++;
        else if (src[j] === '[') inClass = true;
        else if (src[j] === ']') inClass = false;
        j++;
      }
      i = j + 1;
      prev = 'x';
      continue;
    }
    if (c === '\'' || c === '"' || c === '`') {
      let j = i + 1;
      let text = '';
      let depth = 0;
      while (j < src.length) {
        const d = src[j];
        if (depth === 0 && d === c) break;
        if (d === '\\') { text += src[j + 1]; j += 2; continue; }
        if (c === '`' && depth === 0 && d === '$' && src[j + 1] === '{') { depth = 1; text += ' '; j += 2; continue; }
        if (depth > 0) {
          if (d === '{') depth++;
          else if (d === '}') depth--;
          j++;
          continue;
        }
        text += d;
        j++;
      }
      out.push(text);
      i = j + 1;
      prev = 'x';
      continue;
    }
    if (!/\s/.test(c)) prev = c;
    i++;
  }
  return out;
}

// Literals that look like words but are never shown: keyboard keys, server values compared.
const NOT_SHOWN = new Set(['Backspace', 'Enter', 'not configured']);

/** Does a literal read like words shown to a person (rather than a selector, key, path or code)? */
export function looksLikeProse(s) {
  const v = s.trim();
  if (!v || NOT_SHOWN.has(v) || /^[#.[/]/.test(v) || /^(GET|POST|PUT|DELETE|Bearer)\b/.test(v)) return false;
  if (/^[a-z][\w.:-]*$/.test(v)) return false; // a key, class, event or field name
  return /[A-Za-z]{2,}[,.:;!?…]* +[A-Za-z]{2,}/.test(v) || /^[A-Z][a-z]{2,}/.test(v);
}

test('the three tables have the same keys, placeholders and non-empty texts', () => {
  const keys = Object.keys(tables.en).sort();
  for (const l of LANG_CODES) {
    const mine = Object.keys(tables[l]).sort();
    const missing = keys.filter((k) => !(k in tables[l]));
    const extra = mine.filter((k) => !(k in tables.en));
    assert.deepEqual([missing, extra], [[], []], `${l}: missing ${missing.join(' ')}; only in ${l}: ${extra.join(' ')}`);
    for (const k of keys) {
      assert.equal(typeof tables[l][k], 'string', `${l} ${k}`);
      assert.ok(tables[l][k].trim(), `${l} ${k} is empty`);
      assert.equal(placeholders(tables[l][k]), placeholders(tables.en[k]), `${l} ${k}: placeholders differ from en`);
    }
  }
  // Counted texts have all three forms.
  for (const k of keys.filter((x) => /\.(one|few|many)$/.test(x))) {
    const base = k.replace(/\.(one|few|many)$/, '');
    for (const f of ['one', 'few', 'many']) assert.ok(`${base}.${f}` in tables.en, `${base}.${f}`);
  }
});

test('every key the page uses exists', () => {
  const used = new Set();
  for (const m of html.matchAll(/data-i18n(?:-ph|-title)?="([^"]+)"/g)) used.add(m[1]);
  for (const m of js.matchAll(/\bt\('([\w.]+)'/g)) used.add(m[1]);
  for (const m of js.matchAll(/\bdataset\.i18n = '([\w.]+)'/g)) used.add(m[1]);
  for (const m of js.matchAll(/\bshowPad\('([\w.]+)'\)/g)) used.add(m[1]);
  for (const m of js.matchAll(/\bplural\('([\w.]+)'/g)) for (const f of ['one', 'few', 'many']) used.add(`${m[1]}.${f}`);
  assert.ok(used.size > 150, `only ${used.size} keys found: the patterns above no longer match staff.js`);
  const missing = [...used].filter((k) => !(k in tables.en));
  assert.deepEqual(missing, []);
  for (const m of js.matchAll(/\bword\('(\w+)'/g)) {
    assert.ok(Object.keys(tables.en).some((k) => k.startsWith(`${m[1]}.`)), `word group ${m[1]} has no keys`);
  }
});

test('staff.html has no visible text outside the tables', () => {
  const body = html.replace(/<!--[\s\S]*?-->/g, '').replace(/<(script|style)\b[^>]*>[\s\S]*?<\/\1>/g, '');
  const texts = [...body.matchAll(/>([^<]*)</g)].map((m) => m[1].trim()).filter((x) => /\p{L}/u.test(x));
  assert.deepEqual(texts, [], 'text in the markup: give the element a data-i18n key');
  const attrs = [...body.matchAll(/\s(placeholder|title|aria-label|alt)="([^"]*)"/g)]
    .filter((m) => /\p{L}{2,}/u.test(m[2]) && !m[2].startsWith('/')).map((m) => m[0].trim());
  assert.deepEqual(attrs, [], 'use data-i18n-ph / data-i18n-title');
});

test('js/staff.js has no English sentences outside the tables', () => {
  const prose = jsStrings(js).filter(looksLikeProse).map((x) => x.trim());
  assert.deepEqual(prose, []);
});

test('the literal check catches what it should', () => {
  // The check itself can fail: these are what the panel had before the tables.
  const old = "toast('Alert acknowledged'); el('li', {}, 'none'); x = `${a} paid of ${b}`; q('#t-devices tbody'); /'x'/.test(s);";
  assert.deepEqual(jsStrings(old).filter(looksLikeProse).map((x) => x.trim()), ['Alert acknowledged', 'paid of']);
});

test('Uzbek is written with ʻ (U+02BB) in oʻ and gʻ', () => {
  for (const [k, v] of Object.entries(tables.uz)) {
    assert.doesNotMatch(v, /[OoGg]['‘`’]/, `uz ${k}: ${v}`);
  }
  assert.match(tables.uz['fmt.money'], /soʻm/);
});

test('sums, dates and counts the local way', async () => {
  globalThis.document = { documentElement: {}, querySelectorAll: () => [] };
  const i18n = await import(join(ROOT, 'ui', 'js', 'staff-i18n.js'));
  const want = {
    uz: ['25\u00a0000 soʻm', '1\u00a0234\u00a0567 soʻm', '87,5 %', '45\u00a0283,6 MB', '25.04.2025 19:03', 'PIN-kod notoʻgʻri. 3 ta urinish qoldi.'],
    ru: ['25\u00a0000 сум', '1\u00a0234\u00a0567 сум', '87,5 %', '45\u00a0283,6 МБ', '25.04.2025 19:03', 'Неверный PIN-код. Осталось 3 попытки.'],
    en: ['25,000 UZS', '1,234,567 UZS', '87.5%', '45,283.6 MiB', '2025-04-25 19:03', 'Wrong PIN. 3 attempts left.'],
  };
  for (const l of LANG_CODES) {
    i18n.setLang(l);
    // Kiosk time: UTC+5 (photos.utc_offset_minutes = 300).
    assert.deepEqual([i18n.money(25000), i18n.money(1234567), i18n.percent(0.875), i18n.mib(45283.6 * 1048576),
      i18n.dateTime('2025-04-25T14:03:10Z', 300), i18n.plural('pad.wrong', 3)], want[l], l);
  }
  i18n.setLang('ru');
  assert.deepEqual([1, 2, 5, 11, 21, 22, 25].map((n) => i18n.plural('pad.wrong', n).match(/\d+ [а-я]+/)[0]),
    ['1 попытка', '2 попытки', '5 попыток', '11 попыток', '21 попытка', '22 попытки', '25 попыток']);
  delete globalThis.document;
});
