// Kiosk lock-down inside the page: no context menu, selection, drag, zoom (ctrl+wheel, keys,
// pinch, double tap), reload or printing shortcuts, new windows or links away. The Tauri shell
// adds a navigation guard and single instance; CSS sets touch-action/user-select.
export function lockDown() {
  const stop = (e) => { e.preventDefault(); };
  for (const ev of ['contextmenu', 'selectstart', 'dragstart', 'gesturestart', 'gesturechange', 'gestureend', 'drop']) {
    document.addEventListener(ev, stop, { capture: true });
  }
  document.addEventListener('wheel', (e) => { if (e.ctrlKey) e.preventDefault(); }, { passive: false, capture: true });
  document.addEventListener('touchmove', (e) => { if (e.touches.length > 1 || e.scale !== undefined && e.scale !== 1) e.preventDefault(); },
    { passive: false, capture: true });
  // Double-tap zoom is off through CSS (touch-action), so quick repeated taps on +/- still count.
  document.addEventListener('keydown', (e) => {
    const k = e.key.toLowerCase();
    const mod = e.ctrlKey || e.metaKey;
    if (k === 'f5' || k === 'f11' || k === 'f12' || k === 'f7' || k === 'browserback' ||
        (mod && ['r', 'p', 's', 'o', 'u', 'w', 'n', 't', 'f', 'g', '+', '-', '=', '0', 'a'].includes(k)) ||
        (e.altKey && (k === 'arrowleft' || k === 'arrowright' || k === 'home'))) {
      e.preventDefault();
    }
  }, { capture: true });
  document.addEventListener('click', (e) => {
    const a = e.target.closest && e.target.closest('a[href]');
    if (a) e.preventDefault();
  }, { capture: true });
  window.open = () => null;
}
