//! The API listener's guard against web pages in a browser on the same machine: DNS rebinding
//! (a `Host` that is neither a loopback name nor the configured address) and cross-site writes
//! (an `Origin` of another site, or `Sec-Fetch-Site: cross-site`, on a state-changing method)
//! are refused with 403 before any handler runs, so they change nothing and cost little.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use fotobox_core::context::AppContext;
use fotobox_core::error::ErrorKind;

use crate::error::ApiError;

/// Origins of the Tauri window (Linux/macOS, Windows, Windows https).
pub const TAURI_ORIGINS: &[&str] = &[
    "tauri://localhost",
    "http://tauri.localhost",
    "https://tauri.localhost",
];

/// Middleware of the API router.
pub async fn same_site_only(State(ctx): State<AppContext>, req: Request, next: Next) -> Response {
    if let Err(why) = check(req.method(), req.headers(), ctx.config.server.api_addr) {
        tracing::warn!(method = %req.method(), path = %req.uri().path(), why, "refused a request from another site");
        return ApiError::new(ErrorKind::Forbidden, why).into_response();
    }
    next.run(req).await
}

/// `Err(reason)` for a request a browser made on behalf of another site.
pub fn check(
    method: &Method,
    headers: &HeaderMap,
    api_addr: SocketAddr,
) -> Result<(), &'static str> {
    // No Host at all is not a browser (HTTP/1.1 browsers always send one): tools and tests.
    if let Some(host) = headers.get(header::HOST) {
        let ok = host.to_str().is_ok_and(|h| allowed_host(h, api_addr));
        if !ok {
            return Err("this address answers only to its loopback name");
        }
    }
    let writes = !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    if writes {
        // The origin decides when the browser names one: the Tauri window's page is
        // `tauri://localhost`, which fetch metadata calls `cross-site` to 127.0.0.1.
        match headers.get(header::ORIGIN) {
            Some(origin) => {
                if !origin.to_str().is_ok_and(allowed_origin) {
                    return Err("cross-site requests are refused");
                }
            }
            None => {
                let cross = headers
                    .get("sec-fetch-site")
                    .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site"));
                if cross {
                    return Err("cross-site requests are refused");
                }
            }
        }
    }
    Ok(())
}

/// The host part of a `Host` header or an origin's authority (`[::1]:5000` → `::1`).
fn host_part(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or("");
    }
    authority.split(':').next().unwrap_or("")
}

fn loopback_name(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn allowed_host(host_header: &str, api_addr: SocketAddr) -> bool {
    let host = host_part(host_header.trim());
    loopback_name(host) || host.parse::<IpAddr>().is_ok_and(|ip| ip == api_addr.ip())
}

fn allowed_origin(origin: &str) -> bool {
    if TAURI_ORIGINS.contains(&origin) {
        return true;
    }
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false; // includes "null" (sandboxed frames, file: pages)
    };
    matches!(scheme, "http" | "https") && loopback_name(host_part(authority))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn rebinding_hosts_are_refused_loopback_names_pass() {
        let api = SocketAddr::from(([127, 0, 0, 1], 5000));
        for ok in [
            "127.0.0.1:5000",
            "localhost:5000",
            "[::1]:5000",
            "127.0.0.2",
            "LOCALHOST",
        ] {
            let h = headers(&[("host", ok)]);
            assert!(check(&Method::GET, &h, api).is_ok(), "{ok}");
        }
        for bad in [
            "evil.example:5000",
            "evil.example",
            "192.168.1.10:5000",
            "127.0.0.1.nip.io",
        ] {
            let h = headers(&[("host", bad)]);
            assert!(check(&Method::GET, &h, api).is_err(), "{bad}");
        }
        assert!(
            check(&Method::GET, &HeaderMap::new(), api).is_ok(),
            "no Host: a tool"
        );
    }

    #[test]
    fn cross_site_writes_are_refused() {
        let api = SocketAddr::from(([127, 0, 0, 1], 5000));
        let post =
            |pairs: &[(&'static str, &'static str)]| check(&Method::POST, &headers(pairs), api);
        assert!(post(&[("origin", "https://evil.example")]).is_err());
        assert!(post(&[("origin", "null")]).is_err());
        assert!(post(&[("sec-fetch-site", "cross-site")]).is_err());
        assert!(post(&[("origin", "http://127.0.0.1:5000")]).is_ok());
        assert!(post(&[("origin", "http://localhost:1420")]).is_ok());
        assert!(post(&[("origin", "tauri://localhost")]).is_ok());
        // The window's own page, which fetch metadata calls cross-site to 127.0.0.1.
        assert!(post(&[
            ("origin", "tauri://localhost"),
            ("sec-fetch-site", "cross-site")
        ])
        .is_ok());
        assert!(post(&[
            ("origin", "https://evil.example"),
            ("sec-fetch-site", "same-site")
        ])
        .is_err());
        assert!(post(&[("sec-fetch-site", "same-origin")]).is_ok());
        // Reads are not writes: a cross-site GET cannot read the answer anyway (CORS).
        let get = check(
            &Method::GET,
            &headers(&[("origin", "https://evil.example")]),
            api,
        );
        assert!(get.is_ok());
    }
}
