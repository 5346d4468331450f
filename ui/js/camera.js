// Camera through getUserMedia. check() proves a camera works before money is taken; start()
// retries during a paid session; capture() returns a JPEG Blob at the camera's full resolution
// (not mirrored: the print shows the scene as others see it; only the live preview is mirrored).

const CONSTRAINTS = { audio: false, video: { width: { ideal: 1920 }, height: { ideal: 1080 }, facingMode: 'user' } };
let stream = null;
let lastOk = 0;
const listeners = new Set();

export function onLost(cb) { listeners.add(cb); }

function live() { return stream && stream.getVideoTracks().some((t) => t.readyState === 'live'); }

async function open() {
  if (live()) return stream;
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) throw new Error('no mediaDevices');
  stream = await navigator.mediaDevices.getUserMedia(CONSTRAINTS);
  for (const tr of stream.getVideoTracks()) {
    tr.addEventListener('ended', () => { stream = null; for (const cb of listeners) cb(); });
  }
  return stream;
}

/** True when a camera can be opened now (cached for 30 s; the stream is closed again). */
export async function check() {
  if (live() || Date.now() - lastOk < 30000) return true;
  try {
    await open();
    lastOk = Date.now();
    stop();
    return true;
  } catch {
    return false;
  }
}

/** Open the camera into `video`, retrying `tries` times `delayMs` apart. */
export async function start(video, tries = 3, delayMs = 1500) {
  let err;
  for (let i = 0; i < tries; i++) {
    try {
      const s = await open();
      if (video.srcObject !== s) video.srcObject = s;
      await video.play().catch(() => {});
      await waitFrames(video);
      lastOk = Date.now();
      return;
    } catch (e) {
      err = e;
      stream = null;
      await new Promise((r) => setTimeout(r, delayMs));
    }
  }
  throw err || new Error('camera');
}

function waitFrames(video) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = () => {
      if (video.videoWidth > 0 && video.readyState >= 2) resolve();
      else if (Date.now() - t0 > 8000) reject(new Error('camera gives no frames'));
      else setTimeout(tick, 50);
    };
    tick();
  });
}

export function stop() {
  if (stream) for (const tr of stream.getTracks()) tr.stop();
  stream = null;
}

/** One frame as a JPEG Blob. */
export function capture(video, quality = 0.92) {
  const w = video.videoWidth, h = video.videoHeight;
  if (!w || !h) return Promise.reject(new Error('no frame'));
  const canvas = document.createElement('canvas');
  canvas.width = w; canvas.height = h;
  canvas.getContext('2d').drawImage(video, 0, 0, w, h);
  return new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('encode'))), 'image/jpeg', quality));
}
