//! WebKitGTK settings that make the kiosk window lighter: software rendering without the
//! compositing layer, the smallest cache model, no page cache, no WebGL, no smooth scrolling.
//! Measured in BENCHMARKS.md ("A lighter kiosk"); `KIOSK_WEBKIT_GPU=1` keeps WebKit's own
//! hardware-acceleration policy (for a kiosk PC whose GPU driver works well).

/// Apply the settings to the main window's web view (Linux; elsewhere nothing to do).
pub fn lighten(app: &tauri::App) {
    #[cfg(target_os = "linux")]
    {
        use tauri::Manager as _;
        let keep_gpu = std::env::var_os("KIOSK_WEBKIT_GPU").is_some_and(|v| v == "1");
        if let Some(w) = app.get_webview_window("main") {
            let _ = w.with_webview(move |wv| {
                use webkit2gtk::{
                    CacheModel, HardwareAccelerationPolicy, SettingsExt, WebContextExt, WebViewExt,
                };
                let view = wv.inner();
                if let Some(settings) = WebViewExt::settings(&view) {
                    if !keep_gpu {
                        settings
                            .set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
                    }
                    settings.set_enable_page_cache(false);
                    settings.set_enable_webgl(false);
                    settings.set_enable_smooth_scrolling(false);
                }
                // One page that never navigates: no memory kept for back/forward or other sites.
                if let Some(context) = view.context() {
                    context.set_cache_model(CacheModel::DocumentViewer);
                }
            });
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = app;
}
