// The one module that talks to Rust. In the Tauri window: invoke() and the `payment-status` event.
// In a browser (served by the API listener): the loopback REST API and SSE (/api/events).
// Either way the page also polls (the caller decides how often), so a lost event only costs time.

const tauri = window.__TAURI__;
export const isTauri = !!(tauri && tauri.core && tauri.core.invoke);

export class BackendError extends Error {
  constructor(kind, message, status) { super(message); this.kind = kind; this.status = status; }
}

// The per-boot kiosk key: the endpoints that take an order id and the event stream want it
// (header X-Fotobox-Kiosk-Key). The API listener writes it into the page it serves (a meta tag);
// the Tauri shell hands it over through the `kiosk_key` command.
const KEY_META = document.querySelector('meta[name="fotobox-kiosk-key"]');
let kioskKey = (KEY_META && KEY_META.content) || '';
export async function loadKioskKey() {
  if (!kioskKey && isTauri) {
    try { kioskKey = await tauri.core.invoke('kiosk_key'); } catch { /* older shell: invoke() only */ }
  }
  return kioskKey;
}
function keyHeaders(h = {}) {
  if (kioskKey) h['x-fotobox-kiosk-key'] = kioskKey;
  return h;
}

function kindOf(status) {
  return { 400: 'bad_request', 404: 'not_found', 409: 'conflict', 503: 'unavailable' }[status] || 'internal';
}

async function invoke(cmd, args, options) {
  try {
    return await tauri.core.invoke(cmd, args, options);
  } catch (e) {
    throw new BackendError(e && e.kind || 'internal', e && e.message || String(e));
  }
}

async function http(method, path, body, raw = false) {
  const init = { method, headers: keyHeaders() };
  if (body instanceof Blob || body instanceof ArrayBuffer || ArrayBuffer.isView(body)) {
    init.body = body;
    init.headers['content-type'] = body.type || 'application/octet-stream';
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['content-type'] = 'application/json';
  }
  let r;
  try {
    r = await fetch(path, init);
  } catch (e) {
    throw new BackendError('offline', String(e));
  }
  if (!r.ok) {
    let msg = r.statusText;
    try { msg = (await r.json()).error || msg; } catch { /* not JSON */ }
    throw new BackendError(kindOf(r.status), msg, r.status);
  }
  return raw ? r.blob() : r.json();
}

const enc = encodeURIComponent;

export const backend = {
  isTauri,
  info: () => (isTauri ? invoke('kiosk_info') : http('GET', '/api/kiosk/info')),
  readiness: (copies = 1) => (isTauri ? invoke('readiness', { copies }) : http('GET', `/api/kiosk/readiness?copies=${copies}`)),
  /** `lang`: the customer's language, so the provider's page opens in it (Payme's `l`). */
  createOrder: ({ provider, template, copies, lang }) => (isTauri
    ? invoke('create_order', { paymentType: provider, template, copies, lang })
    : http('POST', '/api/generate-qr', { payment_type: provider, template, copies, lang })),
  status: (id) => (isTauri ? invoke('payment_status', { orderId: id }) : http('GET', `/api/payment-status/${enc(id)}`)),
  cancel: (id) => (isTauri ? invoke('cancel_order', { orderId: id }) : http('POST', `/api/orders/${enc(id)}/cancel`)),
  /** The customer says they paid: ask the provider (Click Merchant API) when our callback is late. */
  checkPaid: (id) => (isTauri ? invoke('check_payment', { orderId: id }) : http('POST', `/api/orders/${enc(id)}/check-status`)),
  /** Upload one shot (JPEG blob). */
  async uploadShot(id, index, blob) {
    if (isTauri) {
      const bytes = new Uint8Array(await blob.arrayBuffer());
      return invoke('upload_shot', bytes, { headers: { 'order-id': id, 'shot-index': String(index) } });
    }
    return http('POST', `/api/kiosk/orders/${enc(id)}/shots/${index}`, blob);
  },
  compose: (id) => (isTauri ? invoke('compose_order', { orderId: id }) : http('POST', `/api/kiosk/orders/${enc(id)}/compose`)),
  /** The composite as a Blob (JPEG). */
  async preview(id) {
    if (isTauri) {
      const buf = await invoke('order_preview', { orderId: id });
      return new Blob([buf], { type: 'image/jpeg' });
    }
    return http('GET', `/api/kiosk/orders/${enc(id)}/preview`, undefined, true);
  },
  /** The layout's frame over the slot of one shot, as a Blob (PNG); not_found when it has none. */
  async shotOverlay(layout, shot) {
    if (isTauri) {
      const buf = await invoke('shot_overlay', { layout, shot });
      return new Blob([buf], { type: 'image/png' });
    }
    return http('GET', `/api/kiosk/layouts/${enc(layout)}/shots/${shot}/overlay`, undefined, true);
  },
  /** A sample print of a layout (JPEG Blob) for the attract loop. */
  async samplePrint(layout) {
    if (isTauri) {
      const buf = await invoke('sample_print', { layout });
      return new Blob([buf], { type: 'image/jpeg' });
    }
    return http('GET', `/api/kiosk/layouts/${enc(layout)}/sample`, undefined, true);
  },
  print: (id) => (isTauri ? invoke('print_order', { orderId: id }) : http('POST', `/api/kiosk/orders/${enc(id)}/print`)),
  printStatus: (id) => (isTauri ? invoke('print_status', { orderId: id }) : http('GET', `/api/kiosk/orders/${enc(id)}/print`)),
  /** Sandbox only: pay through the provider's simulator over the real callback listener. */
  simulatePay: (id) => (isTauri ? invoke('simulate_payment', { orderId: id }) : http('POST', `/api/test-payment/${enc(id)}`)),
  callStaff: (orderId, reason) => (isTauri
    ? invoke('call_staff', { orderId: orderId || null, reason })
    : http('POST', '/api/kiosk/staff-call', { order_id: orderId || null, reason })),

  /** Subscribe to committed status changes; cb(event) gets {order_id, status, amount, payment_type}. */
  onStatus(cb) {
    if (isTauri && tauri.event && tauri.event.listen) {
      tauri.event.listen('payment-status', (e) => cb(e.payload));
      return;
    }
    // EventSource cannot send the kiosk key: read the SSE stream through fetch instead.
    streamEvents(cb);
  },
};

/** Read `/api/events` (server-sent events) with the kiosk key; reconnect after a pause. */
async function streamEvents(cb) {
  if (typeof TextDecoderStream !== 'function') return; // polling alone then
  for (;;) {
    try {
      const r = await fetch('/api/events', { headers: keyHeaders({ accept: 'text/event-stream' }) });
      if (r.ok && r.body) {
        const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value.replace(/\r/g, '');
          let end;
          while ((end = buf.indexOf('\n\n')) >= 0) {
            const frame = buf.slice(0, end);
            buf = buf.slice(end + 2);
            let event = 'message';
            const data = [];
            for (const line of frame.split('\n')) {
              if (line.startsWith('event:')) event = line.slice(6).trim();
              else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
            }
            if (event === 'status' && data.length) {
              try { cb(JSON.parse(data.join('\n'))); } catch { /* ignore a bad frame */ }
            }
          }
          if (buf.length > 65536) buf = ''; // never grow without bound on a broken stream
        }
      }
    } catch { /* offline: polling covers the gap */ }
    await new Promise((res) => setTimeout(res, 2000));
  }
}
