// The Tauri window under `systemctl stop`: SIGTERM (and SIGINT) shut its core down as gracefully
// as `fotobox serve` (the listeners drain, the database closes) and the process exits 0, instead
// of dying with status 143 mid-request; a sale made just before SIGTERM is in the database after
// it. Run by scripts/e2e.sh under xvfb-run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, waitFor } from './lib.js';

const APP = process.env.FOTOBOX_KIOSK_BIN || join(ROOT, 'target', 'debug', 'fotobox-kiosk');
const CLI = process.env.FOTOBOX_BIN || join(ROOT, 'target', 'debug', 'fotobox');
const STAFF_TOKEN = 'e2e-signal-staff-token-0123456789';

/** Order a postcard and pay it with the sandbox simulator (the staff token stands in for the
 * kiosk key, as for any tool); returns the order id once it is paid. */
async function sale(port) {
  const api = `http://127.0.0.1:${port}`;
  const o = await fetch(`${api}/api/generate-qr`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ payment_type: 'payme', template: 'postcard', copies: 2 }),
  }).then((r) => r.json());
  assert.ok(o.order_id, JSON.stringify(o));
  const r = await fetch(`${api}/api/test-payment/${o.order_id}`, { method: 'POST', headers: { authorization: `Bearer ${STAFF_TOKEN}` } });
  const body = await r.json();
  assert.equal(body.status, 'success', JSON.stringify(body));
  return o.order_id;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
    s.on('error', reject);
  });
}

for (const signal of ['SIGTERM', 'SIGINT']) {
  test(`${signal} stops the kiosk window cleanly with status 0`, async () => {
    assert.ok(existsSync(APP), `${APP} is missing: cargo build -p fotobox-kiosk`);
    assert.ok(process.env.DISPLAY, 'run under xvfb-run (scripts/e2e.sh does)');
    const dataDir = mkdtempSync(join(tmpdir(), 'fotobox-tauri-signal-'));
    const port = await freePort();
    const env = {
      ...process.env,
      FOTOBOX_MODE: 'sandbox',
      FOTOBOX_DATA_DIR: dataDir,
      FOTOBOX_SERVER_API_ADDR: `127.0.0.1:${port}`,
      FOTOBOX_SERVER_CALLBACK_ADDR: '127.0.0.1:0',
      FOTOBOX_PAYME_TEST_KEY: 'e2e-payme-test-key',
      FOTOBOX_SERVER_STAFF_TOKEN: STAFF_TOKEN,
    };
    delete env.FOTOBOX_CONFIG;
    const child = spawn(APP, [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (b) => { log += b; });
    child.stderr.on('data', (b) => { log += b; });
    const exited = new Promise((resolve) => child.once('exit', (code, sig) => resolve({ code, sig })));
    try {
      await waitFor(() => fetch(`http://127.0.0.1:${port}/api/test`).then((r) => r.ok).catch(() => false),
        { timeout: 60000, what: 'the window core answering' });
      // A sale first (SIGTERM only): the order is paid and waits for its photos when the signal comes.
      let paid = null;
      if (signal === 'SIGTERM') paid = await sale(port);
      const t0 = Date.now();
      child.kill(signal);
      const { code, sig } = await Promise.race([exited, new Promise((r) => setTimeout(() => r({ code: 'timeout' }), 20000))]);
      assert.equal(sig, null, `killed by ${sig}:\n${log.slice(-3000)}`);
      assert.equal(code, 0, `exit status ${code}:\n${log.slice(-3000)}`);
      assert.ok(Date.now() - t0 < 15000, 'stopped within the grace period');
      // The database was closed cleanly: no server lock left behind, the API is gone.
      const still = await fetch(`http://127.0.0.1:${port}/api/test`).then(() => true).catch(() => false);
      assert.equal(still, false, 'the API listener is closed');
      if (paid) {
        // The sale survived the stop: the database opens again (no lock left) and holds it paid.
        const show = spawnSync(CLI, ['payments', 'show', paid], { env, encoding: 'utf8' });
        assert.equal(show.status, 0, show.stderr);
        assert.match(show.stdout, /success/, show.stdout);
      }
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
}
