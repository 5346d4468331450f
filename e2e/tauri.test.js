// Real-window suite: the debug Tauri kiosk (target/debug/fotobox-kiosk) under Xvfb, driven by
// tauri-driver + WebKitWebDriver over raw WebDriver HTTP. Run it through scripts/e2e.sh (which
// builds the binary once and wraps this in xvfb-run). Screenshots: test-artifacts/tauri/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, homedir } from 'node:os';
import { join } from 'node:path';
import { ROOT, artifactDir, waitFor, sleep } from './lib.js';

const SHOTS = artifactDir('tauri');
const APP = process.env.FOTOBOX_KIOSK_BIN || join(ROOT, 'target', 'debug', 'fotobox-kiosk');
const DRIVER = process.env.TAURI_DRIVER || [join(homedir(), '.cargo', 'bin', 'tauri-driver'), 'tauri-driver'].find((p) => p === 'tauri-driver' || existsSync(p));
const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';
const PIN = '1357';

let driver;
let driverLog = '';
let base;
let session;
let dataDir;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
    s.on('error', reject);
  });
}

async function wd(method, path, body) {
  const r = await fetch(`${base}${path}`, {
    method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(60000),
  }).catch((e) => { throw new Error(`${method} ${path}: ${e.message}\n--- tauri-driver:\n${driverLog.slice(-4000)}`); });
  const json = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(json)}`);
  return json.value;
}

const exec = (script, args = []) => wd('POST', `/session/${session}/execute/sync`, { script, args });
const execAsync = (script, args = []) => wd('POST', `/session/${session}/execute/async`, { script, args });
async function click(css) {
  const el = await wd('POST', `/session/${session}/element`, { using: 'css selector', value: css });
  await wd('POST', `/session/${session}/element/${el[ELEMENT]}/click`, {});
}
async function snap(name) {
  const png = await wd('GET', `/session/${session}/screenshot`);
  writeFileSync(join(SHOTS, `${name}.png`), Buffer.from(png, 'base64'));
}
function waitScreen(name, timeout = 20000) {
  return waitFor(() => exec("return document.body.dataset.ready === '1' ? document.body.dataset.screen : null")
    .then((s) => s === name), { timeout, what: `screen ${name}` });
}
const state = () => exec('return window.fotobox.state');

before(async () => {
  assert.ok(existsSync(APP), `${APP} is missing: cargo build -p fotobox-kiosk`);
  assert.ok(process.env.DISPLAY, 'run under xvfb-run (scripts/e2e.sh does)');
  dataDir = mkdtempSync(join(tmpdir(), 'fotobox-tauri-e2e-'));
  const port = await freePort();
  const nativePort = await freePort();
  base = `http://127.0.0.1:${port}`;
  // The app inherits tauri-driver's environment.
  const env = {
    ...process.env,
    FOTOBOX_MODE: 'sandbox',
    FOTOBOX_DATA_DIR: dataDir,
    FOTOBOX_SERVER_API_ADDR: '127.0.0.1:0',
    FOTOBOX_SERVER_CALLBACK_ADDR: '127.0.0.1:0',
    // The Payme simulator signs its callbacks with the sandbox key.
    FOTOBOX_PAYME_TEST_KEY: 'e2e-payme-test-key',
    KIOSK_MOCK_CAMERA: '1',
    // WebKit's own compositing policy here: with compositing off (the kiosk's default, see
    // src-tauri/src/webview.rs) WebKitWebDriver's screenshot of a page that no longer paints
    // (the thank-you screen) never returns; the page itself keeps working (measured 2026-11-29).
    KIOSK_WEBKIT_GPU: '1',
  };
  delete env.FOTOBOX_CONFIG;
  // The staff PIN, set with the CLI before the window starts (the panel test below).
  const set = spawnSync(process.env.FOTOBOX_BIN || join(ROOT, 'target', 'debug', 'fotobox'), ['staff', 'set-pin'], {
    input: `${PIN}\n`, env, encoding: 'utf8',
  });
  assert.equal(set.status, 0, set.stderr);
  // Its own process group: whatever it started (WebKitWebDriver, the app) can be ended with it.
  driver = spawn(DRIVER, ['--port', String(port), '--native-port', String(nativePort)], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  driver.stdout.on('data', (b) => { driverLog += b; });
  driver.stderr.on('data', (b) => { driverLog += b; });
  await waitFor(() => fetch(`${base}/status`).then((r) => r.status < 500).catch(() => false), { timeout: 15000, what: 'tauri-driver' });
  const s = await wd('POST', '/session', {
    capabilities: { alwaysMatch: { browserName: 'wry', 'tauri:options': { application: APP } } },
  });
  session = s.sessionId;
  assert.ok(session, `no session: ${driverLog}`);
});

/** Processes of the driver's group that have not exited (zombies are gone already, only not
 * reaped yet): `pid command`, one per line. */
function aliveInGroup(pgid) {
  const ps = spawnSync('ps', ['-o', 'pid=,stat=,comm=', '-g', String(pgid)], { encoding: 'utf8' }).stdout || '';
  return ps.split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => f.length === 3 && !f[1].startsWith('Z'))
    .map(([pid, , comm]) => `${pid} ${comm}`);
}

after(async () => {
  // Deleting the session makes WebKitWebDriver end the app it launched (at once: the app's log
  // shows no shutdown; the graceful stop is tauri-signal.test.js's). The app's WebKit network
  // process outlives it for a moment, and the exited ones stay zombies until reaped: a check
  // of the group must ignore those (measured 2026-11-29: the app defunct 61 ms after the delete,
  // WebKitNetworkProcess still up then, gone within seconds).
  if (session) await wd('DELETE', `/session/${session}`).catch(() => {});
  if (driver && driver.exitCode === null) {
    driver.kill('SIGTERM');
    await new Promise((r) => { driver.once('exit', r); setTimeout(r, 5000); });
  }
  if (driver) {
    let alive = [];
    await waitFor(() => { alive = aliveInGroup(driver.pid); return alive.length === 0; }, { timeout: 10000, what: 'the group to exit' })
      .catch(() => {});
    // Something still running would hold this file's output open (the run would never end):
    // name it and end the whole group.
    if (alive.length) {
      console.log(`# still running 10 s after the WebDriver session ended, killed: ${alive.join(', ')}`);
      try { process.kill(-driver.pid, 'SIGKILL'); } catch { /* gone meanwhile */ }
    }
  }
  if (dataDir && !process.env.KEEP_DATA) rmSync(dataDir, { recursive: true, force: true });
});

test('Tauri window: attract → QR, paid by the simulator arrives as an event, mock-camera capture, print', async () => {
  await waitScreen('attract');
  assert.equal(await exec('return location.protocol'), 'tauri:');
  assert.equal(await exec('return !!window.__TAURI__'), true);
  await snap('01-attract');
  // Polling slowed to 10 minutes: only the Tauri event can deliver "paid" in time.
  await exec('window.fotobox.setTimeouts({statusPoll: 600, paid: 0.5, countdown: 1, review: 1, preview: 1, thanks: 60})');
  const info = await execAsync('const done = arguments[arguments.length - 1]; window.__TAURI__.core.invoke("kiosk_info").then(done, (e) => done({error: String(e)}))');
  assert.match(info.api_url || '', /^http:\/\/127\.0\.0\.1:\d+$/, JSON.stringify(info));

  await click('#s-attract');
  await waitScreen('language'); // the mock camera was opened: Camera permission granted by the shell
  await click('[data-lang=en]');
  await waitScreen('layout');
  await snap('02-layout');
  await click('[data-layout=postcard]');
  await waitScreen('copies');
  await click('#copies-next');
  await waitScreen('payment');
  await click('[data-provider=payme]');
  await waitScreen('qr');
  const orderId = (await state()).order;
  assert.match(orderId, /^[0-9A-Z]{4}-[0-9A-Z]{4}$/);
  assert.match(await exec("return document.getElementById('qr-countdown').textContent"), /^\d+:\d\d$/);
  await snap('03-qr');

  const t0 = Date.now();
  // The shell hands the page this boot's kiosk key; without it the API refuses the order's endpoints.
  const key = await execAsync("const done = arguments[arguments.length - 1]; window.__TAURI__.core.invoke('kiosk_key').then(done, (e) => done('ERR ' + e));");
  assert.match(key, /^[0-9a-f]{64}$/);
  const refused = await fetch(`${info.api_url}/api/test-payment/${orderId}`, { method: 'POST' });
  assert.equal(refused.status, 401);
  const r = await fetch(`${info.api_url}/api/test-payment/${orderId}`, { method: 'POST', headers: { 'x-fotobox-kiosk-key': key } });
  const t1 = Date.now();
  assert.equal(r.status, 200, await r.text());
  await waitScreen('paid', 10000);
  const st = await state();
  assert.equal(st.paidVia, 'event', 'paid must arrive as the Tauri payment-status event');
  const paidEpoch = await exec('return performance.timeOrigin + window.fotobox.paidAt()');
  console.log(`# tauri commit→paid: ${Math.round(paidEpoch - t1)} ms after the simulator's response, ${Math.round(paidEpoch - t0)} ms after its request`);
  await snap('04-paid');

  await waitScreen('shoot');
  await waitFor(() => exec("return document.getElementById('live-video').videoWidth"), { timeout: 20000, what: 'mock camera frames' });
  const size = await exec("const v = document.getElementById('live-video'); return [v.videoWidth, v.videoHeight]");
  assert.ok(size[0] > 0 && size[1] > 0);
  // The layout's frame over the slot comes through the shot_overlay command.
  await waitFor(() => exec("const f = document.getElementById('live-frame'); return !f.hidden && f.naturalWidth > 0"), { timeout: 10000, what: 'overlay frame over the live view' });
  await snap('05-shoot-live');
  // A frame drawn from the mock camera is a real picture, not a black canvas.
  const lit = await exec(`const v = document.getElementById('live-video');
    const c = document.createElement('canvas'); c.width = 320; c.height = 180;
    const g = c.getContext('2d'); g.drawImage(v, 0, 0, 320, 180);
    const d = g.getImageData(0, 0, 320, 180).data; let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] > 150) n++;
    return n;`);
  console.log(`# mock camera frame: ${lit} of 57600 pixels lit`);
  assert.ok(lit > 200, `captured frame is black (${lit} lit pixels)`);
  await waitScreen('preview', 40000);
  await waitFor(() => exec("return document.getElementById('preview-img').naturalWidth"), { what: 'composite preview' });
  await snap('06-preview');
  await waitScreen('thanks', 40000);
  await snap('07-thanks');
  const pr = await execAsync('const done = arguments[arguments.length - 1]; window.__TAURI__.core.invoke("print_status", {orderId: arguments[0]}).then(done, (e) => done({error: e}))', [orderId]);
  assert.equal(pr.state, 'done', JSON.stringify(pr));
  // Commands fail with a serializable error, not a string.
  const err = await execAsync('const done = arguments[arguments.length - 1]; window.__TAURI__.core.invoke("payment_status", {orderId: "NOPE-NOPE"}).then(() => done(null), (e) => done(e))');
  assert.equal(err.kind, 'not_found');
  await sleep(100);
});

test('Tauri window: the corner gesture opens the staff panel; the PIN alone logs in', async () => {
  // From the kiosk page (the thank-you screen of the order above).
  // Five taps in the top-left corner (pointer events as a touch screen sends them).
  await exec(`for (let i = 0; i < 5; i++) document.dispatchEvent(new PointerEvent('pointerdown', {clientX: 20, clientY: 20, bubbles: true}));`);
  await waitFor(() => exec("return location.pathname.endsWith('staff.html') && !!document.querySelector('#pad:not([hidden])')"),
    { timeout: 20000, what: 'the PIN pad' });
  // In the window the PIN alone is enough (no token row).
  assert.equal(await exec("const r = document.getElementById('token-row'); return !r || r.hidden || r.offsetParent === null"), true);
  await snap('08-staff-pin');
  for (const d of PIN) await click(`#keys [data-k="${d}"]`);
  await click('#keys [data-k="ok"]');
  await waitFor(() => exec("return document.body.dataset.loaded === 'dashboard'"), { timeout: 20000, what: 'staff dashboard' });
  assert.ok(await exec("return Number(document.getElementById('k-total-revenue').dataset.value)") >= 0);
  // The config's default language (staff.language = uz), and sums as chromium shows them
  // (formatted by hand in ui/js/staff-i18n.js, not by WebKitGTK's Intl).
  assert.equal(await exec('return document.documentElement.lang'), 'uz');
  assert.match(await exec("return document.getElementById('k-total-revenue').textContent"), /^\d{1,3}(\u00a0\d{3})* soʻm$/);
  await snap('09-staff-dashboard');

  // Devices → Camera test in the window itself: WebKitGTK (no ImageCapture: a video frame) with
  // the mock camera; the still goes over CORS from tauri://localhost to the API, and a run in
  // the window speaks for the kiosk's camera (the Devices row follows).
  await click('#tabs [data-page="devices"]');
  await waitFor(() => exec("return document.body.dataset.loaded === 'devices'"), { timeout: 20000, what: 'devices page' });
  await click('#st-buttons [data-kind="camera"]');
  const state = await waitFor(() => exec(`const r = document.querySelector('#t-selftest tr[data-kind="camera"]');
    return r && !['none', 'running'].includes(r.dataset.state) && !document.getElementById('st-all').disabled ? r.dataset.state : null`),
  { timeout: 30000, what: 'the camera test' });
  const row = await exec(`return document.querySelector('#t-selftest tr[data-kind="camera"]').textContent`);
  assert.ok(['passed', 'warning'].includes(state), row);
  const size = await exec("return document.getElementById('st-still-size').textContent");
  const [, w, h] = /(\d+)×(\d+)/.exec(size) || [];
  assert.ok(Number(w) > 0 && Number(h) > 0, size);
  assert.ok(row.includes(`${w}x${h}`), `${row} vs ${size}`);
  const stills = await exec("return [...document.querySelectorAll('#t-devices td')].map((td) => td.textContent).join(' | ')");
  assert.ok(stills.includes(`${w}×${h}`), stills);
  console.log(`# Tauri window camera test: ${w}x${h} still (WebKitGTK mock camera), ${state}`);
  // Every call of the page went through (the maintenance routes answer the window's origin too).
  const toast = await exec("const t = document.getElementById('toast'); return t.hidden ? '' : t.textContent");
  assert.equal(toast, '', `the page showed an error: ${toast}`);
  assert.notEqual(await exec("return document.getElementById('tunnel-sup').textContent"), '');
  await snap('10-staff-camera-test');
});
