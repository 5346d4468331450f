//! Sound for the customer flow: a countdown beep, the shutter, a "paid" chime and short spoken
// prompts in the customer's language (ui/sounds/*.ogg, made once by scripts/make-sounds.sh).
// Rules: sound never blocks or changes the flow. Nothing awaits audio; a rejected play()
// (autoplay policy, no audio device, a missing file) is swallowed with a debug line. The
// <audio> elements are made once, hidden in #sounds: three tones and three prompts whose file
// follows the chosen language. What may play (volume, mute, quiet hours) is the kiosk info's
// `sound`, read at boot and again when a customer starts (the language screen).
import { backend } from './backend.js';
import * as i18n from './i18n.js';

const TONES = ['beep', 'shutter', 'chime'];
/** The spoken prompt of a screen: scan the code, look at the camera, take your prints. */
const PROMPTS = { qr: 'scan', shoot: 'look', thanks: 'prints' };
/** Tones that mark a screen. */
const SCREEN_TONES = { paid: 'chime' };

const els = {};
let allowed = { volume: 80, tones: true, speech: true, quiet: false };
const playing = {}; // name → `playing` events seen (window.fotobox.sound, for tests and debugging)

function debug(...args) { console.debug('[sound]', ...args); }

/** Make the audio elements (once) and follow the screens. */
export function init() {
  if (document.getElementById('sounds')) return;
  const box = document.createElement('div');
  box.id = 'sounds';
  box.hidden = true;
  for (const name of [...TONES, ...Object.values(PROMPTS)]) {
    const a = document.createElement('audio');
    a.preload = 'auto';
    a.dataset.sound = name;
    a.addEventListener('error', () => debug('cannot load', a.getAttribute('src')));
    a.addEventListener('playing', () => { playing[name] = (playing[name] || 0) + 1; });
    if (TONES.includes(name)) a.src = `sounds/${name}.ogg`;
    box.appendChild(a);
    els[name] = a;
  }
  document.body.appendChild(box);
  promptsIn(i18n.lang());
  window.addEventListener('fotobox:screen', (e) => onScreen(e.detail));
  window.fotobox = Object.assign(window.fotobox || {}, {
    sound: { playing, settings: () => ({ ...allowed }) },
  });
}

/** What may play: the kiosk info's `sound` ({volume 0-100, tones, speech, quiet}). */
export function configure(s) {
  if (!s || typeof s !== 'object') return;
  const v = Number(s.volume);
  allowed = {
    volume: Number.isFinite(v) ? Math.max(0, Math.min(100, v)) : 80,
    tones: !!s.tones,
    speech: !!s.speech,
    quiet: !!s.quiet,
  };
  if (!allowed.tones) stopAll();
}

/** Play one sound now, from its start. Never throws, never waits. */
export function play(name) {
  const a = els[name];
  if (!a) return;
  const speech = !TONES.includes(name);
  if (!(speech ? allowed.speech : allowed.tones)) return;
  try {
    if (speech) promptsIn(i18n.lang());
    a.volume = allowed.volume / 100;
    if (a.readyState > 0) a.currentTime = 0;
    const p = a.play();
    if (p && typeof p.catch === 'function') p.catch((e) => debug('not played:', name, e && e.name));
  } catch (e) {
    debug('not played:', name, e && e.name);
  }
}

function stopAll() {
  for (const a of Object.values(els)) {
    try { a.pause(); } catch { /* nothing to stop */ }
  }
}

/** Point the prompts at the files of `lang` (they load once per language change). */
function promptsIn(lang) {
  for (const name of Object.values(PROMPTS)) {
    const src = `sounds/${name}-${lang}.ogg`;
    if (els[name] && els[name].getAttribute('src') !== src) els[name].src = src;
  }
}

function onScreen(name) {
  if (name === 'attract') { stopAll(); return; }
  if (name === 'language') {
    // A customer starts: mute, volume and quiet hours as they are now.
    backend.info().then((i) => configure(i && i.sound)).catch((e) => debug('settings not refreshed:', e && e.message));
    return;
  }
  if (name === 'layout') { promptsIn(i18n.lang()); return; }
  if (SCREEN_TONES[name]) play(SCREEN_TONES[name]);
  if (PROMPTS[name]) play(PROMPTS[name]);
}
