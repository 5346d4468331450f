// Screen timeouts (seconds). Defaults suit a real kiosk; tests shorten them from the page URL
// (`?timeouts=language:2,qr:3` or `?fast=1`) or at run time with window.fotobox.setTimeouts({...}).
export const timeouts = {
  language: 30,   // no touch on the language screen → attract
  layout: 45,
  copies: 45,
  payment: 45,
  qr: 0,          // 0: the order's own expiry (orders.ttl_seconds); >0 caps it
  qrWait: 90,     // a payment still under way in the provider's app after the QR expired
  qrGiveUp: 30,   // "could not confirm the payment" (staff alerted) → attract
  paid: 3,        // "payment received" before the first shot
  countdown: 3,   // 3-2-1 before each shot
  review: 10,     // hard timeout of the retake choice: the shot is kept
  retakes: 1,     // retakes allowed per shot
  preview: 20,    // print preview → prints by itself
  thanks: 20,     // thank-you → attract
  oosRetry: 15,   // out of service: check again
  staff: 600,     // staff called: the order id stays on screen this long, then attract
  error: 20,
  printPoll: 1,   // print status polling
  statusPoll: 2,  // payment status polling (fallback to events)
};

export function applyOverrides(obj) {
  for (const [k, v] of Object.entries(obj)) {
    if (k in timeouts && Number.isFinite(Number(v))) timeouts[k] = Number(v);
  }
}

export function fromUrl(search = location.search) {
  const q = new URLSearchParams(search);
  if (q.get('fast') === '1') {
    applyOverrides({ language: 5, layout: 5, copies: 5, payment: 5, paid: 0.5, countdown: 1, review: 2,
      preview: 2, thanks: 2, oosRetry: 2, error: 3, statusPoll: 1 });
  }
  const spec = q.get('timeouts');
  if (spec) {
    const o = {};
    for (const part of spec.split(',')) {
      const [k, v] = part.split(':');
      if (k && v !== undefined) o[k.trim()] = v.trim();
    }
    applyOverrides(o);
  }
}
