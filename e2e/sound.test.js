// Sound suite: the kiosk page (served by `fotobox serve`, sandbox) in chromium; what plays is
// read from the page's own media events (`playing` on the <audio> elements of js/sound.js,
// caught in the capture phase). A normal flow plays the countdown beep, the shutter, the paid
// chime and the spoken prompts in the chosen language; mute set through the staff API silences
// everything from the next customer on; missing sound files change nothing in the flow.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServe, launchChromium, ROOT, sleep } from './lib.js';

const PIN = '2468';

let server;
let browser;

before(async () => {
  // No quiet hours (the default 22:00-08:00 would silence the prompts when the suite runs at night).
  server = await startServe({ FOTOBOX_SOUND_QUIET_FROM: '00:00', FOTOBOX_SOUND_QUIET_TO: '00:00' });
  // No autoplay flag: the customer's first tap is the user activation Chromium's policy wants,
  // as on a real browser kiosk.
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function open(query) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.addInitScript(() => {
    window.__sounds = [];
    for (const type of ['play', 'playing']) {
      document.addEventListener(type, (e) => {
        const el = e.target;
        if (!el || !el.dataset || !el.dataset.sound) return;
        window.__sounds.push({ type, name: el.dataset.sound, src: el.getAttribute('src'), volume: el.volume,
          screen: document.body.dataset.screen });
      }, true);
    }
  });
  await page.goto(`${server.api}/${query}`);
  await waitScreen(page, 'attract');
  page.errors = errors;
  return page;
}

function waitScreen(page, name, timeout = 15000) {
  return page.waitForFunction((n) => document.body.dataset.screen === n && document.body.dataset.ready === '1',
    name, { timeout });
}

const played = (page) => page.evaluate(() => window.__sounds.filter((s) => s.type === 'playing'));

/** One customer from the attract screen to the thank-you screen: postcard (one shot), Payme. */
async function customer(page, lang) {
  await page.click('#s-attract');
  await waitScreen(page, 'language');
  await page.click(`[data-lang=${lang}]`);
  await waitScreen(page, 'layout');
  await page.click('[data-layout=postcard]');
  await page.click('#copies-next');
  await waitScreen(page, 'payment');
  await page.click('[data-provider=payme]');
  await waitScreen(page, 'qr');
  await sleep(300); // the prompt starts while the QR is on screen
  await page.click('#qr-simulate');
  await waitScreen(page, 'paid', 10000);
  await waitScreen(page, 'thanks', 60000);
  await sleep(500);
}

test('A normal flow plays the beep, the shutter, the paid chime and the prompts in the chosen language', async () => {
  const page = await open('?fast=1&timeouts=countdown:3,thanks:10');
  await customer(page, 'ru');
  const got = await played(page);
  const names = got.map((s) => s.name);
  for (const n of ['scan', 'chime', 'look', 'beep', 'shutter', 'prints']) assert.ok(names.includes(n), `${n} did not play: ${JSON.stringify(got)}`);
  // At the moments that matter, in the order of the flow.
  const first = (n) => got.find((s) => s.name === n);
  assert.equal(first('scan').screen, 'qr');
  assert.equal(first('chime').screen, 'paid');
  assert.equal(first('look').screen, 'shoot');
  assert.equal(first('prints').screen, 'thanks');
  assert.ok(names.indexOf('scan') < names.indexOf('chime') && names.indexOf('chime') < names.indexOf('shutter')
    && names.indexOf('shutter') < names.indexOf('prints'), names.join(','));
  // The 3-2-1 countdown beeps three times before the one shot.
  assert.equal(names.filter((n) => n === 'beep').length, 3, names.join(','));
  // Spoken in Russian, at the configured volume (80 %).
  for (const n of ['scan', 'look', 'prints']) assert.equal(first(n).src, `sounds/${n}-ru.ogg`);
  assert.ok(got.every((s) => Math.abs(s.volume - 0.8) < 1e-6), JSON.stringify(got));
  // The page's own counter agrees; six <audio> elements, made once.
  const counts = await page.evaluate(() => window.fotobox.sound.playing);
  assert.equal(counts.beep, 3);
  assert.equal(await page.locator('#sounds audio').count(), 6);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

/** Staff log in to the panel in their own browser context and tick "mute" on the Settings page. */
async function muteInPanel() {
  const set = spawnSync(process.env.FOTOBOX_BIN || join(ROOT, 'target', 'debug', 'fotobox'), ['staff', 'set-pin'], {
    input: `${PIN}\n`, env: { ...process.env, FOTOBOX_DATA_DIR: server.dataDir, FOTOBOX_MODE: 'sandbox' }, encoding: 'utf8',
  });
  assert.equal(set.status, 0, set.stderr);
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const panel = await ctx.newPage();
  await panel.goto(`${server.api}/staff.html`);
  await panel.fill('#token', readFileSync(join(server.dataDir, 'staff_token'), 'utf8').trim());
  for (const d of PIN) await panel.click(`#keys [data-k="${d}"]`);
  await panel.click('#keys [data-k="ok"]');
  await panel.waitForSelector('body[data-loaded="dashboard"]');
  await panel.click('#tabs [data-page="settings"]');
  await panel.waitForSelector('body[data-loaded="settings"]');
  assert.equal(await panel.inputValue('#sound-form [name=volume]'), '80');
  assert.equal(await panel.inputValue('#sound-form [name=quiet_from]'), '00:00');
  assert.equal(await panel.isChecked('#sound-form [name=muted]'), false);
  await panel.check('#sound-form [name=muted]');
  await panel.click('#sound-form button[type=submit]');
  await panel.waitForFunction(() => document.getElementById('sound-result').textContent.trim() !== '');
  assert.equal(await panel.evaluate(() => document.getElementById('sound-result').classList.contains('bad')), false);
  await ctx.close();
}

test('Mute ticked in the staff panel: the next customer hears nothing', async () => {
  const page = await open('?fast=1&timeouts=thanks:10');
  // The page booted unmuted; staff mute it now. It learns at the next customer's start.
  await muteInPanel();
  const r = await server.call('GET', '/api/staff/sound');
  assert.equal(r.body.muted, true, JSON.stringify(r.body));
  await customer(page, 'en');
  assert.deepEqual(await page.evaluate(() => window.__sounds), [], 'nothing may even start');
  assert.equal((await page.evaluate(() => window.fotobox.sound.settings())).tones, false);
  assert.deepEqual(page.errors, []);
  await page.context().close();
  const u = await server.call('PUT', '/api/staff/sound', { muted: false });
  assert.equal(u.status, 200, JSON.stringify(u.body));
});

test('Quiet hours (kiosk time) set through the staff API: the tones play, the prompts do not', async () => {
  const page = await open('?fast=1&timeouts=thanks:10');
  // Quiet from an hour ago to an hour from now, kiosk time (+05:00, the default offset).
  const local = new Date(Date.now() + 5 * 3600 * 1000);
  const hhmm = (h) => `${String((h + 24) % 24).padStart(2, '0')}:00`;
  const r = await server.call('PUT', '/api/staff/sound', { quiet_from: hhmm(local.getUTCHours() - 1), quiet_to: hhmm(local.getUTCHours() + 1) });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.quiet_now, true);
  await customer(page, 'uz');
  const names = (await played(page)).map((s) => s.name);
  for (const n of ['chime', 'beep', 'shutter']) assert.ok(names.includes(n), names.join(','));
  assert.deepEqual(names.filter((n) => ['scan', 'look', 'prints'].includes(n)), []);
  await page.context().close();
  const u = await server.call('PUT', '/api/staff/sound', { quiet_from: '00:00', quiet_to: '00:00' });
  assert.equal(u.status, 200, JSON.stringify(u.body));
});

test('Missing sound files change nothing: the flow runs to the prints', async () => {
  const ctxPage = await open('?fast=1&timeouts=thanks:10');
  await ctxPage.route('**/sounds/**', (route) => route.fulfill({ status: 404, body: '' }));
  // The elements already loaded the tones at boot; drop them so every file is missing.
  await ctxPage.evaluate(() => { for (const a of document.querySelectorAll('#sounds audio')) { a.src = `${a.getAttribute('src')}?gone`; } });
  await customer(ctxPage, 'uz');
  assert.deepEqual(await played(ctxPage), []);
  const screens = await ctxPage.evaluate(() => window.fotobox.state.screen);
  assert.equal(screens, 'thanks');
  // 404s of the sound files are the browser's own network lines, not page errors.
  assert.deepEqual(ctxPage.errors.filter((e) => !/404|Failed to load resource/.test(e)), []);
  await ctxPage.context().close();
});
