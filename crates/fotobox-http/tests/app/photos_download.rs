//! `GET /p/{token}` on the callback listener: exactly the order's composite while the token is
//! valid, 404 for everything else (expired, unknown, malformed, listing).
#![allow(clippy::unwrap_used)]

use crate::common;
use crate::photos_support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{send_raw, TestApp};
use fotobox_core::photos::{self, Failpoint};
use photos_support::{paid_order, shots};

fn get(uri: &str) -> Request<Body> {
    Request::builder().uri(uri).body(Body::empty()).unwrap()
}

#[tokio::test]
async fn token_serves_exactly_the_composite_until_it_expires() {
    let app = TestApp::with_extra("[photos]\ndownload_ttl_hours = 24\n").await;
    let order = paid_order(&app.ctx, "postcard", 1).await;
    let view = photos::hooks::create_photo_with(&app.ctx, &order, shots(1), Failpoint::default())
        .await
        .unwrap();
    let path = view.download_path.clone().unwrap();
    let token = path.strip_prefix("/p/").unwrap();
    assert_eq!(token.len(), 43, "256 random bits, base64url");
    let (status, body) = send_raw(app.callbacks(), get(&path)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, std::fs::read(&view.composite_path).unwrap());

    // Other requests: 404.
    let mut flipped = token.to_string();
    let last = if flipped.ends_with('A') { "B" } else { "A" };
    flipped.replace_range(42.., last);
    for uri in [
        format!("/p/{flipped}"),
        "/p/".to_string(),
        "/p".to_string(),
        format!("/p/{token}/x"),
        format!("/p/{}", &token[..20]),
        "/p/..%2F..%2Fphotobooth.db".to_string(),
        "/p/%2e%2e".to_string(),
    ] {
        let (status, _) = send_raw(app.callbacks(), get(&uri)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
    }

    // Expired after 24 hours.
    app.ctx.clock.advance(chrono::Duration::hours(23));
    assert_eq!(
        send_raw(app.callbacks(), get(&path)).await.0,
        StatusCode::OK
    );
    // Through the real listener too, with the headers.
    let server = app.serve().await;
    let resp = reqwest::get(format!("http://{}{path}", server.callback_addr))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "image/jpeg");
    assert_eq!(resp.headers()["cache-control"], "private, no-store");
    assert!(resp.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains(&order));
    // Not on the API listener.
    let resp = reqwest::get(format!("http://{}{path}", server.api_addr))
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);

    app.ctx.clock.advance(chrono::Duration::hours(1));
    assert_eq!(
        send_raw(app.callbacks(), get(&path)).await.0,
        StatusCode::NOT_FOUND
    );
    let resp = reqwest::get(format!("http://{}{path}", server.callback_addr))
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(photos::purge_expired_tokens(&app.ctx).await.unwrap(), 1);
    server.shutdown().await;
}

#[tokio::test]
async fn public_url_gives_a_full_link_and_a_missing_file_is_404() {
    let app = TestApp::with_extra("").await;
    let order = paid_order(&app.ctx, "postcard", 1).await;
    photos::hooks::create_photo_with(&app.ctx, &order, shots(1), Failpoint::default())
        .await
        .unwrap();
    // The same database seen with a public URL configured (`[server] public_url`).
    let mut cfg = (*app.ctx.config).clone();
    cfg.server.public_url = Some("https://kiosk.example.uz/".into());
    let ctx = fotobox_core::AppContext::new(cfg).await.unwrap();
    let view = photos::photo_status(&ctx, &order).await.unwrap().unwrap();
    let url = view.download_url.clone().unwrap();
    assert_eq!(
        url,
        format!("https://kiosk.example.uz{}", view.download_path.unwrap())
    );
    std::fs::remove_file(&view.composite_path).unwrap();
    let path = url.strip_prefix("https://kiosk.example.uz").unwrap();
    let (status, _) = send_raw(fotobox_http::callback_router(ctx.clone()), get(path)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// Customers' photos are not kept for ever: `photos.keep_hours` after fulfilment the order's
/// folder (shots, uploads, composite) is deleted and the record keeps no path; the panel shows
/// the space photos take.
#[tokio::test]
async fn photos_are_deleted_a_while_after_the_order_is_printed() {
    let app = TestApp::with_extra("[photos]\ndownload_ttl_hours = 24\nkeep_hours = 72\n").await;
    let order = paid_order(&app.ctx, "postcard", 1).await;
    let view = photos::hooks::create_photo_with(&app.ctx, &order, shots(1), Failpoint::default())
        .await
        .unwrap();
    photos::process_queue(&app.ctx).await.unwrap();
    let p = app
        .ctx
        .store
        .payment_by_order_id(&order)
        .await
        .unwrap()
        .unwrap();
    assert!(p.fulfilled_at.is_some(), "printed (folder printer)");
    let dir = std::path::Path::new(&view.composite_path)
        .parent()
        .unwrap()
        .to_path_buf();
    assert!(dir.is_dir());
    let (bytes, orders) = photos::photo_space(&app.ctx);
    assert!(bytes > 0 && orders == 1, "{bytes} {orders}");

    // Within the margin for reprints: kept.
    app.ctx.clock.advance(chrono::Duration::hours(71));
    assert_eq!(photos::purge_old_photos(&app.ctx).await.unwrap(), 0);
    assert!(dir.is_dir());
    // Past it: deleted, and the record keeps no path.
    app.ctx.clock.advance(chrono::Duration::hours(2));
    assert_eq!(photos::purge_old_photos(&app.ctx).await.unwrap(), 1);
    assert!(!dir.exists(), "the order's folder is gone");
    let photos_rows = app.ctx.store.photos_for_payment(p.id).await.unwrap();
    assert!(photos_rows.iter().all(|ph| ph.composite_path.is_none()));
    assert_eq!(photos::photo_space(&app.ctx).1, 0);
    assert_eq!(photos::purge_old_photos(&app.ctx).await.unwrap(), 0, "once");
    // A keep time shorter than the link's life is refused.
    let e = fotobox_core::Config::from_toml("[photos]\ndownload_ttl_hours = 48\nkeep_hours = 24\n")
        .unwrap_err();
    assert!(e.to_string().contains("photos.keep_hours"), "{e}");
}
