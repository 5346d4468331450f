// Browser suite: the kiosk page served by `fotobox serve` (sandbox, temp data dir, ports 0) in
// Debian's chromium through playwright-core, with chromium's fake camera. Payments go through the
// Payme/Click simulators (POST /api/test-payment/{id}). Screenshots: test-artifacts/browser/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { startServe, artifactDir, launchChromium, printedFiles, waitFor } from './lib.js';
import { BANDS, TOP, BOTTOM, patternVideo, nominalLabel, labeller, runs, resample, agreement } from './pattern.js';

const SHOTS = artifactDir('browser');
for (const f of readdirSync(SHOTS)) if (f.endsWith('.png')) rmSync(join(SHOTS, f));
let server;
let browser;
let pattern;
const timings = [];
/** The fake camera's size: a 4K camera, as the kiosk's stills should use all of it. */
const CAMERA = [3840, 2160];

before(async () => {
  server = await startServe();
  // The fake camera shows a known picture (coloured bands across the width, see pattern.js), so
  // what the print, the review and the live view show of it can be checked.
  pattern = patternVideo(...CAMERA);
  browser = await launchChromium({ videoFile: pattern.path });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  pattern?.remove();
  if (timings.length) console.log(`# commit→paid timings (ms): ${JSON.stringify(timings)}`);
});

async function open(query, viewport = { width: 1920, height: 1080 }, b = browser, first = 'attract', init = null) {
  const ctx = await b.newContext({ viewport });
  const page = await ctx.newPage();
  if (init) await page.addInitScript(init);
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.addInitScript(() => {
    window.__screens = [];
    window.addEventListener('fotobox:screen', (e) => window.__screens.push(e.detail));
  });
  await page.goto(`${server.api}/${query}`);
  try {
    await waitScreen(page, first);
  } catch (e) {
    const screen = await page.evaluate(() => document.body.dataset.screen).catch(() => '?');
    throw new Error(`the page did not reach ${first} (screen ${screen}; errors ${JSON.stringify(errors)});\n` +
      `server log tail:\n${server.log().slice(-3000)}`);
  }
  page.errors = errors;
  return page;
}

function waitScreen(page, name, timeout = 15000) {
  return page.waitForFunction((n) => document.body.dataset.screen === n && document.body.dataset.ready === '1',
    name, { timeout });
}

let shotNo = 0;
async function snap(page, name) {
  shotNo += 1;
  await page.screenshot({ path: join(SHOTS, `${String(shotNo).padStart(2, '0')}-${name}.png`) });
}

const text = (page, sel) => page.locator(sel).first().innerText();
const state = (page) => page.evaluate(() => window.fotobox.state);

async function payAndTime(page, orderId) {
  const t0 = Date.now();
  const r = await server.call('POST', `/api/test-payment/${orderId}`);
  const t1 = Date.now();
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await waitScreen(page, 'paid');
  const paidEpoch = await page.evaluate(() => performance.timeOrigin + window.fotobox.paidAt());
  const st = await state(page);
  timings.push({ via: st.paidVia, afterResponse: Math.round(paidEpoch - t1), afterRequest: Math.round(paidEpoch - t0) });
  return st;
}

test('Payme order, English, two copies, one retake: attract to thank-you and back', async () => {
  const page = await open('?fast=1&timeouts=review:30,preview:30,thanks:30,statusPoll:60');
  assert.equal(await text(page, '#s-attract .pulse'), 'Boshlash uchun ekranga teging');
  // The attract loop shows a sample print of a layout on sale with its starting price.
  await page.waitForFunction(() => {
    const img = document.querySelector('#showcase img.sample.shown');
    return img && img.complete && img.naturalWidth > 0 && !document.getElementById('showcase').hidden;
  }, null, { timeout: 30000 });
  const shown = await page.evaluate(() => document.querySelector('#showcase img.sample.shown').dataset.sample);
  const onSale = (await (await fetch(`${server.api}/api/kiosk/info`)).json()).layouts.find((l) => l.name === shown);
  assert.ok(onSale, `sample of ${shown} is a layout on sale`);
  const price = String(onSale.price).replace(/\B(?=(\d{3})+(?!\d))/g, '\u00a0');
  assert.equal(await text(page, '#sample-price'), `${price} so'mdan`);
  await snap(page, 'attract');
  await page.click('#s-attract');
  await waitScreen(page, 'language');
  await snap(page, 'language');
  await page.click('[data-lang=en]');
  await waitScreen(page, 'layout');
  const info = await (await fetch(`${server.api}/api/kiosk/info`)).json();
  assert.equal(await page.locator('.layout-card').count(), info.layouts.length);
  // Each card shows the layout's sample print (what the customer buys), not drawn blocks.
  await page.waitForFunction((n) => [...document.querySelectorAll('.layout-card .thumb img')]
    .filter((i) => i.complete && i.naturalWidth > 0).length === n, info.layouts.length, { timeout: 30000 });
  assert.ok(info.layouts.length >= 3);
  await snap(page, 'layout');
  await page.click('[data-layout=grid]');
  await waitScreen(page, 'copies');
  assert.equal(await text(page, '#copies-price'), '25,000 UZS');
  await page.click('#copies-plus');
  assert.equal(await text(page, '#copies-count'), '2');
  assert.equal(await text(page, '#copies-price'), '35,000 UZS');
  await snap(page, 'copies');
  await page.click('#copies-next');
  await waitScreen(page, 'payment');
  await snap(page, 'payment');
  const created = page.waitForResponse((r) => r.url().endsWith('/api/generate-qr'));
  await page.click('[data-provider=payme]');
  await waitScreen(page, 'qr');
  const orderId = (await state(page)).order;
  assert.match(orderId, /^[0-9A-Z]{4}-[0-9A-Z]{4}$/);
  // The customer chose English: Payme's checkout opens in English (`l=en` in the link).
  const payUrl = (await (await created).json()).pay_url;
  const params = Buffer.from(payUrl.split('/').pop(), 'base64').toString().split(';');
  assert.ok(params.includes('l=en'), params.join(';'));
  assert.equal(await text(page, '#qr-amount'), '35,000 UZS');
  assert.match(await text(page, '#qr-countdown'), /^\d+:\d\d$/);
  assert.equal(await page.locator('#qr-code svg').count(), 1);
  await snap(page, 'qr-payme');
  const st = await server.call('GET', `/api/payment-status/${orderId}`);
  assert.equal(st.body.status, 'pending');
  assert.equal(st.body.amount, 35000);

  const paid = await payAndTime(page, orderId);
  assert.equal(paid.paidVia, 'event', 'the paid state must arrive as a server-sent event (polling is slowed to 60 s here)');
  await snap(page, 'paid');

  await waitScreen(page, 'shoot');
  await page.waitForFunction(() => document.getElementById('live-video').videoWidth > 0, null, { timeout: 15000 });
  await page.waitForSelector('#shoot-count:not([hidden])');
  await snap(page, 'shoot-countdown');
  // Shot 1: retake once, then keep.
  await page.waitForSelector('#review-actions:not([hidden])');
  await snap(page, 'shoot-review');
  assert.ok(await page.isVisible('#btn-retake'));
  await page.click('#btn-retake');
  await page.waitForSelector('#review-actions:not([hidden])');
  assert.equal(await page.isVisible('#btn-retake'), false, 'one retake per shot');
  await page.click('#btn-keep');
  for (let i = 1; i < 4; i++) {
    await page.waitForFunction((n) => window.fotobox.state.shots === n, i, { timeout: 15000 });
    await page.waitForSelector('#review-actions:not([hidden])');
    await page.click('#btn-keep');
  }
  await waitScreen(page, 'preview', 30000);
  await page.waitForFunction(() => document.getElementById('preview-img').naturalWidth > 0);
  const dims = await page.evaluate(() => [document.getElementById('preview-img').naturalWidth, document.getElementById('preview-img').naturalHeight]);
  const grid = info.layouts.find((l) => l.name === 'grid');
  assert.deepEqual(dims, [grid.width, grid.height]);
  await snap(page, 'preview');
  await page.click('#btn-print');
  await waitScreen(page, 'thanks', 30000);
  await snap(page, 'thanks');
  const pr = await server.call('GET', `/api/kiosk/orders/${orderId}/print`);
  assert.equal(pr.body.state, 'done');
  assert.ok(printedFiles(join(server.dataDir, 'print-out')).some((f) => f.includes(orderId) && f.endsWith('.jpg')),
    'the folder printer wrote this order');
  assert.equal(pr.body.copies, 2);
  assert.ok(printedFiles(server.dataDir).some((f) => /print/i.test(f) && f.endsWith('.jpg')), 'the folder printer wrote the composite');
  await page.click('#s-thanks [data-action=home]');
  await waitScreen(page, 'attract');
  assert.equal((await state(page)).lang, 'uz', 'a new customer starts in O\'zbekcha');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('Click order, Russian, untouched after paying: hard timeouts carry it to prints, never to attract', async () => {
  const page = await open('?fast=1');
  await page.click('#s-attract');
  await waitScreen(page, 'language');
  await page.click('[data-lang=ru]');
  await waitScreen(page, 'layout');
  assert.equal(await text(page, '#s-layout h2'), 'Выберите макет');
  await page.click('[data-layout=postcard]');
  await page.click('#copies-next');
  await waitScreen(page, 'payment');
  await page.click('[data-provider=click]');
  await waitScreen(page, 'qr');
  await snap(page, 'qr-click');
  const orderId = (await state(page)).order;
  assert.equal(await text(page, '#qr-amount'), '25\u00a0000 сум');
  assert.equal(await text(page, '#qr-provider'), 'Click');
  // Screenshot every screen as it appears (composing and printing pass quickly).
  const seen = new Set();
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      const sc = await page.evaluate(() => document.body.dataset.screen).catch(() => null);
      if (sc && !seen.has(sc)) { seen.add(sc); await snap(page, `auto-${sc}`).catch(() => {}); }
      await new Promise((r) => setTimeout(r, 30));
    }
  })();
  // Sandbox mode: the mark is on the screen and the customer pays with the page's own control
  // (the Click simulator over the real callback listener), no outside help.
  assert.ok(await page.isVisible('#sandbox-mark'));
  assert.match(await text(page, '#sandbox-mark'), /^SANDBOX/);
  assert.ok(await page.isVisible('#qr-simulate'));
  await page.click('#qr-simulate');
  await waitScreen(page, 'paid', 10000);
  // No touch from here on: review, preview and thank-you time out forward.
  await waitScreen(page, 'thanks', 60000);
  watching = false;
  await watcher;
  await waitScreen(page, 'attract', 15000);
  const screens = await page.evaluate(() => window.__screens);
  const fromPaid = screens.slice(screens.indexOf('paid'));
  assert.deepEqual(fromPaid, ['paid', 'shoot', 'composing', 'preview', 'printing', 'thanks', 'attract']);
  const pr = await server.call('GET', `/api/kiosk/orders/${orderId}/print`);
  assert.equal(pr.body.state, 'done');
  assert.ok(printedFiles(join(server.dataDir, 'print-out')).some((f) => f.includes(orderId) && f.endsWith('.jpg')),
    'the folder printer wrote this order');
  const st = await server.call('GET', `/api/payment-status/${orderId}`);
  assert.equal(st.body.status, 'success');
  assert.equal(st.body.payment_type, 'click');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('Call staff during a paid session: the order id stays on screen, the session is not reset', async () => {
  const page = await open('?fast=1&timeouts=staff:600');
  await page.click('#s-attract');
  await waitScreen(page, 'language');
  await page.click('[data-lang=uz]');
  await page.click('[data-layout=postcard]');
  await page.click('#copies-next');
  await page.click('[data-provider=payme]');
  await waitScreen(page, 'qr');
  const orderId = (await state(page)).order;
  // Payme paid from the page's sandbox control, with the credentials generated at the first
  // start (the server runs with no config at all).
  await page.click('#qr-simulate');
  await waitScreen(page, 'paid', 10000);
  await waitScreen(page, 'shoot');
  // The live view is cut to the postcard slot's shape (portrait), not the camera's 16:9 frame.
  const info = await (await fetch(`${server.api}/api/kiosk/info`)).json();
  const slot = info.layouts.find((l) => l.name === 'postcard').slots.find((sl) => sl.shot === 0);
  await page.waitForFunction(() => document.querySelector('#s-shoot .live').dataset.aspect);
  const box = await page.locator('#s-shoot .live').boundingBox();
  assert.ok(Math.abs(box.width / box.height - slot.w / slot.h) < 0.02, `${box.width}x${box.height} vs slot ${slot.w}x${slot.h}`);
  // The postcard's overlay frame over that slot is drawn over the live view, covering it exactly.
  await page.waitForFunction(() => {
    const f = document.getElementById('live-frame');
    return f && !f.hidden && f.complete && f.naturalWidth > 0;
  }, null, { timeout: 10000 });
  const frame = await page.evaluate(() => {
    const f = document.getElementById('live-frame');
    return { key: f.dataset.frame, w: f.naturalWidth, h: f.naturalHeight };
  });
  assert.equal(frame.key, 'postcard/0');
  assert.ok(Math.abs(frame.w / frame.h - slot.w / slot.h) < 0.01, `frame ${frame.w}x${frame.h} vs slot ${slot.w}x${slot.h}`);
  const fbox = await page.locator('#live-frame').boundingBox();
  assert.ok(Math.abs(fbox.width - box.width) < 1 && Math.abs(fbox.height - box.height) < 1, 'the frame covers the live view');
  // Without the kiosk key the frame is not served (encoding it costs CPU).
  assert.equal((await fetch(`${server.api}/api/kiosk/layouts/postcard/shots/0/overlay`)).status, 401);
  await snap(page, 'shoot-framed-postcard');
  assert.ok(await page.isVisible('#btn-help'));
  await page.click('#btn-help');
  await waitScreen(page, 'staff');
  assert.equal(await text(page, '#staff-order'), orderId);
  await snap(page, 'staff-called');
  await new Promise((r) => setTimeout(r, 3000)); // longer than every fast timeout
  assert.equal((await state(page)).screen, 'staff');
  assert.equal((await server.call('GET', `/api/payment-status/${orderId}`)).body.status, 'success');
  await page.context().close();
});

/** The compositor's centred cover crop (resize.rs `cover_crop_box`) of a `sw` x `sh` picture for a
 * `w` x `h` slot, in the picture's pixels. */
function coverCrop(sw, sh, w, h) {
  if (sw * h > sh * w) { const cw = (sh * w) / h; return { x: (sw - cw) / 2, y: 0, w: cw, h: sh }; }
  const ch = (sw * h) / w;
  return { x: 0, y: (sh - ch) / 2, w: sw, h: ch };
}

/** Decoded by the page (Chromium reads the JPEG or PNG): the row through the middle of `rect` of
 * the image at `src` and its column at `colAt` (a fraction of the rect's width), each pixel
 * averaged over 5 across the line, as [r, g, b]. */
async function linesOf(page, src, rect, colAt) {
  return page.evaluate(async ({ src, rect, colAt }) => {
    const img = new Image();
    img.src = src;
    await img.decode();
    const r = rect || { x: 0, y: 0, w: img.naturalWidth, h: img.naturalHeight };
    const c = document.createElement('canvas');
    c.width = img.naturalWidth; c.height = img.naturalHeight;
    const g = c.getContext('2d', { willReadFrequently: true });
    g.drawImage(img, 0, 0);
    const line = (x, y, w, h, alongX) => {
      const d = g.getImageData(x, y, w, h).data;
      const n = alongX ? w : h, k = alongX ? h : w, out = [];
      for (let i = 0; i < n; i++) {
        const px = [0, 0, 0];
        for (let j = 0; j < k; j++) {
          const o = 4 * (alongX ? j * w + i : i * w + j);
          px[0] += d[o]; px[1] += d[o + 1]; px[2] += d[o + 2];
        }
        out.push(px.map((v) => Math.round(v / k)));
      }
      return out;
    };
    return {
      row: line(r.x, Math.round(r.y + r.h / 2) - 2, r.w, 5, true),
      col: line(Math.round(r.x + r.w * colAt) - 2, r.y, 5, r.h, false),
    };
  }, { src, rect, colAt });
}

const dataUrl = (type, buf) => `data:${type};base64,${buf.toString('base64')}`;

/**
 * `view` (lines of a picture showing the `crop` of the still, left-right mirrored for the live
 * view) shows across its width the bands the still shows inside the crop, in the same order, the
 * same at its left and right edges, pixel by pixel where both are clear, and none of the bands
 * outside the crop; down its column, the still's black top and grey bottom (the full height).
 * The layout's frame over the slot's edges (12 slot pixels at most) is left out.
 */
function checkView(what, view, still, lab, crop, slot, mirror = false) {
  const stillRow = still.row.map(lab.label), stillCol = still.col.map(lab.label);
  const row = view.row.map(lab.label);
  if (mirror) row.reverse();
  const col = view.col.map(lab.label);
  const n = row.length, m = col.length;
  const ix = Math.ceil((12 * n) / slot.w) + 1, iy = Math.ceil((12 * m) / slot.h) + 1;
  const seenRow = row.slice(ix, n - ix);
  const wantRow = resample(stillRow, crop.x + (ix * crop.w) / n, (crop.w * (n - 2 * ix)) / n, n - 2 * ix);
  const minRun = Math.max(3, Math.round(((0.1 * still.row.length) / BANDS) * (n / crop.w)));
  const seen = runs(seenRow, minRun), want = runs(wantRow, minRun);
  const outside = [...Array(BANDS).keys()].filter((b) => !want.includes(b));
  const msg = `${what}: bands ${JSON.stringify(seen)}; the still's cut shows ${JSON.stringify(want)}`;
  assert.ok(want.length >= 2 && outside.length > 0, `the crop cuts bands off: ${msg}`);
  assert.equal(seen[0], want[0], `left edge: ${msg}`);
  assert.equal(seen[seen.length - 1], want[want.length - 1], `right edge: ${msg}`);
  assert.deepEqual(seen.filter((b) => outside.includes(b)), [], `bands from outside the crop: ${msg}`);
  assert.deepEqual(seen, want, msg);
  const same = agreement(seenRow, wantRow);
  assert.ok(same >= 0.97, `${what}: ${(100 * same).toFixed(1)}% of the row's pixels show the still's band there`);
  const wantCol = runs(resample(stillCol, crop.y + (iy * crop.h) / m, (crop.h * (m - 2 * iy)) / m, m - 2 * iy), 3);
  const seenCol = runs(col.slice(iy, m - iy), 3);
  assert.equal(wantCol[0], TOP);
  assert.equal(wantCol[wantCol.length - 1], BOTTOM);
  assert.deepEqual(seenCol, wantCol, `${what}: down the middle ${JSON.stringify(seenCol)} vs the still's ${JSON.stringify(wantCol)}`);
  return want;
}

const liveSize = (page) => page.evaluate(() => {
  const v = document.getElementById('live-video');
  return [v.videoWidth, v.videoHeight];
});

// The layouts whose first shot is followed from the live view to the print: a portrait slot (the
// postcard) and a landscape one (the strip), both cut left and right out of the 16:9 frame.
const CROP_CHECKED = ['postcard', 'strip'];

test('Framing: every layout\'s live view is its slot with its frame; the review and the print are the same cut', async () => {
  const info = await (await fetch(`${server.api}/api/kiosk/info`)).json();
  for (const l of info.layouts) {
    const checked = CROP_CHECKED.includes(l.name);
    // A paid order for the layout (the sandbox's test payment), handed to the kiosk page.
    const created = await server.call('POST', '/api/generate-qr', { payment_type: 'payme', template: l.name, copies: 1 });
    const id = created.body.order_id;
    assert.equal((await server.call('POST', `/api/test-payment/${id}`)).status, 200);
    // A longer first countdown where the live view is read before the shutter.
    const page = await open(`?fast=1&timeouts=review:60,preview:60${checked ? ',countdown:2' : ''}&session=${id}`,
      undefined, browser, 'shoot');
    const slot = l.slots.find((sl) => sl.shot === 0);
    await page.waitForFunction(() => document.querySelector('#s-shoot .live').dataset.aspect);
    const box = await page.locator('#s-shoot .live').boundingBox();
    assert.ok(Math.abs(box.width / box.height - slot.w / slot.h) < 0.02, `${l.name}: ${box.width}x${box.height} vs ${slot.w}x${slot.h}`);
    if (l.overlay) {
      await page.waitForFunction((k) => { const f = document.getElementById('live-frame'); return !f.hidden && f.dataset.frame === k && f.naturalWidth > 0; }, `${l.name}/0`, { timeout: 10000 });
    }
    await page.waitForFunction(() => document.getElementById('live-video').videoWidth > 0, null, { timeout: 15000 });
    await snap(page, `framed-${l.name}`);
    if (!checked) { await page.context().close(); continue; }

    // The live view during the countdown (the big digit hidden from the screenshot).
    await page.waitForSelector('#shoot-count:not([hidden])');
    const livePng = await page.screenshot({ clip: box, style: '#shoot-count { visibility: hidden !important; }' });
    assert.ok(await page.evaluate(() => document.getElementById('shot-review').hidden), 'the live view was read before the shutter');
    assert.deepEqual(await liveSize(page), [1920, 1080], 'the live view stays light');
    await page.evaluate(() => window.fotobox.setTimeouts({ countdown: 0.2 }));

    // The kept shot: its size and the time from the shutter to its review image.
    await page.waitForSelector('#review-actions:not([hidden])', { timeout: 20000 });
    await page.waitForFunction(() => window.fotobox.lastShot());
    const shot = await page.evaluate(() => window.fotobox.lastShot());
    console.log(`# ${l.name}: still from the fake camera (${CAMERA.join('x')} pattern, ImageCapture.takePhoto): ` +
      `${shot.width}x${shot.height}; shutter to review image ${shot.ms} ms`);
    assert.deepEqual([shot.width, shot.height], CAMERA, 'the still uses the whole camera');
    // The review shows the still cut like the print: the box has the slot's shape and the image
    // fills it by the same centred cover crop as the compositor (object-fit: cover).
    const review = await page.evaluate(() => {
      const r = document.getElementById('shot-review');
      const b = r.getBoundingClientRect();
      return { fit: getComputedStyle(r).objectFit, w: b.width, h: b.height };
    });
    assert.equal(review.fit, 'cover');
    assert.ok(Math.abs(review.w / review.h - slot.w / slot.h) < 0.02, JSON.stringify(review));
    await page.waitForFunction(() => getComputedStyle(document.getElementById('flash')).opacity === '0');
    // (Measured again: the review's buttons beside it move the box.)
    const reviewPng = await page.screenshot({ clip: await page.locator('#shot-review').boundingBox() });
    // The still the kiosk uploads is the review image's blob; read it before it is kept.
    const stillSrc = await page.evaluate(() => document.getElementById('shot-review').src);
    const stillBytes = Buffer.from(await page.evaluate(async (u) => {
      const b = new Uint8Array(await (await fetch(u)).arrayBuffer());
      let bin = '';
      for (let i = 0; i < b.length; i += 0x8000) bin += String.fromCharCode(...b.subarray(i, i + 0x8000));
      return btoa(bin);
    }, stillSrc), 'base64');
    const crop = coverCrop(shot.width, shot.height, slot.w, slot.h);
    // The column read: the middle of the band right of the picture's centre.
    const colX = shot.width / 2 + shot.width / (2 * BANDS);
    const colAt = (colX - crop.x) / crop.w;
    const still = await linesOf(page, stillSrc, null, colX / shot.width);
    const live = await linesOf(page, dataUrl('image/png', livePng), null, 1 - colAt);
    const shown = await linesOf(page, dataUrl('image/png', reviewPng), null, colAt);
    await page.click('#btn-keep');
    for (let i = 1; i < l.shots; i++) {
      await page.waitForFunction((k) => window.fotobox.state.shots === k, i, { timeout: 15000 });
      await page.waitForSelector('#review-actions:not([hidden])', { timeout: 20000 });
      await page.click('#btn-keep');
    }
    await waitScreen(page, 'preview', 40000);
    await page.waitForFunction(() => document.getElementById('preview-img').naturalWidth > 0);
    await page.click('#btn-print');
    await waitScreen(page, 'thanks', 30000);
    await waitFor(async () => (await server.call('GET', `/api/kiosk/orders/${id}/print`)).body.state === 'done',
      { what: `${l.name} printed` });
    const file = printedFiles(join(server.dataDir, 'print-out')).find((f) => f.includes(id) && f.endsWith('.jpg'));
    assert.ok(file, 'the folder printer wrote this order');
    const printed = dataUrl('image/jpeg', readFileSync(file));
    // ... and the server kept exactly those bytes as the order's first shot.
    const stored = readdirSync(join(server.dataDir, 'orders', id)).find((f) => f.startsWith('shot-1.'));
    assert.ok(stored && readFileSync(join(server.dataDir, 'orders', id, stored)).equals(stillBytes), `${l.name}: stored shot ${stored}`);

    // The camera gave the pattern (not its own picture), whole: every band, the top and bottom strips.
    const lab = labeller(still.row, still.col);
    assert.deepEqual(lab.seen.map(nominalLabel), [...Array(BANDS + 2).keys()], JSON.stringify(lab.seen));
    checkView(`${l.name} live view (mirrored)`, live, still, lab, crop, slot, true);
    checkView(`${l.name} review`, shown, still, lab, crop, slot);
    let bands;
    for (const s of l.slots.filter((sl) => sl.shot === 0)) {
      const lines = await linesOf(page, printed, { x: s.x, y: s.y, w: s.w, h: s.h }, colAt);
      bands = checkView(`${l.name} print, slot at ${s.x},${s.y}`, lines, still, lab, crop, s);
    }
    console.log(`# ${l.name}: the live view, the review and the print show bands ${bands[0]}..${bands[bands.length - 1]} of 0..${BANDS - 1}`);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  }
});

test('A 4K camera on an engine without ImageCapture: the still is a 4K video frame, then the live view is 1080p again', async () => {
  const created = await server.call('POST', '/api/generate-qr', { payment_type: 'payme', template: 'postcard', copies: 1 });
  const id = created.body.order_id;
  assert.equal((await server.call('POST', `/api/test-payment/${id}`)).status, 200);
  // The camera's largest video size is asked for that one frame only.
  const page = await open(`?fast=1&timeouts=countdown:0.2,review:60&session=${id}`, undefined, browser, 'shoot',
    () => { delete window.ImageCapture; });
  assert.equal(await page.evaluate(() => typeof ImageCapture), 'undefined');
  await page.waitForSelector('#review-actions:not([hidden])', { timeout: 20000 });
  await page.waitForFunction(() => window.fotobox.lastShot());
  const shot = await page.evaluate(() => window.fotobox.lastShot());
  await page.waitForFunction(() => document.getElementById('live-video').videoWidth === 1920, null, { timeout: 5000 });
  console.log(`# still from the fake camera (${CAMERA.join('x')} pattern, no ImageCapture): ${shot.width}x${shot.height}; ` +
    `shutter to review image ${shot.ms} ms; live view back to ${(await liveSize(page)).join('x')}`);
  assert.deepEqual([shot.width, shot.height], CAMERA);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('Back from every unpaid screen; Back on the QR screen cancels the order', async () => {
  const page = await open('?fast=1');
  await page.click('#s-attract');
  await waitScreen(page, 'language');
  await page.click('#s-language [data-action=back]');
  await waitScreen(page, 'attract');
  await page.click('#s-attract');
  await waitScreen(page, 'language');
  await page.click('[data-lang=uz]');
  await waitScreen(page, 'layout');
  await page.click('#s-layout [data-action=back]');
  await waitScreen(page, 'language');
  await page.click('[data-lang=uz]');
  await page.click('[data-layout=strip]');
  await waitScreen(page, 'copies');
  await page.click('#s-copies [data-action=back]');
  await waitScreen(page, 'layout');
  await page.click('[data-layout=strip]');
  await page.click('#copies-next');
  await waitScreen(page, 'payment');
  await page.click('#s-payment [data-action=back]');
  await waitScreen(page, 'copies');
  await page.click('#copies-next');
  await page.click('[data-provider=payme]');
  await waitScreen(page, 'qr');
  const orderId = (await state(page)).order;
  await page.click('#s-qr [data-action=back]');
  await waitScreen(page, 'payment');
  const st = await server.call('GET', `/api/payment-status/${orderId}`);
  assert.equal(st.body.status, 'canceled');
  assert.equal(st.body.cancel_reason, 'customer');
  assert.equal((await state(page)).order, null);
  // Paying a cancelled order is refused: the customer is never charged for it.
  const pay = await server.call('POST', `/api/test-payment/${orderId}`);
  assert.notEqual((await server.call('GET', `/api/payment-status/${orderId}`)).body.status, 'success', JSON.stringify(pay.body));
  await page.context().close();
});

test('Timeouts: idle unpaid screens and an unpaid QR code go back to attract and cancel the order', async () => {
  const page = await open('?timeouts=language:2,layout:3,copies:3,payment:3,qr:2');
  await page.click('#s-attract');
  await waitScreen(page, 'language');
  await waitScreen(page, 'attract', 5000); // idle on the language screen
  await page.click('#s-attract');
  await waitScreen(page, 'language');
  await page.click('[data-lang=en]');
  await page.click('[data-layout=postcard]');
  await page.click('#copies-next');
  await page.click('[data-provider=payme]');
  await waitScreen(page, 'qr');
  const orderId = (await state(page)).order;
  await snap(page, 'qr-timeout');
  await waitScreen(page, 'attract', 8000);
  await waitFor(async () => (await server.call('GET', `/api/payment-status/${orderId}`)).body.status === 'canceled',
    { what: 'order cancelled after the QR timeout' });
  await page.context().close();
});

/** The Payme key the server generated at its first start (sandbox, no config). */
function sandboxPaymeKey() {
  const text = readFileSync(join(server.dataDir, 'sandbox_credentials.toml'), 'utf8');
  return text.match(/^payme_key\s*=\s*"([^"]+)"/m)[1];
}

test('A payment still under way when the QR expires: a bounded wait, then a clear message, staff alerted, attract', async () => {
  const page = await open('?timeouts=language:5,layout:5,copies:5,payment:5,qr:2,qrWait:3,qrGiveUp:3');
  // The page carries its kiosk key; a caller without it is refused.
  const key = await page.evaluate(() => document.querySelector('meta[name="fotobox-kiosk-key"]').content);
  assert.match(key, /^[0-9a-f]{64}$/);
  await page.click('#s-attract');
  await page.click('[data-lang=en]');
  await page.click('[data-layout=postcard]');
  await page.click('#copies-next');
  await page.click('[data-provider=payme]');
  await waitScreen(page, 'qr');
  const orderId = (await state(page)).order;
  const cancels = [];
  page.on('request', (r) => { if (r.url().endsWith('/cancel')) cancels.push(r.url()); });
  assert.equal((await fetch(`${server.api}/api/orders/${orderId}/cancel`, { method: 'POST' })).status, 401);
  // The customer opened the payment in the Payme app: Payme created its transaction (state 1).
  const info = await (await server.call('GET', `/api/payment-status/${orderId}`)).body;
  const rpc = await fetch(`${server.callback}/api/payme/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`Paycom:${sandboxPaymeKey()}`).toString('base64')}` },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'CreateTransaction',
      params: { id: 'e2e0000000000000000000a1', time: Date.now(), amount: info.amount * 100, account: { order_id: orderId } } }),
  }).then((r) => r.json());
  assert.equal(rpc.result && rpc.result.state, 1, JSON.stringify(rpc));
  await waitScreen(page, 'qrwait', 8000);
  assert.match(await text(page, '#qrwait-countdown'), /^\d+:\d\d$/);
  await snap(page, 'qr-payment-under-way');
  await waitScreen(page, 'qrgiveup', 8000);
  assert.match(await text(page, '#qrgiveup-body'), new RegExp(orderId));
  await snap(page, 'qr-payment-unconfirmed');
  await waitScreen(page, 'attract', 8000);
  // Staff were told, and the order was left for them (not cancelled under the provider).
  const alerts = await server.call('GET', '/api/staff/alerts');
  assert.ok(JSON.stringify(alerts.body).includes(`payment_unconfirmed:${orderId}`), JSON.stringify(alerts.body));
  assert.equal((await server.call('GET', `/api/payment-status/${orderId}`)).body.status, 'pending');
  // No storm after the deadline (it used to call cancel every 250 ms): one try at the deadline.
  assert.equal(cancels.length, 1, JSON.stringify(cancels));
  // That one cancel is refused (409: the payment is under way); the browser logs it, nothing else.
  assert.deepEqual(page.errors.filter((e) => !e.includes('status of 409')), []);
  await page.context().close();
});

test('Language switch: O\'zbekcha by default, Русский and English on every string, portrait 1080x1920', async () => {
  const page = await open('?fast=1', { width: 1080, height: 1920 });
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'uz');
  await page.click('#s-attract');
  await waitScreen(page, 'language');
  assert.equal(await text(page, '#s-language h2'), 'Tilni tanlang');
  await snap(page, 'portrait-language');
  await page.click('[data-lang=ru]');
  await waitScreen(page, 'layout');
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'ru');
  assert.equal(await text(page, '#s-layout [data-action=back]'), '← Назад');
  assert.match(await text(page, '.layout-card .cost'), /сум$/);
  await snap(page, 'portrait-layout-ru');
  await page.click('#s-layout [data-action=back]');
  await page.click('[data-lang=en]');
  await waitScreen(page, 'layout');
  assert.equal(await text(page, '#s-layout h2'), 'Choose a layout');
  assert.match(await text(page, '.layout-card .cost'), /UZS$/);
  await page.click('[data-layout=grid]');
  await page.click('#copies-next');
  await page.click('[data-provider=click]');
  await waitScreen(page, 'qr');
  await snap(page, 'portrait-qr-en');
  await page.click('#s-qr [data-action=back]');
  await waitScreen(page, 'payment');
  // No element with data-i18n is left empty or showing its key, in any language.
  for (const lang of ['uz', 'ru', 'en']) {
    const bad = await page.evaluate(async (l) => {
      const m = await import('./js/i18n.js');
      m.setLang(l);
      return [...document.querySelectorAll('[data-i18n]')]
        .filter((el) => !el.textContent.trim() || el.textContent === el.dataset.i18n).map((el) => el.dataset.i18n);
    }, lang);
    assert.deepEqual(bad, [], `untranslated keys in ${lang}`);
  }
  await page.context().close();
});

test('No camera: out of service before payment, no order created', async () => {
  const noCam = await launchChromium({ camera: false });
  try {
    const before = (await server.call('GET', '/api/test')).body.payments_count;
    const page = await open('?fast=1', undefined, noCam);
    await page.click('#s-attract');
    await waitScreen(page, 'outofservice');
    assert.equal(await text(page, '#oos-reason'), 'Kamera topilmadi');
    await snap(page, 'out-of-service');
    assert.equal((await server.call('GET', '/api/test')).body.payments_count, before);
  } finally {
    await noCam.close();
  }
});
