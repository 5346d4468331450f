// Camera through getUserMedia. check() proves a camera works before money is taken; start()
// retries during a paid session; capture() returns a JPEG Blob at the camera's best still
// resolution, turned upright (not mirrored: the print shows the scene as others see it; only the
// live preview is mirrored). The preview stream stays at 1080p at most.

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

/** The largest still the camera gives (`ImageCapture.takePhoto` where the engine has it), as an
 * image source; null when the engine cannot, and the caller uses a video frame. */
async function bestStill() {
  const track = stream && stream.getVideoTracks()[0];
  if (!track || typeof ImageCapture !== 'function') return null;
  try {
    const blob = await new ImageCapture(track).takePhoto();
    return await createImageBitmap(blob);
  } catch {
    return null; // the fake camera and some drivers refuse: a video frame then
  }
}

/** A still: the camera's best still (or a video frame at the highest resolution the camera
 * offers, up to 4K, asked for only for this frame so the preview stays light), turned upright by
 * `rotate` degrees clockwise, as a JPEG Blob. */
export async function capture(video, rotate = 0, quality = 0.92) {
  let src = await bestStill();
  let restore = null;
  if (!src) {
    const track = stream && stream.getVideoTracks()[0];
    const caps = track && track.getCapabilities ? track.getCapabilities() : {};
    const maxW = Math.min((caps.width && caps.width.max) || 0, 3840);
    const maxH = Math.min((caps.height && caps.height.max) || 0, 2160);
    if (track && maxW > video.videoWidth && maxH > 0) {
      const before = track.getSettings();
      try {
        await track.applyConstraints({ width: { ideal: maxW }, height: { ideal: maxH } });
        await waitSize(video, maxW);
        restore = () => track.applyConstraints({ width: { ideal: before.width }, height: { ideal: before.height } }).catch(() => {});
      } catch { /* keep the preview's size */ }
    }
    src = video;
  }
  const w = src.videoWidth || src.width, h = src.videoHeight || src.height;
  if (!w || !h) { if (restore) restore(); throw new Error('no frame'); }
  const canvas = document.createElement('canvas');
  const turn = ((rotate % 360) + 360) % 360;
  const side = turn === 90 || turn === 270;
  canvas.width = side ? h : w; canvas.height = side ? w : h;
  const g = canvas.getContext('2d');
  g.translate(canvas.width / 2, canvas.height / 2);
  g.rotate((turn * Math.PI) / 180);
  g.drawImage(src, -w / 2, -h / 2, w, h);
  if (restore) restore();
  if (src.close) src.close();
  return new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('encode'))), 'image/jpeg', quality));
}

function waitSize(video, width) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const tick = () => (video.videoWidth >= width || Date.now() - t0 > 1500 ? resolve() : setTimeout(tick, 30));
    tick();
  });
}

/** The live stream's size (what the Devices page and the effective-dpi check use). */
export function size(video) { return { width: video.videoWidth, height: video.videoHeight }; }
