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
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(API + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  let data = null;
  try { data = await r.json(); } catch { /* empty */ }
  if (!r.ok) {
    if (r.status === 401 && session && !bearer) { sessionEnded(); }
    throw new HttpError(r.status, data);
  }
  return data;
}

// ------------------------------------------------------------------ formatting

const sum = (n) => `${Math.round(Number(n) || 0).toLocaleString('en-US').replace(/,/g, ' ')} sum`;
function localTime(iso) {
  if (!iso) return '–';
  const off = (info && info.utc_offset_minutes) || 0;
  return new Date(Date.parse(iso) + off * 60_000).toISOString().slice(0, 16).replace('T', ' ');
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
  const t = $('#toast');
  t.textContent = msg;
  t.classList.toggle('bad', bad);
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, 6000);
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
  $('#pad-msg').textContent = msg || 'Enter the staff PIN';
  $('#pad-error').textContent = '';
  refreshPad();
}

async function refreshPad() {
  try {
    const p = await api('GET', '/api/staff/pad');
    if (p.locked_until) lockPad(p.locked_until);
    else if (!p.pin_set) $('#pad-error').textContent = 'No staff PIN is set: run `fotobox staff set-pin`.';
  } catch { /* offline: the login will say */ }
}

function renderDots() { $('#pin-dots').textContent = '•'.repeat(pin.length); }

function lockPad(untilIso) {
  const until = Date.parse(untilIso);
  $$('#keys button').forEach((b) => { b.disabled = true; });
  clearInterval(lockTimer);
  const tick = () => {
    const left = Math.max(0, Math.ceil((until - Date.now()) / 1000));
    $('#pad-error').textContent = `Too many wrong PINs. Locked for ${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`;
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
    if (!bearer) { $('#pad-error').textContent = 'In a browser the staff token is needed too.'; return; }
  }
  try {
    const login = await api('POST', '/api/staff/login', body, bearer || 'none');
    if (!isTauri) sessionStorage.setItem('fotobox.staffToken', bearer);
    session = { token: login.token, idle: login.idle_timeout_seconds };
    await openPanel();
  } catch (e) {
    if (e.status === 423) lockPad(e.body.locked_until);
    else if (e.status === 401 && e.body.attempts_left !== undefined) $('#pad-error').textContent = `Wrong PIN. ${e.body.attempts_left} attempts left.`;
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
  showPad('The session ended. Enter the PIN again.');
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
      scales: { y: { beginAtZero: true } } },
  });
}

async function loadDashboard() {
  const s = await api('GET', '/api/staff/stats');
  setNum('k-today-revenue', s.today.revenue, sum(s.today.revenue));
  setNum('k-today-count', s.today.success_payments, `${s.today.success_payments} paid of ${s.today.payments}`);
  setNum('k-7-revenue', s.last_7_days.revenue, sum(s.last_7_days.revenue));
  setNum('k-7-count', s.last_7_days.success_payments, `${s.last_7_days.success_payments} paid of ${s.last_7_days.payments}`);
  setNum('k-30-revenue', s.last_30_days.revenue, sum(s.last_30_days.revenue));
  setNum('k-30-count', s.last_30_days.success_payments, `${s.last_30_days.success_payments} paid of ${s.last_30_days.payments}`);
  setNum('k-total-revenue', s.total_revenue, sum(s.total_revenue));
  setNum('k-total-count', s.success_payments, `${s.success_payments} paid of ${s.total_payments}`);
  setNum('k-rate', s.success_rate, `${(s.success_rate * 100).toFixed(1)}%`);
  $('#k-ended').textContent = `${s.canceled_payments} canceled, ${s.pending_payments} waiting`;
  setNum('k-refunds', s.refunded_payments, `${s.refunded_payments} · ${sum(s.refunded_amount)}`);
  setNum('k-comps', s.comp_sessions, `${s.comp_sessions} free sessions (${sum(s.comp_value)} value)`);

  // 30 UTC days ending today, days without sales as 0.
  const byDay = new Map(s.per_day.map((d) => [d.day, d.revenue]));
  const days = [];
  const today = new Date();
  for (let i = 29; i >= 0; i--) {
    const d = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - i));
    days.push(d.toISOString().slice(0, 10));
  }
  drawChart('chart-days', 'bar', days.map((d) => d.slice(5)), days.map((d) => byDay.get(d) || 0), 'revenue');
  // Hours shifted from UTC to kiosk time (whole hours of the configured offset).
  const shift = Math.round(((info && info.utc_offset_minutes) || 0) / 60);
  const hours = new Array(24).fill(0);
  for (const h of s.per_hour) hours[(((h.hour_utc + shift) % 24) + 24) % 24] += h.success_payments;
  drawChart('chart-hours', 'bar', hours.map((_, i) => String(i).padStart(2, '0')), hours, 'sessions');

  const fill = (sel, rows, key) => {
    const tb = $(`${sel} tbody`);
    tb.replaceChildren(...rows.map((r) => el('tr', { 'data-key': String(r[key] ?? 'none') },
      el('td', {}, r[key] ?? '(amount)'), el('td', {}, r.payments), el('td', {}, r.success_payments),
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
    const flags = [p.comp ? 'free' : '', p.refunded ? 'refunded' : ''].filter(Boolean).join(' ');
    const tr = el('tr', { 'data-order': p.order_id, class: `st-${p.status}` },
      el('td', {}, p.order_id), el('td', {}, localTime(p.created_at)),
      el('td', { 'data-value': String(p.amount) }, sum(p.amount)), el('td', {}, p.payment_type),
      el('td', {}, p.status), el('td', {}, p.template_name || '–'), el('td', {}, p.copies), el('td', { class: 'flags' }, flags));
    tr.addEventListener('click', () => openDetail(p.order_id));
    return tr;
  }));
  const first = r.total ? state.offset + 1 : 0;
  $('#page-info').textContent = `${first}–${state.offset + r.payments.length} of ${r.total}`;
  $('#prev').disabled = state.offset === 0;
  $('#next').disabled = state.offset + PAGE_SIZE >= r.total;
}

async function openDetail(id) {
  const p = await api('GET', `/api/staff/payments/${encodeURIComponent(id)}`);
  state.current = p;
  $('#detail').hidden = false;
  $('#d-order').textContent = p.order_id;
  const fields = [
    ['Status', p.refunded ? 'refunded (canceled)' : p.status], ['Amount', sum(p.amount)], ['Provider', p.payment_type],
    ['Transaction', p.transaction_id || '–'], ['Layout', p.template_name || '–'], ['Copies', p.copies],
    ['Created', localTime(p.created_at)], ['Paid', localTime(p.perform_time)], ['Canceled', localTime(p.cancel_time)],
    ['Cancel reason', p.cancel_reason || '–'], ['Free session', p.comp ? `yes: ${p.comp.reason}` : 'no'],
  ];
  $('#d-fields').replaceChildren(...fields.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
  $('#d-events').replaceChildren(...p.events.map((e) => el('li', {}, `${localTime(e.created_at)} ${e.source} ${e.kind} `, el('code', {}, e.detail_json || ''))));
  $('#d-photos').replaceChildren(...(p.photos.length ? p.photos.map((ph) => el('li', {}, `#${ph.id} ${ph.template_name} ×${ph.copy_count} ${ph.composite_path || ''}`)) : [el('li', {}, 'none')]));
  $('#d-audit').replaceChildren(...(p.audit.length ? p.audit.map(auditItem) : [el('li', {}, 'none')]));
  const paid = p.status === 'success';
  // Paid, but the customer's session never started (the kiosk stopped waiting for the payment,
  // or the session was interrupted before a photo): staff can start it on the kiosk.
  const notStarted = paid && !p.refunded && p.photos.length === 0;
  if (notStarted) $('#d-fields').append(el('dt', {}, 'Session'), el('dd', { class: 'warn' }, 'paid, not started'));
  $('#d-start').hidden = !notStarted;
  $('#d-start').onclick = () => leave(p.order_id);
  $('#d-reprint').disabled = !paid;
  $('#reprint-form').elements.copies.placeholder = `copies (${p.copies})`;
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
  if (reason.length < 3) { toast('A reason of 3 to 500 characters is required', true); return; }
  const text = p.payment_type === 'click'
    ? `Return ${sum(p.amount)} to the customer through Click now (a reversal of order ${p.order_id})? This cannot be undone.`
    : `Open a ${(info && info.refund_window_hours) || 24}-hour refund window for order ${p.order_id} (${sum(p.amount)})? Then cancel the transaction in the Payme Business cabinet: the kiosk accepts Payme's cancel while the window is open.`;
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
    const said = { reversed: 'Refunded through Click', refused: 'Click refused the reversal', failed: 'No answer from Click', window_open: 'Payme refund window open' };
    toast(`${said[r.outcome] || r.outcome}: order ${p.order_id}`, r.outcome === 'refused' || r.outcome === 'failed');
    await openDetail(p.order_id);
    await loadPayments();
  } catch (x) { toast(x.message, true); }
}

// ------------------------------------------------------------------ reconciliation

async function loadReconcile() {
  const date = $('#reconcile-form').elements.date.value;
  const r = await api('GET', `/api/staff/reconciliation${date ? `?date=${encodeURIComponent(date)}` : ''}`);
  $('#reconcile-form').elements.date.value = r.day;
  $('#r-range').textContent = `Orders created ${localTime(r.from)} to ${localTime(r.to)} (kiosk time, UTC offset ${r.utc_offset}).`;
  setNum('r-paid', r.paid_orders, String(r.paid_orders));
  $('#r-paid-amount').textContent = sum(r.paid_amount);
  setNum('r-printed', r.printed_orders, String(r.printed_orders));
  setNum('r-fiscal', r.fiscalised_sales, String(r.fiscalised_sales));
  $('#r-tracked').textContent = r.receipts_tracked_for.length ? `receipts recorded for ${r.receipts_tracked_for.join(', ')} only` : 'no receipts are recorded';
  setNum('r-refunds', r.refunds, String(r.refunds));
  $('#r-refund-amount').textContent = sum(r.refunded_amount);
  setNum('r-free', r.free_sessions, String(r.free_sessions));
  $('#r-free-value').textContent = `${sum(r.free_value)} value`;
  setNum('r-revenue', r.revenue, sum(r.revenue));
  $('#r-kept').textContent = `${r.kept_orders} orders still paid`;
  const what = { paid_not_printed: 'Paid, not printed', printed_not_paid: 'Printed, not paid', paid_without_receipt: 'Paid, no fiscal receipt', refunded_without_provider: 'Refunded by hand, no provider cancel' };
  const open = (id) => async () => { await show('payments'); await openDetail(id); };
  $('#r-no-exceptions').hidden = r.exceptions.length > 0;
  $('#t-exceptions tbody').replaceChildren(...r.exceptions.map((x) => {
    const tr = el('tr', { 'data-kind': x.kind, 'data-order': x.order_id }, el('td', {}, what[x.kind] || x.kind), el('td', {}, x.order_id),
      el('td', {}, x.provider), el('td', { 'data-value': String(x.amount) }, sum(x.amount)), el('td', {}, x.status), el('td', {}, localTime(x.created_at)));
    tr.addEventListener('click', open(x.order_id));
    return tr;
  }));
  const how = { click_reversal: 'Click reversal', payme_cancel: 'Payme cancel', by_hand: 'by hand' };
  $('#t-refunds tbody').replaceChildren(...r.refund_list.map((x) => {
    const tr = el('tr', { 'data-order': x.order_id }, el('td', {}, x.order_id), el('td', {}, x.provider),
      el('td', { 'data-value': String(x.amount) }, sum(x.amount)), el('td', {}, how[x.how] || x.how));
    tr.addEventListener('click', open(x.order_id));
    return tr;
  }));
}

function auditItem(a) {
  return el('li', { 'data-action': a.action }, `${localTime(a.created_at)} ${a.action} by ${a.actor}`,
    a.order_id ? ` · ${a.order_id}` : '', a.reason ? ` · “${a.reason}”` : '', ' ', el('code', {}, a.detail_json || ''));
}

// ------------------------------------------------------------------ comp, export

async function loadComp() {
  const sel = $('#comp-template');
  sel.replaceChildren(...Object.entries(info.pricing.layouts).map(([k, v]) => el('option', { value: k }, `${k} (${sum(v)})`)));
}

function describeFilter() {
  const parts = Object.entries(state.filter).filter(([, v]) => v).map(([k, v]) => `${k}=${v}`);
  return parts.length ? parts.join(', ') : 'all payments';
}

async function loadExport() {
  $('#export-filter').textContent = describeFilter();
  const r = await api('GET', '/api/staff/export');
  $('#export-target').replaceChildren(...r.targets.map((t) => el('option', { value: t }, t)));
}

// ------------------------------------------------------------------ database

async function loadDatabase() {
  const r = await api('GET', '/api/staff/backups');
  $('#backup-dir').textContent = r.dir;
  $('#t-backups tbody').replaceChildren(...r.backups.map((b) => {
    const btn = el('button', { class: 'danger' }, 'Restore…');
    btn.addEventListener('click', () => {
      state.restoreName = b.name;
      $('#restore-name').textContent = b.name;
      $('#restore-confirm').hidden = false;
    });
    return el('tr', { 'data-name': b.name }, el('td', {}, b.name), el('td', {}, `${(b.size_bytes / 1024).toFixed(0)} KiB`),
      el('td', {}, localTime(b.modified_at)), el('td', {}, btn));
  }));
}

// ------------------------------------------------------------------ devices

async function loadDoctor() {
  $('#doctor-summary').textContent = 'Checking…';
  const r = await api('GET', '/api/staff/doctor');
  $('#doctor-summary').textContent = r.mode !== 'live'
    ? 'Sandbox mode: nothing fails here; fix what is missing before switching to live.'
    : (r.ready_for_live ? 'Live: ready to take real money.' : `Live: ${r.failures} money-path check(s) fail.`);
  $('#doctor-summary').className = `result${r.mode === 'live' && !r.ready_for_live ? ' bad' : ''}`;
  $('#t-doctor tbody').replaceChildren(...r.checks.map((c) => el('tr', {},
    el('td', { class: `st-${c.status}` }, c.status),
    el('td', { class: 'key' }, `${c.key}${c.money_path ? ' (money path)' : ''}`),
    el('td', {}, c.detail),
    el('td', {}, c.status === 'ok' ? '' : c.fix))));
}

async function loadDevices() {
  const d = await api('GET', '/api/staff/devices');
  const mb = (n) => (typeof n === 'number' ? `${(n / 1048576).toFixed(1)} MiB` : n);
  const reported = (c) => (c && c.state !== 'unknown'
    ? `${c.state}${c.detail ? `: ${c.detail}` : ''} (reported ${localTime(c.reported_at)})`
    : 'unknown (not reported yet)');
  const t = d.tunnel;
  let tunnel = t.state;
  if (t.public_url) tunnel += ` (${t.public_url})`;
  if (t.state !== 'not configured') {
    tunnel += t.last_check_at ? ` · last check ${localTime(t.last_check_at)}` : ' · not checked yet';
    if (t.last_error) tunnel += ` · ${t.last_error}`;
    if (t.last_ok_at && t.state !== 'up') tunnel += ` · last up ${localTime(t.last_ok_at)}`;
  }
  const rows = [
    ['Camera', reported(d.camera)],
    ['Camera stills', d.camera.still ? `${d.camera.still.width}×${d.camera.still.height}` : 'no shot taken since the kiosk started'],
    ...(d.camera.layouts || []).map((l) => [`Print resolution: ${l.title}`,
      `${l.dpi} dpi in its smallest photo slot (prints at ${l.print_dpi})${l.low ? ' ⚠ under 200 dpi: prints will look soft; use a camera with more pixels or mount it in portrait (camera.rotate)' : ''}`]),
    ['Printer', `${d.printer.state}${d.printer.reason ? `: ${d.printer.reason}` : ''}${d.printer.printer ? ` (${d.printer.printer})` : ''}`],
    ['Printer reports', reported(d.printer.reported)],
    ['Paper left', d.paper.state === 'known' ? `${d.paper.available} of ${d.paper.roll_size}` : 'unknown'],
    ['Database', `${mb(d.database.size_bytes)} (${d.database.path})`],
    ['Free disk', `${mb(d.disk.free_bytes)} of ${mb(d.disk.total_bytes)}`],
    ['Customers\' photos', d.photos ? `${mb(d.photos.bytes)} in ${d.photos.orders} orders (deleted ${d.photos.keep_hours} h after printing)` : '–'],
    ['Tunnel', tunnel],
    ['Last Payme callback', localTime(d.last_callback.payme)],
    ['Last Click callback', localTime(d.last_callback.click)],
    ['Mode', d.mode],
  ];
  $('#t-devices tbody').replaceChildren(...rows.map(([k, v]) => el('tr', {}, el('th', {}, k), el('td', {}, v))));
  // The checklist fetches the public URL (up to 10 s): it fills in on its own.
  loadDoctor().catch((x) => { $('#doctor-summary').textContent = `Checklist unavailable: ${x.message}`; });
  const sup = (await api('GET', '/api/maintenance/tunnel/log')).supervisor;
  $('#tunnel-sup').textContent = sup.enabled
    ? `${sup.running ? `running (pid ${sup.pid})` : 'not running'} · ${sup.starts} starts, ${sup.restarts} restarts${sup.last_exit ? ` · last exit: ${sup.last_exit}` : ''}`
    : 'Not managed by the kiosk (tunnel.command is empty); only the public URL is checked.';
  $('#tunnel-log').textContent = (sup.log || []).join('\n');
  $('#tunnel-log').hidden = !(sup.log || []).length;
}

// ------------------------------------------------------------------ alerts

function alertState(a) {
  if (a.resolved_at) return `resolved ${localTime(a.resolved_at)}`;
  if (a.acknowledged_at) return `acknowledged ${localTime(a.acknowledged_at)}`;
  return 'open';
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
      const btn = el('button', { class: 'ok' }, 'Acknowledge');
      btn.addEventListener('click', async (e) => {
        e.stopPropagation();
        btn.disabled = true;
        try { await api('POST', `/api/staff/alerts/${a.id}/ack`); toast('Alert acknowledged'); await loadAlerts(); } catch (x) { btn.disabled = false; toast(x.message, true); }
      });
      cell.append(btn);
    }
    return el('tr', { 'data-id': String(a.id), 'data-kind': a.kind, class: `sev-${a.severity}${open ? '' : ' closed'}` },
      el('td', {}, localTime(a.last_at)), el('td', {}, a.severity), el('td', {}, a.kind), el('td', {}, a.message),
      el('td', {}, a.occurrences), el('td', {}, alertState(a)), cell);
  }));
}

// ------------------------------------------------------------------ settings, audit

async function loadSettings() {
  const s = await api('GET', '/api/settings');
  $('#price-fields').replaceChildren(...Object.entries(s.layouts).map(([k, v]) =>
    el('label', {}, `${k} `, el('input', { name: `layout:${k}`, type: 'number', min: '0', step: '1', value: String(v) }))));
  $('#prices-form').elements.extra_copy.value = s.extra_copy;
  const h = await api('GET', '/api/staff/settings/history');
  $('#price-history').replaceChildren(...h.history.map((r) =>
    el('li', {}, `${localTime(r.created_at)} by ${r.actor}: ${r.layouts_json}, extra copy ${r.extra_copy}`)));
  await loadSound();
}

async function loadAudit() {
  const a = await api('GET', '/api/staff/audit?limit=100');
  $('#audit-list').replaceChildren(...a.entries.map(auditItem));
  const t = await api('GET', '/api/staff/attempts?limit=50');
  $('#attempt-list').replaceChildren(...t.attempts.map((x) => el('li', { 'data-outcome': x.outcome }, `${localTime(x.created_at)} ${x.outcome} (${x.client})`)));
}

// ------------------------------------------------------------------ wiring

function wire() {
  for (const ev of ['pointerdown', 'keydown', 'input']) document.addEventListener(ev, () => { lastTouch = Date.now(); }, { capture: true });
  setInterval(() => {
    const idleMs = Date.now() - lastTouch;
    if (!$('#panel').hidden && session) {
      const left = session.idle - Math.floor(idleMs / 1000);
      $('#idle').textContent = left <= 30 ? `closing in ${left}s` : '';
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
      $('#exit-kiosk').textContent = 'Tap again to exit';
      setTimeout(() => { exitArmed = false; $('#exit-kiosk').textContent = 'Exit kiosk'; }, 5000);
      return;
    }
    try {
      await api('POST', '/api/staff/exit');
      if (isTauri) await tauri.core.invoke('exit_kiosk', { token: session.token });
      else toast('Recorded. Exiting works in the kiosk window; close this browser tab yourself.');
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
      toast(`Reprint queued: ${r.print.copies} ${r.print.copies === 1 ? 'copy' : 'copies'} of order ${r.payment.order_id}`);
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
      toast(`Order ${state.current.order_id} marked refunded by hand`);
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
      result('#comp-result', `Free session created: order ${r.payment.order_id}`);
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
      result('#export-result', `Exported ${r.rows} payments to ${r.path}`);
    } catch (x) { result('#export-result', x.message, true); }
  });

  $('#vacuum').addEventListener('click', async () => {
    const b = $('#vacuum');
    b.disabled = true;
    try {
      const r = await api('POST', '/api/maintenance/vacuum');
      result('#vacuum-result', `Compacted: ${(r.bytes_before / 1048576).toFixed(1)} MiB → ${(r.bytes_after / 1048576).toFixed(1)} MiB`);
    } catch (x) { result('#vacuum-result', x.message, true); } finally { b.disabled = false; }
  });

  $('#backup-now').addEventListener('click', async () => {
    try { const r = await api('POST', '/api/staff/backups'); result('#db-result', `Backup written: ${r.name}`); await loadDatabase(); } catch (x) { result('#db-result', x.message, true); }
  });
  $('#restore-no').addEventListener('click', () => { $('#restore-confirm').hidden = true; });
  $('#restore-yes').addEventListener('click', async () => {
    const name = state.restoreName;
    $('#restore-confirm').hidden = true;
    try {
      const force = $('#restore-force').checked;
      $('#restore-force').checked = false;
      const r = await api('POST', `/api/staff/backups/${encodeURIComponent(name)}/restore`, { confirm: name, force });
      result('#db-result', `Restored ${r.restored}. The previous state was saved as ${r.safety_backup}.`);
      await loadDatabase();
    } catch (x) { result('#db-result', x.message, true); }
  });
  $('#clear-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const r = await api('POST', '/api/staff/clear', { confirm: e.target.elements.confirm.value.trim(), force: e.target.elements.force.checked });
      e.target.reset();
      result('#db-result', `Cleared ${r.cleared} payments. Backup first: ${r.backup}`);
      await loadDatabase();
    } catch (x) { result('#db-result', x.message, true); }
  });

  $('#paper-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const v = e.target.elements.roll_size.value;
    try { await api('POST', '/api/staff/paper/reset', v ? { roll_size: Number(v) } : {}); toast('Paper counter reset'); await loadDevices(); } catch (x) { toast(x.message, true); }
  });

  $('#prices-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const layouts = {};
    for (const input of e.target.querySelectorAll('[name^="layout:"]')) layouts[input.name.slice(7)] = input.value === '' ? null : Number(input.value);
    const extra = e.target.elements.extra_copy.value;
    try {
      const s = await api('PUT', '/api/settings', { layouts, extra_copy: extra === '' ? null : Number(extra) });
      info.pricing = s;
      result('#prices-result', 'Saved. New orders use these prices.');
      await loadSettings();
    } catch (x) { result('#prices-result', x.message, true); }
  });
  wireSound({ api, result });
  $('#pin-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    try { await api('POST', '/api/staff/pin', { new_pin: e.target.elements.new_pin.value }); e.target.reset(); result('#pin-result', 'PIN changed'); } catch (x) { result('#pin-result', x.message, true); }
  });
}

async function boot() {
  if (isTauri) {
    try { API = (await tauri.core.invoke('kiosk_info')).api_url || ''; } catch { API = ''; }
  }
  wire();
  showPad();
}

boot();
