// Shared helpers of the end-to-end suites: a `fotobox serve` in sandbox mode on a temp data dir
// and port 0, chromium through playwright-core, screenshots into test-artifacts/.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, readdirSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const ARTIFACTS = join(ROOT, 'test-artifacts');

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];
export const FAKE_CAMERA = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];

/** The suites' chromium (`CHROMIUM` or Debian's), with Chromium's fake camera unless `camera` is
 * false; the fake camera shows `videoFile` (a `.y4m` or `.mjpeg`, looped) when given, else its own
 * moving picture. */
export async function launchChromium({ camera = true, videoFile = null } = {}) {
  const { chromium } = await import('playwright-core');
  const fake = videoFile ? [...FAKE_CAMERA, `--use-file-for-fake-video-capture=${videoFile}`] : FAKE_CAMERA;
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: camera ? [...CHROMIUM_ARGS, ...fake] : CHROMIUM_ARGS,
  });
}

export function artifactDir(sub) {
  const d = join(ARTIFACTS, sub);
  mkdirSync(d, { recursive: true });
  return d;
}

/** Start `fotobox serve` (sandbox, no config file, temp data dir, ports 0); resolves once it prints its addresses. */
export async function startServe(extraEnv = {}) {
  const bin = process.env.FOTOBOX_BIN || join(ROOT, 'target', 'debug', 'fotobox');
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run cargo build -p fotobox first`);
  const dataDir = mkdtempSync(join(tmpdir(), 'fotobox-e2e-'));
  const env = {
    ...process.env,
    FOTOBOX_MODE: 'sandbox',
    FOTOBOX_DATA_DIR: dataDir,
    FOTOBOX_SERVER_API_ADDR: '127.0.0.1:0',
    FOTOBOX_SERVER_CALLBACK_ADDR: '127.0.0.1:0',
    // No provider settings at all: a first start in sandbox mode generates its credentials.
    RUST_LOG: process.env.RUST_LOG || 'info',
    ...extraEnv,
  };
  delete env.FOTOBOX_CONFIG;
  delete env.FOTOBOX_BIN; // not a config key: the strict environment would refuse it
  const child = spawn(bin, ['serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const addrs = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${log}`)), 20000);
    const onData = (b) => {
      log += b.toString();
      const m = log.match(/listening callback=(\S+) api=(\S+)/);
      if (m) { clearTimeout(timer); resolve({ callback: m[1], api: m[2] }); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`serve exited ${code}:\n${log}`)); });
  });
  child.stdout.on('data', (b) => { log += b.toString(); });
  child.stderr.on('data', (b) => { log += b.toString(); });
  return {
    ...addrs,
    dataDir,
    log: () => log,
    /** A call as a staff tool makes it: with the staff token the server generated into its data dir
     * (the endpoints that take an order id want the kiosk key or this token). */
    async call(method, path, body) {
      const headers = { authorization: `Bearer ${readFileSync(join(dataDir, 'staff_token'), 'utf8').trim()}` };
      if (body) headers['content-type'] = 'application/json';
      const r = await fetch(addrs.api + path, { method, headers, body: body ? JSON.stringify(body) : undefined });
      const text = await r.text();
      let json; try { json = JSON.parse(text); } catch { json = text; }
      return { status: r.status, body: json };
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => { child.once('exit', r); setTimeout(r, 5000); });
      }
      if (!process.env.KEEP_DATA) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Files the folder printer wrote (sandbox mode prints into the data dir). */
export function printedFiles(dataDir) {
  const out = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p); else out.push(p);
    }
  };
  if (existsSync(dataDir)) walk(dataDir);
  return out;
}

export function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

export async function waitFor(fn, { timeout = 15000, interval = 100, what = 'condition' } = {}) {
  const t0 = Date.now();
  let last;
  for (;;) {
    try { last = await fn(); if (last) return last; } catch (e) { last = e; }
    if (Date.now() - t0 > timeout) throw new Error(`timed out waiting for ${what} (last: ${last})`);
    await sleep(interval);
  }
}
