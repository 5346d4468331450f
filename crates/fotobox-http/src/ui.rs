//! Serves the kiosk page and the staff panel (`ui/`) on the API listener, for browser kiosks and
//! headless mode. Release builds embed the files; debug builds read them from `ui/` on disk.

use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

#[derive(rust_embed::RustEmbed)]
#[folder = "../../ui"]
#[exclude = "node_modules/*"]
#[exclude = "*.test.js"]
struct UiFiles;

/// `GET /` is the kiosk page; other paths map to files under `ui/`; anything else is 404 JSON.
pub async fn serve(uri: Uri) -> Response {
    let path = uri.path().trim_start_matches('/');
    let path = if path.is_empty() { "index.html" } else { path };
    if path.starts_with("api/") || path.contains("..") {
        return ApiError::not_found("no such endpoint").into_response();
    }
    match UiFiles::get(path) {
        Some(file) => {
            let mime = file.metadata.mimetype().to_string();
            (
                StatusCode::OK,
                [
                    (header::CONTENT_TYPE, mime),
                    (header::CACHE_CONTROL, "no-cache".to_string()),
                    (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
                ],
                file.data.into_owned(),
            )
                .into_response()
        }
        None => ApiError::not_found("no such endpoint").into_response(),
    }
}
