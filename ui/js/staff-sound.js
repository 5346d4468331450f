//! The panel's sound settings (Settings page): mute, volume and quiet hours through
//! GET/PUT /api/staff/sound. The kiosk page picks them up when the next customer starts.
// Texts: the `set.sound*` keys of ui/i18n/staff.{uz,ru,en}.js. staff.js hands over api() and result().
import { t } from './staff-i18n.js';

let deps = null;
const form = () => document.getElementById('sound-form');

/** Fill the form with the settings in force. */
export async function loadSound() {
  if (!deps || !form()) return;
  const s = await deps.api('GET', '/api/staff/sound');
  const f = form().elements;
  f.muted.checked = !!s.muted;
  f.volume.value = String(s.volume);
  f.quiet_from.value = s.quiet_from;
  f.quiet_to.value = s.quiet_to;
  const notes = [t(`set.sound_source_${s.source}`)];
  if (s.quiet_now) notes.push(t('set.sound_quiet_now'));
  document.getElementById('sound-state').textContent = notes.join(' ');
}

/** Wire the form once: `{ api, result }` from staff.js. */
export function wireSound(d) {
  deps = d;
  if (!form()) return;
  form().addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = e.target.elements;
    const body = { muted: f.muted.checked, volume: Number(f.volume.value), quiet_from: f.quiet_from.value, quiet_to: f.quiet_to.value };
    try {
      await deps.api('PUT', '/api/staff/sound', body);
      deps.result('#sound-result', t('set.sound_saved'));
      await loadSound();
    } catch (x) { deps.result('#sound-result', x.message, true); }
  });
}
