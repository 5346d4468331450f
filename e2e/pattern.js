//! A known picture for Chromium's fake camera (`--use-file-for-fake-video-capture`), and the
//! reading of it back out of a still, a screenshot or a print: the framing checks of the browser suite.
//!
//! The picture: BANDS vertical bands of distinct saturated colours across the width (so a crop's
//! left and right edges can be located), a black strip along the top and a grey one along the
//! bottom (so a vertical cut shows). Written as one frame of YUV4MPEG2 4:2:0 (Chromium loops it);
//! bands and strips are many pixels wide and even, so the 2x2 chroma blocks never straddle them.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const BANDS = 16;
/** Black (top strip) and grey (bottom strip): labels BANDS and BANDS + 1. */
export const TOP = BANDS;
export const BOTTOM = BANDS + 1;
/** Height of the top and bottom strips, as a fraction of the frame's height. */
export const STRIP = 1 / 12;

/** Band colours: corners and edge midpoints of the RGB cube (no black, white or grey), at least
 * 128 apart in one channel, neighbours far apart. */
export const PALETTE = [
  [255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0], [0, 255, 255], [255, 0, 255],
  [128, 0, 0], [0, 128, 0], [0, 0, 128], [255, 128, 0], [0, 128, 255], [128, 0, 255],
  [255, 0, 128], [128, 255, 0], [0, 255, 128], [128, 128, 255],
];
const MARKS = [[0, 0, 0], [128, 128, 128]];

/** The colour of pixel column `x`, row `y` of a `w` x `h` pattern. */
function rgbAt(x, y, w, h) {
  const strip = Math.round(h * STRIP);
  if (y < strip) return MARKS[0];
  if (y >= h - strip) return MARKS[1];
  return PALETTE[Math.min(BANDS - 1, Math.floor((x * BANDS) / w))];
}

/** BT.601 limited range, what Chromium assumes for an untagged I420 capture frame. */
function yuv([r, g, b]) {
  return [
    Math.round(16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255),
    Math.round(128 + (-37.797 * r - 74.203 * g + 112 * b) / 255),
    Math.round(128 + (112 * r - 93.786 * g - 18.214 * b) / 255),
  ];
}

/** Write the pattern as a one-frame `.y4m` of `w` x `h` (both multiples of 2 * BANDS). */
export function writeY4m(path, w, h, fps = 30) {
  if (w % (2 * BANDS) || h % 24) throw new Error(`pattern size ${w}x${h}: not a multiple of the bands`);
  const header = Buffer.from(`YUV4MPEG2 W${w} H${h} F${fps}:1 Ip A1:1 C420jpeg\nFRAME\n`, 'ascii');
  const ySize = w * h, cSize = (w / 2) * (h / 2);
  const body = Buffer.alloc(ySize + 2 * cSize);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) body[y * w + x] = yuv(rgbAt(x, y, w, h))[0];
  }
  for (let y = 0; y < h / 2; y++) {
    for (let x = 0; x < w / 2; x++) {
      const [, u, v] = yuv(rgbAt(2 * x, 2 * y, w, h));
      body[ySize + y * (w / 2) + x] = u;
      body[ySize + cSize + y * (w / 2) + x] = v;
    }
  }
  writeFileSync(path, Buffer.concat([header, body]));
  return path;
}

/** The pattern at `w` x `h` in a fresh temporary folder; `remove()` deletes it. */
export function patternVideo(w, h) {
  const dir = mkdtempSync(join(tmpdir(), 'fotobox-pattern-'));
  const path = writeY4m(join(dir, `pattern-${w}x${h}.y4m`), w, h);
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

const dist = (a, b) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);

/** The nearest nominal colour's label (bands, then TOP, BOTTOM): proves the camera gave the pattern. */
export function nominalLabel(rgb) {
  const all = [...PALETTE, ...MARKS];
  let best = 0;
  for (let i = 1; i < all.length; i++) if (dist(rgb, all[i]) < dist(rgb, all[best])) best = i;
  return best;
}

/**
 * A labeller from the colours the still actually shows (its middle row's band centres, its top and
 * bottom strips), so colour-space details of the pipeline do not matter: a pixel gets the label of
 * the nearest of them, or -1 when none is within `maxDist` (blends at band boundaries).
 */
export function labeller(midRow, centreColumn, maxDist = 64) {
  const w = midRow.length;
  const mean = (px) => px.reduce((a, p) => [a[0] + p[0], a[1] + p[1], a[2] + p[2]], [0, 0, 0]).map((v) => v / px.length);
  const seen = [];
  for (let i = 0; i < BANDS; i++) {
    const c = Math.floor(((i + 0.5) * w) / BANDS), r = Math.max(1, Math.floor(w / BANDS / 4));
    seen.push(mean(midRow.slice(c - r, c + r)));
  }
  const h = centreColumn.length, s = Math.max(1, Math.floor((h * STRIP) / 3));
  seen.push(mean(centreColumn.slice(s, 2 * s)), mean(centreColumn.slice(h - 2 * s, h - s)));
  const label = (rgb) => {
    let best = -1, bestD = maxDist;
    for (let i = 0; i < seen.length; i++) { const d = dist(rgb, seen[i]); if (d < bestD) { best = i; bestD = d; } }
    return best;
  };
  return { seen, label };
}

/** The ordered labels of the runs at least `minRun` long (unlabelled pixels skipped). */
export function runs(labels, minRun) {
  const out = [];
  let cur = -2, len = 0;
  const flush = () => { if (cur >= 0 && len >= minRun && out[out.length - 1] !== cur) out.push(cur); };
  for (const l of labels) {
    if (l === cur) len++;
    else { flush(); cur = l; len = 1; }
  }
  flush();
  return out;
}

/**
 * What `n` pixels spanning [from, from + span) of a source line show, sampled from the source's
 * labels (pixel centres), so an observed line can be compared pixel by pixel.
 */
export function resample(srcLabels, from, span, n) {
  const out = new Array(n);
  for (let j = 0; j < n; j++) {
    const x = Math.floor(from + ((j + 0.5) * span) / n);
    out[j] = srcLabels[Math.min(srcLabels.length - 1, Math.max(0, x))];
  }
  return out;
}

/** Of the pixels labelled in both lines, the share with the same label. */
export function agreement(observed, expected) {
  let both = 0, same = 0;
  for (let j = 0; j < observed.length; j++) {
    if (observed[j] < 0 || expected[j] < 0) continue;
    both++;
    if (observed[j] === expected[j]) same++;
  }
  return both ? same / both : 0;
}
