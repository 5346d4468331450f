// The customer's flow: a small state machine over the screens in index.html.
//   attract → language → layout → copies → payment → qr → paid → shoot (×N, retake) → composing
//   → preview → printing → thanks → attract
// Invariants: an unpaid session always has a timeout back to attract (and cancels its order);
// a paid session only moves forward (hard timeouts keep shots and start printing) and leaves
// only when its prints are done or staff were called. No money is asked for without a camera.
import { backend, loadKioskKey } from './backend.js';
import * as i18n from './i18n.js';
import { timeouts, applyOverrides, fromUrl } from './config.js';
import * as camera from './camera.js';
import { lockDown } from './lockdown.js';
import * as sound from './sound.js';

const $ = (id) => document.getElementById(id);
const t = i18n.t;
const PAID_SCREENS = new Set(['paid', 'shoot', 'composing', 'preview', 'printing']);

const S = {
  screen: null, info: null, layout: null, copies: 1, order: null, paid: false,
  paidVia: null, paidAt: 0, shots: [], shotIndex: 0, print: null, session: 0, busy: false,
};

// ---------- timers: everything a screen schedules is cancelled when the screen changes ----------
let timers = [];
let idle = null; // { sec, fn, deadline }: inactivity timeout of the current screen
function later(sec, fn) { const id = setTimeout(fn, sec * 1000); timers.push(() => clearTimeout(id)); }
function every(sec, fn) { const id = setInterval(fn, sec * 1000); timers.push(() => clearInterval(id)); }
function idleTimeout(sec, fn) { idle = { sec, fn, deadline: Date.now() + sec * 1000 }; }
document.addEventListener('pointerdown', () => { if (idle) idle.deadline = Date.now() + idle.sec * 1000; }, { capture: true });
setInterval(() => {
  const bar = $('timeout-bar');
  if (!idle) { bar.style.width = '0'; return; }
  const left = idle.deadline - Date.now();
  bar.style.width = `${Math.max(0, Math.min(100, (left / (idle.sec * 1000)) * 100))}%`;
  if (left <= 0) { const fn = idle.fn; idle = null; fn(); }
}, 100);

// ---------- navigation ----------
function go(name, arg) {
  for (const c of timers) c();
  timers = [];
  idle = null;
  for (const s of document.querySelectorAll('.screen')) s.hidden = s.dataset.screen !== name;
  S.screen = name;
  document.body.dataset.screen = name;
  $('btn-help').hidden = !PAID_SCREENS.has(name);
  enter[name](arg);
  window.dispatchEvent(new CustomEvent('fotobox:screen', { detail: name }));
}

/** Back to the attract loop. An unpaid order is cancelled; a paid one is never dropped here. */
function home() {
  if (S.order && !S.paid) backend.cancel(S.order.order_id).catch(() => {});
  S.session++;
  S.order = null; S.paid = false; S.paidVia = null; S.layout = null; S.copies = 1; S.shots = []; S.print = null;
  i18n.setLang(i18n.DEFAULT_LANG);
  go('attract');
}

function staff(reason) {
  const order = S.order && S.order.order_id;
  backend.callStaff(order, reason).catch(() => {});
  camera.stop();
  go('staff', reason);
}

function outOfService(reason) { go('outofservice', reason); }

async function readyToSell(copies = 1) {
  try {
    const r = await backend.readiness(copies);
    if (!r.ready) return r.reason || 'printer';
  } catch {
    return 'offline';
  }
  if (!(await camera.check())) return 'camera';
  return null;
}

const enter = {};

// The attract loop: a sample print of each layout on sale, with its starting price, one after
// another (composed once by the kiosk from drawn pictures, never customers' photos).
// Images the kiosk makes once (sample prints, frames): key -> object URL, or null when there is
// none or it could not be fetched. The page keeps them for its whole life.
const images = new Map();
async function imageUrl(key, fetchBlob) {
  if (!images.has(key)) {
    let url = null;
    try { url = URL.createObjectURL(await fetchBlob()); } catch { /* none */ }
    images.set(key, url);
  }
  return images.get(key);
}
const sampleUrl = (name) => imageUrl(`sample/${name}`, () => backend.samplePrint(name));
const SAMPLE_SECONDS = 8;
function showcase() {
  const layouts = (S.info && S.info.layouts) || [];
  const box = $('showcase');
  const [a, b] = box.querySelectorAll('img.sample');
  let i = 0, front = a;
  const show = async () => {
    for (let tries = 0; tries < layouts.length; tries++) {
      const l = layouts[i % layouts.length];
      i++;
      const url = await sampleUrl(l.name);
      if (S.screen !== 'attract') return;
      if (!url) continue;
      const back = front === a ? b : a;
      back.src = url;
      back.dataset.sample = l.name;
      back.classList.add('shown');
      front.classList.remove('shown');
      front = back;
      $('sample-name').textContent = layoutTitle(l);
      $('sample-price').textContent = t('attract.from', { price: i18n.money(l.price) });
      box.hidden = false;
      return;
    }
  };
  show();
  if (layouts.length > 1) every(SAMPLE_SECONDS, show);
}

enter.attract = () => {
  camera.stop();
  showcase();
  const sec = $('s-attract');
  sec.onclick = async () => {
    sec.onclick = null;
    const problem = await readyToSell(1);
    if (S.screen !== 'attract') return;
    if (problem) outOfService(problem); else go('language');
  };
};

enter.language = () => {
  idleTimeout(timeouts.language, home);
  for (const b of document.querySelectorAll('[data-lang]')) {
    b.onclick = () => { i18n.setLang(b.dataset.lang); go('layout'); };
  }
  back(home);
};

function layoutTitle(l) { return i18n.has(`layout.${l.name}`) ? t(`layout.${l.name}`) : (l.title || l.name); }

function layoutThumb(l) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  const w = l.width || 1200, h = l.height || 1800;
  svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
  const bg = document.createElementNS(ns, 'rect');
  Object.entries({ x: 0, y: 0, width: w, height: h, fill: '#ffffff' }).forEach(([k, v]) => bg.setAttribute(k, v));
  svg.appendChild(bg);
  const palette = ['#ff6b9a', '#4aa3ff', '#ffcc33', '#4cd97b'];
  for (const s of l.slots || []) {
    const r = document.createElementNS(ns, 'rect');
    Object.entries({ x: s.x, y: s.y, width: s.w, height: s.h, rx: 12, fill: palette[(s.shot || 0) % 4] })
      .forEach(([k, v]) => r.setAttribute(k, v));
    svg.appendChild(r);
  }
  return svg;
}

function priceOf(l, copies) { return l.price + S.info.extra_copy * (copies - 1); }

enter.layout = () => {
  idleTimeout(timeouts.layout, home);
  const list = $('layout-list');
  list.replaceChildren();
  for (const l of S.info.layouts) {
    const b = document.createElement('button');
    b.className = 'layout-card';
    b.dataset.layout = l.name;
    const thumb = document.createElement('div'); thumb.className = 'thumb'; thumb.appendChild(layoutThumb(l));
    // The sample print of the layout replaces the drawn slots as soon as it is there.
    sampleUrl(l.name).then((url) => {
      if (!url) return;
      const img = document.createElement('img');
      img.alt = ''; img.src = url; img.dataset.sample = l.name;
      thumb.replaceChildren(img);
    });
    const name = document.createElement('div'); name.className = 'name'; name.textContent = layoutTitle(l);
    const meta = document.createElement('div'); meta.className = 'meta'; meta.textContent = l.shots === 1 ? t('layout.shots_one') : t('layout.shots', { n: l.shots });
    const cost = document.createElement('div'); cost.className = 'cost'; cost.textContent = i18n.money(l.price);
    b.append(thumb, name, meta, cost);
    b.onclick = () => { S.layout = l; S.copies = 1; go('copies'); };
    list.appendChild(b);
  }
  back(() => go('language'));
};

enter.copies = () => {
  idleTimeout(timeouts.copies, home);
  const max = S.info.max_copies || 10;
  const show = () => {
    $('copies-count').textContent = String(S.copies);
    $('copies-price').textContent = i18n.money(priceOf(S.layout, S.copies));
    $('copies-minus').disabled = S.copies <= 1;
    $('copies-plus').disabled = S.copies >= max;
  };
  $('copies-hint').textContent = t('copies.hint', { extra: i18n.money(S.info.extra_copy) });
  $('copies-minus').onclick = () => { if (S.copies > 1) S.copies--; show(); };
  $('copies-plus').onclick = () => { if (S.copies < max) S.copies++; show(); };
  $('copies-next').onclick = () => go('payment');
  show();
  back(() => go('layout'));
};

enter.payment = () => {
  idleTimeout(timeouts.payment, home);
  $('payment-price').textContent = i18n.money(priceOf(S.layout, S.copies));
  $('payment-error').hidden = true;
  const buttons = [...document.querySelectorAll('[data-provider]')];
  for (const b of buttons) {
    b.hidden = !(S.info.providers || {})[b.dataset.provider];
    b.disabled = false;
    b.onclick = async () => {
      if (S.busy) return;
      S.busy = true;
      buttons.forEach((x) => { x.disabled = true; });
      const session = S.session;
      try {
        const problem = await readyToSell(S.copies);
        if (session !== S.session || S.screen !== 'payment') return;
        if (problem) { outOfService(problem); return; }
        const order = await backend.createOrder({ provider: b.dataset.provider, template: S.layout.name, copies: S.copies, lang: i18n.lang() });
        if (session !== S.session || S.screen !== 'payment') { backend.cancel(order.order_id).catch(() => {}); return; }
        S.order = order;
        go('qr');
      } catch (e) {
        $('payment-error').textContent = t('payment.failed');
        $('payment-error').hidden = false;
        buttons.forEach((x) => { x.disabled = false; });
      } finally {
        S.busy = false;
      }
    };
  }
  back(() => go('copies'));
};

function fmtClock(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

enter.qr = () => {
  const o = S.order;
  $('qr-code').innerHTML = o.qr_svg; // SVG rendered by our own core from the pay link
  $('qr-amount').textContent = i18n.money(o.amount);
  const pname = t(`provider.${o.payment_type}`);
  $('qr-provider').textContent = pname;
  $('qr-order').textContent = o.order_id;
  document.querySelector('#s-qr .sub').textContent = t('qr.hint', { provider: pname });
  let deadline = Date.parse(o.expires_at);
  if (!Number.isFinite(deadline)) deadline = Date.now() + 600000;
  if (timeouts.qr > 0) deadline = Math.min(deadline, Date.now() + timeouts.qr * 1000);
  // Once at the deadline (not at every tick after it): cancel, or wait for a payment under way.
  let expiring = false;
  const tick = () => {
    const left = deadline - Date.now();
    $('qr-countdown').textContent = fmtClock(Math.max(0, left));
    if (left <= 0 && !expiring) { expiring = true; expireQr(); }
  };
  tick();
  every(0.25, tick);
  every(timeouts.statusPoll, () => pollStatus(o.order_id));
  // "I have paid": for Click, ask Click's Merchant API (a lost or late callback); for both, poll
  // now. The button rests for 10 s after a tap (the server refuses faster repeats anyway).
  const paidBtn = $('qr-paid');
  paidBtn.disabled = false;
  $('qr-paid-note').hidden = true;
  paidBtn.onclick = async () => {
    paidBtn.disabled = true;
    $('qr-paid-note').hidden = false;
    setTimeout(() => { if (S.order === o) { paidBtn.disabled = false; $('qr-paid-note').hidden = true; } }, 10000);
    if (o.payment_type === 'click') await backend.checkPaid(o.order_id).catch(() => {});
    pollStatus(o.order_id);
  };
  // Sandbox mode: pay from the screen through the provider's simulator (the real callback
  // listener, the real signatures); the payment arrives like a real one (event or poll).
  const sim = $('qr-simulate');
  sim.hidden = !sandbox();
  sim.disabled = false;
  sim.onclick = async () => {
    sim.disabled = true;
    try { await backend.simulatePay(o.order_id); } catch { sim.disabled = false; }
    pollStatus(o.order_id);
  };
  back(async () => {
    S.cancelling = o.order_id; // our own cancel: its status event must not send the customer home
    try {
      await backend.cancel(o.order_id);
      if (S.order === o && !S.paid) { S.order = null; go('payment'); }
    } catch (e) {
      // 409: paid or a payment is under way: stay; the status will tell.
      pollStatus(o.order_id);
    }
  });
};

async function expireQr() {
  const o = S.order;
  if (!o || S.paid) return;
  try {
    await backend.cancel(o.order_id);
  } catch {
    // Under way or already paid: the status decides; check once more before leaving.
    const st = await backend.status(o.order_id).catch(() => null);
    if (st && st.status === 'success') { markPaid('poll'); return; }
    // A provider transaction is still running: wait for it, for a bounded time.
    if (st && st.status === 'pending') { if (S.order === o && !S.paid) go('qrwait'); return; }
  }
  if (S.order === o && !S.paid) { S.order = null; home(); }
}

// The QR expired while the customer's payment was under way in the provider's app (a Payme
// transaction created, a Click attempt prepared): wait a bounded time for it to finish; a payment
// that ends arrives as usual (event or poll) and starts the session.
enter.qrwait = () => {
  const o = S.order;
  $('qrwait-body').textContent = t('qrwait.body', { provider: t(`provider.${o.payment_type}`) });
  $('qrwait-order').textContent = o.order_id;
  const until = Date.now() + timeouts.qrWait * 1000;
  const tick = () => {
    const left = until - Date.now();
    $('qrwait-countdown').textContent = fmtClock(Math.max(0, left));
    if (left <= 0 && S.screen === 'qrwait') go('qrgiveup');
  };
  tick();
  every(0.25, tick);
  every(timeouts.statusPoll, () => pollStatus(o.order_id));
};

// Still not confirmed: tell the customer what to do, alert staff (the order stays in the panel;
// paid later, it shows as "paid, not started" with the start-this-session action), go home.
enter.qrgiveup = () => {
  const o = S.order;
  $('qrgiveup-body').textContent = t('qrgiveup.body', { order: o.order_id });
  backend.callStaff(o.order_id, 'payment').catch(() => {});
  const leave = () => { if (S.screen === 'qrgiveup' && !S.paid) { S.order = null; home(); } };
  $('qrgiveup-ok').onclick = leave;
  later(timeouts.qrGiveUp, leave);
  every(timeouts.statusPoll, () => pollStatus(o.order_id));
};

async function pollStatus(id) {
  try {
    const st = await backend.status(id);
    onStatus(st, 'poll');
  } catch { /* the next poll or the event will do */ }
}

function onStatus(ev, via) {
  if (!S.order || ev.order_id !== S.order.order_id) return;
  if (ev.status === 'success') markPaid(via);
  else if (ev.status === 'canceled' && !S.paid && (S.screen === 'qr' || S.screen === 'qrwait') && S.cancelling !== ev.order_id) {
    S.order = null;
    home();
  }
}

function markPaid(via) {
  if (S.paid) return;
  S.paid = true;
  S.paidVia = via;
  S.paidAt = performance.now();
  go('paid');
}

enter.paid = () => {
  S.shots = [];
  S.shotIndex = 0;
  later(timeouts.paid, () => go('shoot'));
};

// ---------- shooting ----------
enter.shoot = async () => {
  const session = S.session;
  const video = $('live-video');
  $('review-actions').hidden = true;
  $('shot-review').hidden = true;
  $('btn-shoot').hidden = true;
  $('shoot-progress').textContent = '';
  $('shoot-hint').textContent = t('shoot.camera_retry');
  try {
    await camera.start(video, 3, 1500);
  } catch {
    if (session === S.session) staff('camera');
    return;
  }
  if (session !== S.session || S.screen !== 'shoot') return;
  S.retakes = Array(S.layout.shots).fill(timeouts.retakes);
  shootOne(session);
};

camera.onLost(async () => {
  if (S.screen !== 'shoot') return;
  const session = S.session;
  try {
    await camera.start($('live-video'), 3, 1500);
  } catch {
    if (session === S.session && S.screen === 'shoot') staff('camera');
  }
});

function countdown(sec) {
  return new Promise((resolve) => {
    const el = $('shoot-count');
    let n = Math.max(1, Math.round(sec));
    el.hidden = false;
    el.textContent = String(n);
    sound.play('beep');
    const step = (sec * 1000) / n;
    const id = setInterval(() => {
      n--;
      if (n <= 0) { clearInterval(id); el.hidden = true; resolve(); } else { el.textContent = String(n); sound.play('beep'); }
    }, step);
    timers.push(() => clearInterval(id));
  });
}

// What the customer frames is what gets printed: during the countdown the live view is cut to
// exactly the part of the picture that the print keeps of shot i (the first slot that takes it,
// by the compositor's centred cover crop), turned upright by camera.rotate; the review image after
// the shot is the same cut of the still.
function frameShot(i) {
  const slots = S.layout.slots || [];
  const slot = slots.find((s) => s.shot === i) || slots[0];
  const aspect = slot ? slot.w / slot.h : 4 / 3;
  const live = document.querySelector('#s-shoot .live');
  const vw = window.innerWidth, vh = window.innerHeight;
  const portrait = vh > vw;
  // Landscape: room beside it for the progress and the buttons (the box never shrinks: its shape
  // is the slot's).
  const maxW = portrait ? 0.94 * vw : Math.min(0.6 * vw, 1.2 * vh);
  const maxH = portrait ? 0.62 * vh : 0.88 * vh;
  const w = Math.min(maxW, maxH * aspect);
  const h = w / aspect;
  live.style.width = `${Math.round(w)}px`;
  live.style.height = `${Math.round(h)}px`;
  live.dataset.aspect = slot ? `${slot.w}/${slot.h}` : '';
  showFrame(S.layout, slot ? slot.shot : i);
  // The preview is mirrored (people expect a mirror); the print is not.
  const turn = (((S.info.camera_rotate || 0) % 360) + 360) % 360;
  const video = $('live-video');
  video.dataset.rotate = String(turn);
  if (turn === 90 || turn === 270) {
    Object.assign(video.style, { position: 'absolute', left: '50%', top: '50%', width: `${Math.round(h)}px`,
      height: `${Math.round(w)}px`, transform: `translate(-50%, -50%) rotate(${turn}deg) scaleY(-1)` });
  } else {
    Object.assign(video.style, { position: '', left: '', top: '', width: '', height: '',
      transform: turn === 180 ? 'rotate(180deg) scaleX(-1)' : '' });
  }
}

// The layout's overlay frame over the slot being framed (fetched once per layout and shot; a
// layout without a frame there, or a failed fetch, just shows the bare picture).
async function showFrame(layout, shot) {
  const img = $('live-frame');
  img.hidden = true;
  img.removeAttribute('src');
  if (!layout || !layout.overlay) return;
  const key = `${layout.name}/${shot}`;
  img.dataset.want = key;
  const url = await imageUrl(`frame/${key}`, () => backend.shotOverlay(layout.name, shot));
  if (!url || img.dataset.want !== key || S.layout !== layout || S.screen !== 'shoot') return;
  img.src = url;
  img.dataset.frame = key;
  img.hidden = false;
}

async function shootOne(session) {
  const n = S.layout.shots;
  const i = S.shotIndex;
  const video = $('live-video');
  frameShot(i);
  $('shot-review').hidden = true;
  $('review-actions').hidden = true;
  $('shoot-progress').textContent = t('shoot.progress', { i: i + 1, n });
  $('shoot-hint').textContent = t('shoot.look');
  await countdown(timeouts.countdown);
  if (session !== S.session || S.screen !== 'shoot') return;
  const shutter = performance.now();
  let blob;
  try {
    blob = await camera.capture(video, S.info.camera_rotate || 0);
  } catch {
    try { await camera.start(video, 3, 1500); blob = await camera.capture(video, S.info.camera_rotate || 0); } catch { staff('camera'); return; }
  }
  sound.play('shutter');
  const flash = $('flash');
  flash.classList.remove('on'); void flash.offsetWidth; flash.classList.add('on');
  const img = $('shot-review');
  if (img.src) URL.revokeObjectURL(img.src);
  img.src = URL.createObjectURL(blob);
  img.hidden = false;
  // Measured by the browser suite: the still's size and the time from the shutter to its review.
  img.decode().then(() => {
    S.lastShot = { width: img.naturalWidth, height: img.naturalHeight, ms: Math.round(performance.now() - shutter) };
  }).catch(() => {});
  $('shoot-hint').textContent = t('shoot.review');
  const actions = $('review-actions');
  actions.hidden = false;
  $('btn-retake').hidden = S.retakes[i] <= 0;
  let decided = false;
  const decide = (keep) => {
    if (decided || session !== S.session || S.screen !== 'shoot') return;
    decided = true;
    actions.hidden = true;
    if (keep) keepShot(session, i, blob);
    else { S.retakes[i]--; shootOne(session); }
  };
  $('btn-retake').onclick = () => decide(false);
  $('btn-keep').onclick = () => decide(true);
  // Hard timeout: nobody chose, the shot is kept and the session moves on.
  let left = timeouts.review;
  $('review-countdown').textContent = String(Math.ceil(left));
  const id = setInterval(() => {
    left -= 0.25;
    $('review-countdown').textContent = String(Math.max(0, Math.ceil(left)));
    if (left <= 0) { clearInterval(id); decide(true); }
  }, 250);
  timers.push(() => clearInterval(id));
}

async function keepShot(session, i, blob) {
  $('shoot-hint').textContent = t('shoot.saving');
  for (let attempt = 0; ; attempt++) {
    try {
      await backend.uploadShot(S.order.order_id, i, blob);
      break;
    } catch {
      if (attempt >= 2) { if (session === S.session) staff('upload'); return; }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  if (session !== S.session || S.screen !== 'shoot') return;
  S.shots[i] = true;
  S.shotIndex = i + 1;
  if (S.shotIndex < S.layout.shots) shootOne(session);
  else { camera.stop(); go('composing'); }
}

// ---------- compose, preview, print ----------
enter.composing = async () => {
  const session = S.session;
  const id = S.order.order_id;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await backend.compose(id);
      const blob = await backend.preview(id);
      if (session !== S.session) return;
      go('preview', blob);
      return;
    } catch { await new Promise((r) => setTimeout(r, 1000)); }
  }
  if (session === S.session) staff('compose');
};

enter.preview = (blob) => {
  const img = $('preview-img');
  if (img.src) URL.revokeObjectURL(img.src);
  img.src = URL.createObjectURL(blob);
  let left = timeouts.preview;
  const show = () => { $('preview-countdown').textContent = String(Math.max(0, Math.ceil(left))); };
  show();
  every(0.25, () => { left -= 0.25; show(); if (left <= 0) go('printing'); });
  $('btn-print').onclick = () => go('printing');
};

enter.printing = async () => {
  const session = S.session;
  const id = S.order.order_id;
  $('print-meter').style.width = '5%';
  $('print-state').textContent = t('printing.queued');
  try {
    S.print = await backend.print(id);
  } catch {
    try { S.print = await backend.print(id); } catch { if (session === S.session) staff('print'); return; }
  }
  const started = Date.now();
  const show = (p) => {
    S.print = p;
    if (p.state === 'done') {
      $('print-meter').style.width = '100%';
      $('print-state').textContent = t('printing.done');
      later(0.6, () => go('thanks'));
      return true;
    }
    if (p.state === 'failed') { staff('print'); return true; }
    const frac = p.copies ? Math.min(0.95, 0.15 + 0.8 * ((p.printed || 0) / p.copies)) : 0.5;
    $('print-meter').style.width = `${Math.round(frac * 100)}%`;
    $('print-state').textContent = p.state === 'printing' ? t('printing.printing', { copies: p.copies }) : t('printing.queued');
    return false;
  };
  if (show(S.print)) return;
  let done = false;
  every(timeouts.printPoll, async () => {
    if (done || session !== S.session) return;
    try {
      done = show(await backend.printStatus(id));
    } catch { /* keep polling */ }
    if (!done && Date.now() - started > 5 * 60 * 1000) { done = true; staff('print'); }
  });
};

enter.thanks = () => {
  const p = S.print || {};
  const dl = $('download');
  dl.hidden = !p.download_qr_svg;
  if (p.download_qr_svg) $('download-qr').innerHTML = p.download_qr_svg;
  // The fiscal receipt's QR when the provider's receipt is already known (Payme sends it within
  // seconds; Click's comes later and is on the digital-copy page).
  const rc = $('receipt');
  rc.hidden = !p.receipt_qr_svg;
  if (p.receipt_qr_svg) $('receipt-qr').innerHTML = p.receipt_qr_svg;
  // Prints are out: the session is complete and may end.
  S.order = null; S.paid = false;
  later(timeouts.thanks, home);
  $('s-thanks').querySelector('[data-action=home]').onclick = home;
};

enter.outofservice = (reason) => {
  $('oos-reason').textContent = t(`oos.${reason || 'offline'}`);
  every(timeouts.oosRetry, async () => {
    if (S.info && !(await readyToSell(1))) home();
  });
};

enter.staff = (reason) => {
  $('staff-reason').textContent = t(`staff.reason.${reason || 'help'}`);
  $('staff-order').textContent = (S.order && S.order.order_id) || '—';
  later(timeouts.staff, () => { S.order = null; S.paid = false; home(); });
};

enter.error = (msg) => {
  $('error-text').textContent = msg || t('error.generic');
  later(timeouts.error, home);
  $('s-error').querySelector('[data-action=home]').onclick = home;
};

function back(fn) {
  const b = document.querySelector(`#s-${S.screen} [data-action=back]`);
  if (b) b.onclick = fn;
}

// ---------- start ----------
async function startHandedSession(orderId) {
  const st = await backend.status(orderId).catch(() => null);
  const layout = st && st.status === 'success' && (S.info.layouts || []).find((l) => l.name === st.template);
  if (!layout) return false;
  S.session += 1;
  S.layout = layout;
  S.copies = st.copies;
  S.order = { order_id: st.order_id, amount: st.amount, payment_type: st.payment_type };
  markPaid('staff');
  return true;
}

/** Sandbox mode (simulated payments): a mark on every screen and a pay control on the QR. */
const sandbox = () => !!(S.info && S.info.mode === 'sandbox');

async function boot() {
  lockDown();
  fromUrl();
  i18n.setLang(i18n.DEFAULT_LANG);
  sound.init(); // js/sound.js follows the screens; app.js only adds the beep and the shutter
  await loadKioskKey();
  backend.onStatus((ev) => onStatus(ev, 'event'));
  $('btn-help').onclick = () => staff('help');
  // js/staff-gesture.js (the staff panel's module) adds openStaff() and the hidden corner gesture.
  // Object.assign would copy the getter's value once; define it so `state` is read live.
  window.fotobox = Object.assign(window.fotobox || {}, { setTimeouts: applyOverrides, timeouts, paidAt: () => S.paidAt,
    lastShot: () => S.lastShot || null });
  Object.defineProperty(window.fotobox, 'state', {
    configurable: true,
    get() {
      return { screen: S.screen, lang: i18n.lang(), order: S.order && S.order.order_id, paid: S.paid,
        paidVia: S.paidVia, layout: S.layout && S.layout.name, copies: S.copies, shots: S.shots.length };
    },
  });
  for (;;) {
    try { S.info = await backend.info(); $('sandbox-mark').hidden = !sandbox(); sound.configure(S.info.sound); break; } catch {
      document.body.classList.remove('booting');
      if (S.screen !== 'outofservice') go('outofservice', 'offline');
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
  // `?session=ORDER_ID`: staff hand a paid order (a free "comp" session from the panel) to the
  // kiosk, which starts the shoot for it as if it had just been paid.
  const handed = new URLSearchParams(location.search).get('session');
  if (!(handed && await startHandedSession(handed))) go('attract');
  document.body.classList.remove('booting');
  requestAnimationFrame(() => requestAnimationFrame(() => {
    document.body.dataset.ready = '1';
    if (backend.isTauri) window.__TAURI__.core.invoke('ui_ready').catch(() => {});
  }));
}

boot();
