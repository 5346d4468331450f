// The hidden way into the staff panel: five taps in the top-left corner within three seconds
// open the PIN pad (staff.html). Nothing is drawn; a tap anywhere else starts the count again,
// so a customer's normal use never gets there. Include once on the kiosk page:
//   <script type="module" src="js/staff-gesture.js"></script>
// It also exposes window.fotobox.openStaff() for the kiosk code (e.g. a hardware key).

export const GESTURE = { taps: 5, windowMs: 3000, sizePx: 80 };

export function openStaff() {
  window.location.assign('staff.html');
}

/** Install the corner gesture; returns a function that removes it. */
export function installStaffGesture(opts = {}) {
  const { taps, windowMs, sizePx } = { ...GESTURE, ...opts };
  const onOpen = opts.onOpen || openStaff;
  let times = [];
  const handler = (e) => {
    const inCorner = e.clientX <= sizePx && e.clientY <= sizePx;
    if (!inCorner) { times = []; return; }
    const now = performance.now();
    times = times.filter((t) => now - t <= windowMs);
    times.push(now);
    if (times.length >= taps) {
      times = [];
      onOpen();
    }
  };
  document.addEventListener('pointerdown', handler, { capture: true, passive: true });
  return () => document.removeEventListener('pointerdown', handler, { capture: true });
}

window.fotobox = Object.assign(window.fotobox || {}, { openStaff });
if (!window.__fotoboxStaffGesture) {
  window.__fotoboxStaffGesture = true;
  installStaffGesture();
}
