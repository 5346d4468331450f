//! Serves the kiosk page and the staff panel (`ui/`) on the API listener, for browser kiosks and
//! headless mode. Release builds embed the files; debug builds read them from `ui/` on disk.
//! The kiosk page carries this boot's kiosk key in a `<meta name="fotobox-kiosk-key">` tag: only
//! a same-origin page can read it (no CORS here, and the guard refuses foreign `Host`s).

use axum::extract::State;
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use fotobox_core::context::AppContext;

/// The placeholder in `ui/index.html` that the served page fills with the kiosk key.
const KEY_PLACEHOLDER: &str = r#"<meta name="fotobox-kiosk-key" content="">"#;

#[derive(rust_embed::RustEmbed)]
#[folder = "../../ui"]
#[exclude = "node_modules/*"]
#[exclude = "*.test.js"]
struct UiFiles;

/// `GET /` is the kiosk page; other paths map to files under `ui/`; anything else is 404 JSON.
pub async fn serve(State(ctx): State<AppContext>, uri: Uri) -> Response {
    let path = uri.path().trim_start_matches('/');
    let path = if path.is_empty() { "index.html" } else { path };
    if path.starts_with("api/") || path.contains("..") {
        return ApiError::not_found("no such endpoint").into_response();
    }
    match UiFiles::get(path) {
        Some(file) => {
            let mime = file.metadata.mimetype().to_string();
            let mut body = file.data.into_owned();
            // The kiosk page: a new key at every boot, so it is never cached.
            let cache = if path == "index.html" {
                body = with_kiosk_key(&body, ctx.kiosk_key.expose());
                "no-store"
            } else {
                "no-cache"
            };
            (
                StatusCode::OK,
                [
                    (header::CONTENT_TYPE, mime),
                    (header::CACHE_CONTROL, cache.to_string()),
                    (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
                    // No other site may frame the page (and read the key through it).
                    (header::X_FRAME_OPTIONS, "DENY".to_string()),
                ],
                body,
            )
                .into_response()
        }
        None => ApiError::not_found("no such endpoint").into_response(),
    }
}

/// The page with its kiosk-key placeholder filled (the key is hex: nothing to escape).
fn with_kiosk_key(page: &[u8], key: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(page);
    text.replacen(
        KEY_PLACEHOLDER,
        &format!(r#"<meta name="fotobox-kiosk-key" content="{key}">"#),
        1,
    )
    .into_bytes()
}
