// The hidden staff panel (ui/staff.html). It talks only to the REST API's /api/staff/* and
// /api/settings endpoints.
//
// Where it runs decides how it logs in:
// - In the Tauri kiosk window (window.__TAURI__ is injected by the shell, withGlobalTauri) the
//   API base comes from the `kiosk_info` command and the login sends the PIN with the window key
//   from the `staff_window_key` command: the page never holds the staff token.
// - In a browser (the page served by the API listener, same origin) the login needs the staff
//   token as well as the PIN; the token is kept in sessionStorage for this tab only.
// A login returns a short-lived session token; the panel closes itself after the server's idle
// timeout without a touch, and on any 401 it falls back to the PIN pad.
//
// Every word on the page comes from ui/i18n/staff.{uz,ru,en}.js through js/staff-i18n.js: the
// markup carries data-i18n keys, this file calls t(). The language is the one staff picked on
// this device (localStorage), else the config's `staff.language` (GET /api/staff/pad). Messages
// the server words itself (errors, refund instructions, checklist details) stay as it sends them.

import * as i18n from './staff-i18n.js';

const { t, word } = i18n;

import { loadSound, wireSound } from './staff-sound.js';

const tauri = window.__TAURI__;
const isTauri = !!(tauri && tauri.core && tauri.core.invoke);
const PAD_IDLE_MS = 60_000;
const PAGE_SIZE = 20;

let API = '';
let session = null; // { token, idle }
let info = null;
let lastTouch = Date.now();
let pin = '';
let lockTimer = null;
const charts = {};
const state = { filter: {}, offset: 0, total: 0, current: null, restoreName: null };

const $ = (sel) => document.querySelector(sel);
const $$ = (sel) => Array.from(document.querySelectorAll(sel));

class HttpError extends Error {
  constructor(status, body) { super(body && body.error || `HTTP ${status}`); this.status = status; this.body = body || {}; }
}

async function api(method, path, body, bearer) {
  const headers = {};
  const token = bearer || (session && session.token);
  if (token) headers.authorization = `Bearer ${token}`;
  // A Blob (the camera test's still) goes as it is, anything else as JSON.
  const raw = body instanceof Blob;
  if (body !== undefined) headers['content-type'] = raw ? (body.type || 'application/octet-stream') : 'application/json';
  const r = await fetch(API + path, { method, headers, body: body === undefined || raw ? body : JSON.stringify(body) });
  let data = null;
  try { data = await r.json(); } catch { /* empty */ }
  if (!r.ok) {
    if (r.status === 401 && session && !bearer) { sessionEnded(); }
    throw new HttpError(r.status, data);
  }
  return data;
}

// ------------------------------------------------------------------ formatting

const sum = (n) => i18n.money(n);
function localTime(iso) {
  if (!iso) return '–';
  return i18n.dateTime(iso, (info && info.utc_offset_minutes) || 0);
}
function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v; else if (k.startsWith('data-')) e.setAttribute(k, v); else e[k] = v;
  }
  for (const k of kids) e.append(k instanceof Node ? k : document.createTextNode(String(k ?? '')));
  return e;
}
function setNum(id, value, text) {
  const e = document.getElementById(id);
  e.dataset.value = String(value);
  e.textContent = text;
}
let toastTimer = null;
function toast(msg, bad = false) {
  const box = $('#toast');
  box.textContent = msg;
  box.classList.toggle('bad', bad);
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 6000);
}
function result(sel, msg, bad = false) {
  const e = $(sel);
  e.textContent = msg;
  e.classList.toggle('bad', bad);
}

// ------------------------------------------------------------------ PIN pad

function showPad(msg) {
  $('#panel').hidden = true;
  $('#pad').hidden = false;
  $('#token-row').hidden = isTauri;
  if (!isTauri) $('#token').value = sessionStorage.getItem('fotobox.staffToken') || '';
  pin = '';
  renderDots();
  $('#pad-msg').dataset.i18n = msg || 'pad.enter';
  $('#pad-msg').textContent = t($('#pad-msg').dataset.i18n);
  $('#pad-error').textContent = '';
  refreshPad();
}

async function refreshPad() {
  try {
    const p = await api('GET', '/api/staff/pad');
    // The config's language, unless staff picked one on this device.
    if (!i18n.storedLang() && p.language && p.language !== i18n.lang()) setLang(p.language, false);
    if (p.locked_until) lockPad(p.locked_until);
    else if (!p.pin_set) $('#pad-error').textContent = t('pad.no_pin');
  } catch { /* offline: the login will say */ }
}

function renderDots() { $('#pin-dots').textContent = '•'.repeat(pin.length); }

function lockPad(untilIso) {
  const until = Date.parse(untilIso);
  $$('#keys button').forEach((b) => { b.disabled = true; });
  clearInterval(lockTimer);
  const tick = () => {
    const left = Math.max(0, Math.ceil((until - Date.now()) / 1000));
    $('#pad-error').textContent = t('pad.locked', { time: `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}` });
    if (left <= 0) {
      clearInterval(lockTimer);
      $$('#keys button').forEach((b) => { b.disabled = false; });
      $('#pad-error').textContent = '';
    }
  };
  tick();
  lockTimer = setInterval(tick, 1000);
}

async function submitPin() {
  const body = { pin };
  let bearer;
  pin = '';
  renderDots();
  if (isTauri) {
    body.window_key = await tauri.core.invoke('staff_window_key');
  } else {
    bearer = $('#token').value.trim();
    if (!bearer) { $('#pad-error').textContent = t('pad.need_token'); return; }
  }
  try {
    const login = await api('POST', '/api/staff/login', body, bearer || 'none');
    if (!isTauri) sessionStorage.setItem('fotobox.staffToken', bearer);
    session = { token: login.token, idle: login.idle_timeout_seconds };
    await openPanel();
  } catch (e) {
    if (e.status === 423) lockPad(e.body.locked_until);
    else if (e.status === 401 && e.body.attempts_left !== undefined) $('#pad-error').textContent = i18n.plural('pad.wrong', e.body.attempts_left);
    else $('#pad-error').textContent = e.message;
  }
}

function onKey(k) {
  if (k === 'clear') pin = pin.slice(0, -1);
  else if (k === 'ok') { if (pin.length) submitPin(); return; }
  else if (pin.length < 12) pin += k;
  renderDots();
}

// ------------------------------------------------------------------ panel

function sessionEnded() {
  session = null;
  showPad('pad.ended');
}

async function leave(orderId) {
  if (session) { try { await api('POST', '/api/staff/logout'); } catch { /* already gone */ } }
  session = null;
  // With an order: the kiosk starts that (paid or free) session's shoot at once.
  window.location.replace(typeof orderId === 'string' ? `index.html?session=${encodeURIComponent(orderId)}` : 'index.html');
}

async function openPanel() {
  info = await api('GET', '/api/staff/info');
  $('#pad').hidden = true;
  $('#panel').hidden = false;
  lastTouch = Date.now();
  await show('dashboard');
  refreshAlertCount();
}

const pages = {
  dashboard: loadDashboard,
  payments: loadPayments,
  reconcile: loadReconcile,
  comp: loadComp,
  export: loadExport,
  database: loadDatabase,
  devices: loadDevices,
  alerts: loadAlerts,
  settings: loadSettings,
  audit: loadAudit,
};

async function show(name) {
  for (const b of $$('#tabs [data-page]')) b.classList.toggle('active', b.dataset.page === name);
  for (const p of $$('.page')) p.hidden = p.id !== `page-${name}`;
  document.body.dataset.page = name;
  try { await pages[name](); } catch (e) { if (e.status !== 401) toast(e.message, true); }
  document.body.dataset.loaded = name;
}

// ------------------------------------------------------------------ dashboard

function drawChart(id, type, labels, data, label) {
  if (!window.Chart) return;
  if (charts[id]) charts[id].destroy();
  charts[id] = new window.Chart(document.getElementById(id), {
    type,
    data: { labels, datasets: [{ label, data, backgroundColor: '#4f7cff', borderColor: '#4f7cff' }] },
    options: { animation: false, responsive: true, maintainAspectRatio: false, plugins: { legend: { display: false } },
      scales: { y: { beginAtZero: true, ticks: { callback: (v) => i18n.int(v) } } } },
  });
}

async function loadDashboard() {
  const s = await api('GET', '/api/staff/stats');
  setNum('k-today-revenue', s.today.revenue, sum(s.today.revenue));
  const paidOf = (paid, all) => t('dash.paid_of', { paid: i18n.int(paid), all: i18n.int(all) });
  setNum('k-today-count', s.today.success_payments, paidOf(s.today.success_payments, s.today.payments));
  setNum('k-7-revenue', s.last_7_days.revenue, sum(s.last_7_days.revenue));
  setNum('k-7-count', s.last_7_days.success_payments, paidOf(s.last_7_days.success_payments, s.last_7_days.payments));
  setNum('k-30-revenue', s.last_30_days.revenue, sum(s.last_30_days.revenue));
  setNum('k-30-count', s.last_30_days.success_payments, paidOf(s.last_30_days.success_payments, s.last_30_days.payments));
  setNum('k-total-revenue', s.total_revenue, sum(s.total_revenue));
  setNum('k-total-count', s.success_payments, paidOf(s.success_payments, s.total_payments));
  setNum('k-rate', s.success_rate, i18n.percent(s.success_rate));
  $('#k-ended').textContent = t('dash.ended', { canceled: i18n.int(s.canceled_payments), waiting: i18n.int(s.pending_payments) });
  setNum('k-refunds', s.refunded_payments, `${i18n.int(s.refunded_payments)} · ${sum(s.refunded_amount)}`);
  setNum('k-comps', s.comp_sessions, i18n.plural('dash.comps', s.comp_sessions, { value: sum(s.comp_value) }));
  const nr = s.paid_without_receipt || 0;
  setNum('k-no-receipt', nr, t('dash.no_receipt', { n: i18n.int(nr) }));
  $('#k-no-receipt').classList.toggle('warn', nr > 0);

  // 30 UTC days ending today, days without sales as 0.
  const byDay = new Map(s.per_day.map((d) => [d.day, d.revenue]));
  const days = [];
  const today = new Date();
  for (let i = 29; i >= 0; i--) {
    const d = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - i));
    days.push(d.toISOString().slice(0, 10));
  }
  drawChart('chart-days', 'bar', days.map((d) => i18n.dayShort(d)), days.map((d) => byDay.get(d) || 0), t('col.revenue'));
  // Hours shifted from UTC to kiosk time (whole hours of the configured offset).
  const shift = Math.round(((info && info.utc_offset_minutes) || 0) / 60);
  const hours = new Array(24).fill(0);
  for (const h of s.per_hour) hours[(((h.hour_utc + shift) % 24) + 24) % 24] += h.success_payments;
  drawChart('chart-hours', 'bar', hours.map((_, i) => String(i).padStart(2, '0')), hours, t('col.paid'));

  const fill = (sel, rows, key) => {
    const tb = $(`${sel} tbody`);
    tb.replaceChildren(...rows.map((r) => el('tr', { 'data-key': String(r[key] ?? 'none') },
      el('td', {}, r[key] == null ? t('dash.none') : word(key === 'payment_type' ? 'provider' : 'layout', r[key])),
      el('td', {}, i18n.int(r.payments)), el('td', {}, i18n.int(r.success_payments)),
      el('td', { 'data-value': String(r.revenue) }, sum(r.revenue)))));
  };
  fill('#t-provider', s.by_provider, 'payment_type');
  fill('#t-layout', s.by_layout, 'template_name');
}

// ------------------------------------------------------------------ payments

function filterQuery() {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(state.filter)) if (v) q.set(k, v);
  return q;
}

function readFilters() {
  const f = new FormData($('#filters'));
  const to = f.get('to');
  // "To" is inclusive in the form; the API's bound is exclusive.
  let toNext = '';
  if (to) {
    const d = new Date(`${to}T00:00:00Z`);
    d.setUTCDate(d.getUTCDate() + 1);
    toNext = d.toISOString().slice(0, 10);
  }
  state.filter = { status: f.get('status'), provider: f.get('provider'), from: f.get('from'), to: toNext };
  state.offset = 0;
}

async function loadPayments() {
  const q = filterQuery();
  q.set('limit', PAGE_SIZE);
  q.set('offset', state.offset);
  const r = await api('GET', `/api/staff/payments?${q}`);
  state.total = r.total;
  const tb = $('#t-payments tbody');
  tb.replaceChildren(...r.payments.map((p) => {
    const flags = [p.comp ? t('flag.free') : '', p.refunded ? t('flag.refunded') : ''].filter(Boolean).join(' ');
    const tr = el('tr', { 'data-order': p.order_id, class: `st-${p.status}` },
      el('td', {}, p.order_id), el('td', {}, localTime(p.created_at)),
      el('td', { 'data-value': String(p.amount) }, sum(p.amount)), el('td', {}, word('provider', p.payment_type)),
      el('td', {}, word('status', p.status)), el('td', {}, p.template_name ? word('layout', p.template_name) : '–'), el('td', {}, p.copies),
      el('td', { class: 'flags' }, flags));
    tr.addEventListener('click', () => openDetail(p.order_id));
    return tr;
  }));
  const first = r.total ? state.offset + 1 : 0;
  $('#page-info').textContent = t('pay.page_info', { first, last: state.offset + r.payments.length, total: r.total });
  $('#prev').disabled = state.offset === 0;
  $('#next').disabled = state.offset + PAGE_SIZE >= r.total;
}

async function openDetail(id) {
  const p = await api('GET', `/api/staff/payments/${encodeURIComponent(id)}`);
  state.current = p;
  $('#detail').hidden = false;
  $('#d-order').textContent = p.order_id;
  const fields = [
    ['col.status', p.refunded ? t('det.refunded') : word('status', p.status)], ['col.amount', sum(p.amount)],
    ['col.provider', word('provider', p.payment_type)], ['det.transaction', p.transaction_id || '–'],
    ['col.layout', p.template_name ? word('layout', p.template_name) : '–'], ['col.copies', p.copies],
    ['col.created', localTime(p.created_at)], ['det.paid', localTime(p.perform_time)], ['det.canceled', localTime(p.cancel_time)],
    ['det.cancel_reason', p.cancel_reason || '–'], ['det.free', p.comp ? t('det.free_yes', { reason: p.comp.reason }) : t('common.no')],
  ];
  $('#d-fields').replaceChildren(...fields.flatMap(([k, v]) => [el('dt', {}, t(k)), el('dd', {}, v)]));
  // The fiscal receipt: its state and, once the provider issued it, the tax committee's link.
  if (p.receipt) {
    const r = p.receipt;
    const link = r.url && /^https?:\/\//.test(r.url)
      ? el('a', { href: r.url, target: '_blank', rel: 'noreferrer', id: 'd-receipt-link' }, r.url) : '';
    $('#d-fields').append(el('dt', {}, t('det.receipt')), el('dd', { id: 'd-receipt', 'data-state': r.state,
      class: r.state === 'waiting' || r.state === 'failed' ? 'warn' : '' },
    `${word('receipt', r.state)}${r.updated_at ? ` · ${localTime(r.updated_at)}` : ''} `, link));
  }
  $('#d-events').replaceChildren(...p.events.map((e) => el('li', {}, `${localTime(e.created_at)} ${e.source} ${e.kind} `, el('code', {}, e.detail_json || ''))));
  $('#d-photos').replaceChildren(...(p.photos.length ? p.photos.map((ph) => el('li', {}, `#${ph.id} ${word('layout', ph.template_name)} ×${ph.copy_count} ${ph.composite_path || ''}`)) : [el('li', {}, t('common.none'))]));
  $('#d-audit').replaceChildren(...(p.audit.length ? p.audit.map(auditItem) : [el('li', {}, t('common.none'))]));
  const paid = p.status === 'success';
  // Paid, but the customer's session never started (the kiosk stopped waiting for the payment,
  // or the session was interrupted before a photo): staff can start it on the kiosk.
  const notStarted = paid && !p.refunded && p.photos.length === 0;
  if (notStarted) $('#d-fields').append(el('dt', {}, t('det.session')), el('dd', { class: 'warn' }, t('det.not_started')));
  $('#d-start').hidden = !notStarted;
  $('#d-start').onclick = () => leave(p.order_id);
  $('#d-reprint').disabled = !paid;
  $('#reprint-form').elements.copies.placeholder = t('det.copies_ph', { n: p.copies });
  $('#refund-form').hidden = !paid || !!p.comp;
  $('#provider-refund-form').hidden = !paid || !!p.comp;
  $('#refund-confirm').hidden = true;
  showProviderRefund(p.provider_refund);
  $('#detail').scrollIntoView({ block: 'nearest' });
}

// The order's refund through its provider (Click reversal, Payme refund window): what happened
// and what staff do next, as the server words it.
function showProviderRefund(r) {
  const e = $('#refund-status');
  e.dataset.state = r ? `${r.method}:${r.state}${r.window_open ? ':open' : ''}` : '';
  e.textContent = r ? r.instructions : '';
  e.classList.toggle('bad', !!r && (r.state === 'refused' || r.state === 'failed' || (r.state === 'open' && !r.window_open)));
}

function askProviderRefund() {
  const p = state.current;
  const reason = $('#provider-refund-form').elements.reason.value.trim();
  if (reason.length < 3) { toast(t('det.reason_needed'), true); return; }
  const text = p.payment_type === 'click'
    ? t('det.click_confirm', { amount: sum(p.amount), order: p.order_id })
    : t('det.payme_confirm', { hours: (info && info.refund_window_hours) || 24, order: p.order_id, amount: sum(p.amount) });
  $('#refund-confirm-text').textContent = text;
  $('#refund-confirm').hidden = false;
}

async function doProviderRefund() {
  const p = state.current;
  const form = $('#provider-refund-form');
  $('#refund-confirm').hidden = true;
  try {
    const r = await api('POST', `/api/staff/payments/${encodeURIComponent(p.order_id)}/provider-refund`,
      { reason: form.elements.reason.value, confirm: p.order_id });
    form.reset();
    toast(t('det.refund_outcome', { what: word('refund', r.outcome), order: p.order_id }), r.outcome === 'refused' || r.outcome === 'failed');
    await openDetail(p.order_id);
    await loadPayments();
  } catch (x) { toast(x.message, true); }
}

// ------------------------------------------------------------------ reconciliation

async function loadReconcile() {
  const date = $('#reconcile-form').elements.date.value;
  const r = await api('GET', `/api/staff/reconciliation${date ? `?date=${encodeURIComponent(date)}` : ''}`);
  $('#reconcile-form').elements.date.value = r.day;
  $('#r-range').textContent = t('rec.range', { from: localTime(r.from), to: localTime(r.to), offset: r.utc_offset });
  setNum('r-paid', r.paid_orders, String(r.paid_orders));
  $('#r-paid-amount').textContent = sum(r.paid_amount);
  setNum('r-printed', r.printed_orders, String(r.printed_orders));
  setNum('r-fiscal', r.fiscalised_sales, String(r.fiscalised_sales));
  $('#r-tracked').textContent = r.receipts_tracked_for.length
    ? t('rec.tracked', { providers: r.receipts_tracked_for.map((x) => word('provider', x)).join(', ') }) : t('rec.untracked');
  setNum('r-refunds', r.refunds, String(r.refunds));
  $('#r-refund-amount').textContent = sum(r.refunded_amount);
  setNum('r-free', r.free_sessions, String(r.free_sessions));
  $('#r-free-value').textContent = t('rec.free_value', { value: sum(r.free_value) });
  setNum('r-revenue', r.revenue, sum(r.revenue));
  $('#r-kept').textContent = i18n.plural('rec.kept', r.kept_orders);
  const open = (id) => async () => { await show('payments'); await openDetail(id); };
  $('#r-no-exceptions').hidden = r.exceptions.length > 0;
  $('#t-exceptions tbody').replaceChildren(...r.exceptions.map((x) => {
    const tr = el('tr', { 'data-kind': x.kind, 'data-order': x.order_id }, el('td', {}, word('exception', x.kind)), el('td', {}, x.order_id),
      el('td', {}, word('provider', x.provider)), el('td', { 'data-value': String(x.amount) }, sum(x.amount)), el('td', {}, word('status', x.status)),
      el('td', {}, localTime(x.created_at)));
    tr.addEventListener('click', open(x.order_id));
    return tr;
  }));
  $('#t-refunds tbody').replaceChildren(...r.refund_list.map((x) => {
    const tr = el('tr', { 'data-order': x.order_id }, el('td', {}, x.order_id), el('td', {}, word('provider', x.provider)),
      el('td', { 'data-value': String(x.amount) }, sum(x.amount)), el('td', {}, word('how', x.how)));
    tr.addEventListener('click', open(x.order_id));
    return tr;
  }));
}

function auditItem(a) {
  return el('li', { 'data-action': a.action }, t('aud.entry', { time: localTime(a.created_at), action: word('action', a.action), actor: a.actor }),
    a.order_id ? ` · ${a.order_id}` : '', a.reason ? ` · “${a.reason}”` : '', ' ', el('code', {}, a.detail_json || ''));
}

// ------------------------------------------------------------------ comp, export

async function loadComp() {
  const sel = $('#comp-template');
  sel.replaceChildren(...Object.entries(info.pricing.layouts).map(([k, v]) => el('option', { value: k }, `${word('layout', k)} (${sum(v)})`)));
}

function describeFilter() {
  const parts = Object.entries(state.filter).filter(([, v]) => v).map(([k, v]) => `${k}=${v}`);
  return parts.length ? parts.join(', ') : t('exp.all');
}

async function loadExport() {
  $('#export-filter').textContent = describeFilter();
  const r = await api('GET', '/api/staff/export');
  $('#export-target').replaceChildren(...r.targets.map((dir) => el('option', { value: dir }, dir)));
}

// ------------------------------------------------------------------ database

async function loadDatabase() {
  const r = await api('GET', '/api/staff/backups');
  $('#backup-dir').textContent = r.dir;
  $('#t-backups tbody').replaceChildren(...r.backups.map((b) => {
    const btn = el('button', { class: 'danger' }, t('db.restore'));
    btn.addEventListener('click', () => {
      state.restoreName = b.name;
      $('#restore-name').textContent = b.name;
      $('#restore-confirm').hidden = false;
    });
    return el('tr', { 'data-name': b.name }, el('td', {}, b.name), el('td', {}, t('fmt.kib', { n: i18n.int(b.size_bytes / 1024) })),
      el('td', {}, localTime(b.modified_at)), el('td', {}, btn));
  }));
}

// ------------------------------------------------------------------ devices

async function loadDoctor() {
  $('#doctor-summary').textContent = t('doc.checking');
  const r = await api('GET', '/api/staff/doctor');
  $('#doctor-summary').textContent = r.mode !== 'live'
    ? t('doc.sandbox')
    : (r.ready_for_live ? t('doc.ready') : i18n.plural('doc.failing', r.failures));
  $('#doctor-summary').className = `result${r.mode === 'live' && !r.ready_for_live ? ' bad' : ''}`;
  $('#t-doctor tbody').replaceChildren(...r.checks.map((c) => el('tr', {},
    el('td', { class: `st-${c.status}` }, word('check', c.status)),
    el('td', { class: 'key' }, c.money_path ? t('doc.money_path', { key: c.key }) : c.key),
    el('td', {}, c.detail),
    el('td', {}, c.status === 'ok' ? '' : c.fix))));
}

async function loadDevices() {
  const d = await api('GET', '/api/staff/devices');
  const mb = (n) => (typeof n === 'number' ? i18n.mib(n) : word('state', n));
  const reported = (c) => (c && c.state !== 'unknown'
    ? t('dev.reported', { state: `${word('state', c.state)}${c.detail ? `: ${c.detail}` : ''}`, time: localTime(c.reported_at) })
    : t('dev.not_reported'));
  const tn = d.tunnel;
  let tunnel = word('state', tn.state);
  if (tn.public_url) tunnel += ` (${tn.public_url})`;
  if (tn.state !== 'not configured') {
    tunnel += ` · ${tn.last_check_at ? t('dev.last_check', { time: localTime(tn.last_check_at) }) : t('dev.not_checked')}`;
    if (tn.last_error) tunnel += ` · ${tn.last_error}`;
    if (tn.last_ok_at && tn.state !== 'up') tunnel += ` · ${t('dev.last_up', { time: localTime(tn.last_ok_at) })}`;
  }
  const rows = [
    ['dev.camera', reported(d.camera)],
    ['dev.stills', d.camera.still ? `${d.camera.still.width}×${d.camera.still.height}` : t('dev.no_still')],
    ...(d.camera.layouts || []).map((l) => [t('dev.print_res', { layout: l.title }),
      `${t('dev.dpi', { dpi: l.dpi, print: l.print_dpi })}${l.low ? ` ⚠ ${t('dev.dpi_low')}` : ''}`]),
    ['dev.printer', `${word('state', d.printer.state)}${d.printer.reason ? `: ${d.printer.reason}` : ''}${d.printer.printer ? ` (${d.printer.printer})` : ''}`],
    ['dev.printer_reports', reported(d.printer.reported)],
    ...(d.printer.cups ? [
      ['dev.cups_queue', `${word('state', d.printer.cups.state)}${d.printer.cups.accepting ? '' : `, ${t('dev.cups_not_accepting')}`} · ${t('dev.cups_reasons', { reasons: d.printer.cups.reasons.join(', ') || t('dev.none') })}${d.printer.cups.message ? ` · “${d.printer.cups.message}”` : ''}`],
      ['dev.printer_warnings', (d.printer.warnings || []).join(', ') || t('dev.none')],
      ['dev.markers', d.printer.cups.markers.length ? d.printer.cups.markers.map((m) => `${m.name}: ${m.level >= 0 ? `${m.level}%` : t('dev.level_unknown')}`).join(', ') : t('dev.not_reported_by_printer')],
      ['dev.media_loaded', d.printer.cups.media_ready.join(', ') || t('dev.not_reported_by_printer')],
    ] : []),
    ['dev.paper', d.paper.state === 'known' ? t('dev.paper_left', { n: i18n.int(d.paper.available), of: i18n.int(d.paper.roll_size) }) : word('state', 'unknown')],
    ['dev.database', `${mb(d.database.size_bytes)} (${d.database.path})`],
    ['dev.disk', t('dev.disk_free', { free: mb(d.disk.free_bytes), total: mb(d.disk.total_bytes) })],
    ['dev.photos', d.photos ? t('dev.photos_value', { size: mb(d.photos.bytes), orders: i18n.int(d.photos.orders), hours: d.photos.keep_hours }) : '–'],
    ['dev.tunnel', tunnel],
    ['dev.payme_callback', localTime(d.last_callback.payme)],
    ['dev.click_callback', localTime(d.last_callback.click)],
    ['dev.mode', word('mode', d.mode)],
  ];
  $('#t-devices tbody').replaceChildren(...rows.map(([k, v]) => el('tr', {}, el('th', {}, k.startsWith('dev.') ? t(k) : k), el('td', {}, v))));
  // The checklist fetches the public URL (up to 10 s): it fills in on its own.
  loadDoctor().catch((x) => { $('#doctor-summary').textContent = t('doc.unavailable', { error: x.message }); });
  const sup = (await api('GET', '/api/maintenance/tunnel/log')).supervisor;
  $('#tunnel-sup').textContent = sup.enabled
    ? `${sup.running ? t('dev.sup_running', { pid: sup.pid }) : t('dev.sup_stopped')} · ${t('dev.sup_counts', { starts: sup.starts, restarts: sup.restarts })}${sup.last_exit ? ` · ${t('dev.sup_exit', { exit: sup.last_exit })}` : ''}`
    : t('dev.sup_none');
  $('#tunnel-log').textContent = (sup.log || []).join('\n');
  $('#tunnel-log').hidden = !(sup.log || []).length;
  await loadSelfTests();
}

// ------------------------------------------------------------------ self-tests
// Test print (followed by the server until the printer finishes it: polled here), camera test
// (this page takes the still, the server reads its size), payment path (the public URL's round
// trip). Results come from the server with its own wording of the detail.

const ST_KINDS = ['print', 'camera', 'payment_path'];
let stPoll = null;
let cameraRotate = 0;

async function loadSelfTests() {
  clearTimeout(stPoll);
  const r = await api('GET', '/api/staff/selftest');
  cameraRotate = r.camera_rotate || 0;
  const by = Object.fromEntries(r.tests.map((x) => [x.kind, x]));
  $('#t-selftest tbody').replaceChildren(...ST_KINDS.map((k) => {
    const x = by[k];
    const st = x ? x.state : 'none';
    const when = !x ? '' : x.finished_at
      ? t('st.when', { time: localTime(x.finished_at), secs: i18n.dec((x.duration_ms || 0) / 1000, 1) })
      : t('st.since', { time: localTime(x.started_at) });
    return el('tr', { 'data-kind': k, 'data-state': st },
      el('td', { class: 'key' }, t(`st.kind.${k}`)),
      el('td', { class: `st-${st}` }, word('st', st)),
      el('td', {}, x ? x.summary : ''),
      el('td', {}, when));
  }));
  for (const b of $$('#st-buttons [data-kind]')) b.disabled = !!(by[b.dataset.kind] && by[b.dataset.kind].state === 'running');
  if (r.tests.some((x) => x.state === 'running') && document.body.dataset.page === 'devices') {
    stPoll = setTimeout(() => loadSelfTests().catch(() => {}), 1000);
  }
}

async function cameraTest() {
  const cam = await import('./camera.js');
  const video = $('#st-video');
  const t0 = performance.now();
  let blob;
  try {
    await cam.start(video, 1, 0);
    blob = await cam.capture(video, cameraRotate);
  } catch (e) {
    const error = e && e.name ? `${e.name}: ${e.message}` : String(e);
    await api('POST', '/api/staff/selftest/camera/failure', { error, ms: Math.round(performance.now() - t0) });
    return;
  } finally {
    cam.stop();
    video.srcObject = null;
  }
  const ms = Math.round(performance.now() - t0);
  const r = await api('POST', `/api/staff/selftest/camera?ms=${ms}`, blob);
  const img = $('#st-still-img');
  if (img.src) URL.revokeObjectURL(img.src);
  img.src = URL.createObjectURL(blob);
  $('#st-still-size').textContent = t('st.still_size', { width: r.test.detail.width, height: r.test.detail.height, ms });
  $('#st-still').hidden = false;
}

async function runSelfTest(kind) {
  if (kind === 'print') await api('POST', '/api/staff/selftest/print');
  else if (kind === 'camera') await cameraTest();
  else await api('POST', '/api/staff/selftest/payment-path');
}

async function runSelfTests(kinds) {
  for (const b of $$('#st-buttons button')) b.disabled = true;
  try {
    for (const k of kinds) {
      try { await runSelfTest(k); } catch (x) { toast(x.message, true); }
      await loadSelfTests();
    }
  } finally {
    $('#st-all').disabled = false;
    // The camera and printer rows above follow what the tests found.
    await loadDevices().catch(() => {});
  }
}

// ------------------------------------------------------------------ alerts

function alertState(a) {
  if (a.resolved_at) return t('al.resolved', { time: localTime(a.resolved_at) });
  if (a.acknowledged_at) return t('al.acknowledged', { time: localTime(a.acknowledged_at) });
  return t('al.open');
}

function showAlertCount(open) {
  const n = Object.values(open || {}).reduce((x, y) => x + y, 0);
  setNum('alerts-count', n, n ? String(n) : '');
}

async function refreshAlertCount() {
  try { showAlertCount((await api('GET', '/api/staff/alerts?limit=1')).open); } catch { /* shown on the page */ }
}

async function loadAlerts() {
  const all = $('#alerts-all').checked;
  const r = await api('GET', `/api/staff/alerts?limit=200${all ? '&all=1' : ''}`);
  showAlertCount(r.open);
  $('#alerts-empty').hidden = r.alerts.length > 0;
  $('#t-alerts tbody').replaceChildren(...r.alerts.map((a) => {
    const open = !a.resolved_at && !a.acknowledged_at;
    const cell = el('td', {});
    if (open) {
      const btn = el('button', { class: 'ok' }, t('al.ack'));
      btn.addEventListener('click', async (e) => {
        e.stopPropagation();
        btn.disabled = true;
        try { await api('POST', `/api/staff/alerts/${a.id}/ack`); toast(t('al.acked')); await loadAlerts(); } catch (x) { btn.disabled = false; toast(x.message, true); }
      });
      cell.append(btn);
    }
    return el('tr', { 'data-id': String(a.id), 'data-kind': a.kind, class: `sev-${a.severity}${open ? '' : ' closed'}` },
      el('td', {}, localTime(a.last_at)), el('td', {}, word('severity', a.severity)), el('td', {}, a.kind), el('td', {}, a.message),
      el('td', {}, a.occurrences), el('td', {}, alertState(a)), cell);
  }));
}

// ------------------------------------------------------------------ settings, audit

async function loadSettings() {
  const s = await api('GET', '/api/settings');
  $('#price-fields').replaceChildren(...Object.entries(s.layouts).map(([k, v]) =>
    el('label', {}, `${word('layout', k)} `, el('input', { name: `layout:${k}`, type: 'number', min: '0', step: '1', value: String(v) }))));
  $('#prices-form').elements.extra_copy.value = s.extra_copy;
  const h = await api('GET', '/api/staff/settings/history');
  $('#price-history').replaceChildren(...h.history.map((r) =>
    el('li', {}, t('set.history_entry', { time: localTime(r.created_at), actor: r.actor, layouts: r.layouts_json, extra: sum(r.extra_copy) }))));
  await loadSound();
}

async function loadAudit() {
  const a = await api('GET', '/api/staff/audit?limit=100');
  $('#audit-list').replaceChildren(...a.entries.map(auditItem));
  const at = await api('GET', '/api/staff/attempts?limit=50');
  $('#attempt-list').replaceChildren(...at.attempts.map((x) => el('li', { 'data-outcome': x.outcome }, `${localTime(x.created_at)} ${word('outcome', x.outcome)} (${word('client', x.client)})`)));
}

// ------------------------------------------------------------------ wiring

function wire() {
  for (const ev of ['pointerdown', 'keydown', 'input']) document.addEventListener(ev, () => { lastTouch = Date.now(); }, { capture: true });
  setInterval(() => {
    const idleMs = Date.now() - lastTouch;
    if (!$('#panel').hidden && session) {
      const left = session.idle - Math.floor(idleMs / 1000);
      $('#idle').textContent = left <= 30 ? t('nav.closing', { s: left }) : '';
      if (left <= 0) leave();
    } else if (!$('#pad').hidden && idleMs > PAD_IDLE_MS) {
      leave();
    }
  }, 1000);

  $('#keys').addEventListener('click', (e) => { const b = e.target.closest('button'); if (b) onKey(b.dataset.k); });
  document.addEventListener('keydown', (e) => {
    if ($('#pad').hidden || e.target === $('#token')) return;
    if (/^[0-9]$/.test(e.key)) onKey(e.key);
    else if (e.key === 'Backspace') onKey('clear');
    else if (e.key === 'Enter') onKey('ok');
  });
  $('#pad-cancel').addEventListener('click', leave);
  $('#close').addEventListener('click', leave);
  $('#tabs').addEventListener('click', (e) => { const b = e.target.closest('[data-page]'); if (b) show(b.dataset.page); });

  let exitArmed = false;
  $('#exit-kiosk').addEventListener('click', async () => {
    if (!exitArmed) {
      exitArmed = true;
      $('#exit-kiosk').dataset.i18n = 'nav.exit_again';
      $('#exit-kiosk').textContent = t('nav.exit_again');
      setTimeout(() => { exitArmed = false; $('#exit-kiosk').dataset.i18n = 'nav.exit'; $('#exit-kiosk').textContent = t('nav.exit'); }, 5000);
      return;
    }
    try {
      await api('POST', '/api/staff/exit');
      if (isTauri) await tauri.core.invoke('exit_kiosk', { token: session.token });
      else toast(t('nav.exit_browser'));
    } catch (e) { toast(e.message || String(e), true); }
  });

  $('#filters').addEventListener('submit', (e) => { e.preventDefault(); readFilters(); $('#detail').hidden = true; loadPayments().catch((x) => toast(x.message, true)); });
  $('#filters').addEventListener('reset', () => { setTimeout(() => { readFilters(); loadPayments().catch((x) => toast(x.message, true)); }, 0); });
  $('#prev').addEventListener('click', () => { state.offset = Math.max(0, state.offset - PAGE_SIZE); loadPayments(); });
  $('#next').addEventListener('click', () => { state.offset += PAGE_SIZE; loadPayments(); });
  $('#d-close').addEventListener('click', () => { $('#detail').hidden = true; });
  $('#reprint-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = e.target.elements;
    const body = { reason: f.reason.value };
    if (f.copies.value) body.copies = Number(f.copies.value);
    try {
      const r = await api('POST', `/api/staff/payments/${encodeURIComponent(state.current.order_id)}/reprint`, body);
      e.target.reset();
      toast(i18n.plural('det.reprinted', r.print.copies, { order: r.payment.order_id }));
      await openDetail(state.current.order_id);
    } catch (x) { toast(x.message, true); }
  });
  $('#alerts-all').addEventListener('change', () => { loadAlerts().catch((x) => toast(x.message, true)); });
  $('#refund-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const reason = e.target.elements.reason.value;
    try {
      await api('POST', `/api/staff/payments/${encodeURIComponent(state.current.order_id)}/refund`, { reason });
      e.target.reset();
      toast(t('det.by_hand_done', { order: state.current.order_id }));
      await openDetail(state.current.order_id);
      await loadPayments();
    } catch (x) { toast(x.message, true); }
  });

  $('#provider-refund-form').addEventListener('submit', (e) => { e.preventDefault(); askProviderRefund(); });
  $('#refund-no').addEventListener('click', () => { $('#refund-confirm').hidden = true; });
  $('#refund-yes').addEventListener('click', doProviderRefund);
  $('#reconcile-form').addEventListener('submit', (e) => { e.preventDefault(); loadReconcile().catch((x) => toast(x.message, true)); });

  $('#comp-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = e.target.elements;
    try {
      const r = await api('POST', '/api/staff/comp', { template: f.template.value, copies: Number(f.copies.value), reason: f.reason.value });
      result('#comp-result', t('comp.created', { order: r.payment.order_id }));
      $('#comp-result').dataset.order = r.payment.order_id;
      const start = $('#comp-start');
      start.hidden = false;
      start.onclick = () => leave(r.payment.order_id);
      e.target.elements.reason.value = '';
    } catch (x) { result('#comp-result', x.message, true); }
  });

  $('#export-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const dir = $('#export-dir').value.trim() || $('#export-target').value;
    try {
      const r = await api('POST', '/api/staff/export', { dir, filter: Object.fromEntries(filterQuery()) });
      result('#export-result', i18n.plural('exp.done', r.rows, { path: r.path }));
      $('#export-result').dataset.path = r.path;
    } catch (x) { result('#export-result', x.message, true); }
  });

  $('#st-all').addEventListener('click', () => runSelfTests(ST_KINDS));
  for (const b of $$('#st-buttons [data-kind]')) b.addEventListener('click', () => runSelfTests([b.dataset.kind]));
  $('#vacuum').addEventListener('click', async () => {
    const b = $('#vacuum');
    b.disabled = true;
    try {
      const r = await api('POST', '/api/maintenance/vacuum');
      result('#vacuum-result', t('dev.vacuumed', { before: i18n.mib(r.bytes_before), after: i18n.mib(r.bytes_after) }));
    } catch (x) { result('#vacuum-result', x.message, true); } finally { b.disabled = false; }
  });

  $('#backup-now').addEventListener('click', async () => {
    try {
      const r = await api('POST', '/api/staff/backups');
      result('#db-result', t('db.written', { name: r.name }));
      $('#db-result').dataset.name = r.name;
      await loadDatabase();
    } catch (x) { result('#db-result', x.message, true); }
  });
  $('#restore-no').addEventListener('click', () => { $('#restore-confirm').hidden = true; });
  $('#restore-yes').addEventListener('click', async () => {
    const name = state.restoreName;
    $('#restore-confirm').hidden = true;
    try {
      const force = $('#restore-force').checked;
      $('#restore-force').checked = false;
      const r = await api('POST', `/api/staff/backups/${encodeURIComponent(name)}/restore`, { confirm: name, force });
      result('#db-result', t('db.restored', { name: r.restored, safety: r.safety_backup }));
      await loadDatabase();
    } catch (x) { result('#db-result', x.message, true); }
  });
  $('#clear-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const r = await api('POST', '/api/staff/clear', { confirm: e.target.elements.confirm.value.trim(), force: e.target.elements.force.checked });
      e.target.reset();
      result('#db-result', i18n.plural('db.cleared', r.cleared, { backup: r.backup }));
      await loadDatabase();
    } catch (x) { result('#db-result', x.message, true); }
  });

  $('#paper-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const v = e.target.elements.roll_size.value;
    try { await api('POST', '/api/staff/paper/reset', v ? { roll_size: Number(v) } : {}); toast(t('dev.paper_done')); await loadDevices(); } catch (x) { toast(x.message, true); }
  });

  $('#prices-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const layouts = {};
    for (const input of e.target.querySelectorAll('[name^="layout:"]')) layouts[input.name.slice(7)] = input.value === '' ? null : Number(input.value);
    const extra = e.target.elements.extra_copy.value;
    try {
      const s = await api('PUT', '/api/settings', { layouts, extra_copy: extra === '' ? null : Number(extra) });
      info.pricing = s;
      result('#prices-result', t('set.saved'));
      await loadSettings();
    } catch (x) { result('#prices-result', x.message, true); }
  });
  wireSound({ api, result });
  $('#pin-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    try { await api('POST', '/api/staff/pin', { new_pin: e.target.elements.new_pin.value }); e.target.reset(); result('#pin-result', t('set.pin_changed')); } catch (x) { result('#pin-result', x.message, true); }
  });
}

/** Switch the language; staff's own pick (remember) is kept on this device. */
function setLang(code, remember) {
  i18n.setLang(code, remember);
  if (remember && !$('#pad').hidden) { $('#pad-error').textContent = ''; refreshPad(); }
  // What the current page rendered from data (tables, sums, dates) is rendered again.
  if (!$('#panel').hidden && session && document.body.dataset.page) {
    show(document.body.dataset.page);
    if (state.current && !$('#detail').hidden) openDetail(state.current.order_id).catch(() => {});
  }
}

async function boot() {
  setLang(i18n.storedLang() || i18n.DEFAULT_LANG, false);
  for (const b of $$('[data-lang]')) b.addEventListener('click', () => setLang(b.dataset.lang, true));
  if (isTauri) {
    try { API = (await tauri.core.invoke('kiosk_info')).api_url || ''; } catch { API = ''; }
  }
  wire();
  showPad();
}

boot();
