// The one module that talks to Rust. In the Tauri window: invoke() and the `payment-status` event.
// In a browser (served by the API listener): the loopback REST API and SSE (/api/events).
// Either way the page also polls (the caller decides how often), so a lost event only costs time.

const tauri = window.__TAURI__;
export const isTauri = !!(tauri && tauri.core && tauri.core.invoke);

export class BackendError extends Error {
  constructor(kind, message, status) { super(message); this.kind = kind; this.status = status; }
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
  const init = { method, headers: {} };
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
  createOrder: ({ provider, template, copies }) => (isTauri
    ? invoke('create_order', { paymentType: provider, template, copies })
    : http('POST', '/api/generate-qr', { payment_type: provider, template, copies })),
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
  print: (id) => (isTauri ? invoke('print_order', { orderId: id }) : http('POST', `/api/kiosk/orders/${enc(id)}/print`)),
  printStatus: (id) => (isTauri ? invoke('print_status', { orderId: id }) : http('GET', `/api/kiosk/orders/${enc(id)}/print`)),
  callStaff: (orderId, reason) => (isTauri
    ? invoke('call_staff', { orderId: orderId || null, reason })
    : http('POST', '/api/kiosk/staff-call', { order_id: orderId || null, reason })),

  /** Subscribe to committed status changes; cb(event) gets {order_id, status, amount, payment_type}. */
  onStatus(cb) {
    if (isTauri && tauri.event && tauri.event.listen) {
      tauri.event.listen('payment-status', (e) => cb(e.payload));
      return;
    }
    if (typeof EventSource === 'function') {
      const es = new EventSource('/api/events');
      es.addEventListener('status', (e) => {
        try { cb(JSON.parse(e.data)); } catch { /* ignore a bad frame */ }
      });
      // EventSource reconnects by itself; polling covers the gap.
    }
  },
};
