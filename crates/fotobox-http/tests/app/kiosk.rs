//! The browser kiosk's endpoints (`/api/kiosk/*`, over `fotobox_core::kiosk`, the same functions
//! as the Tauri commands): menu, readiness, shot upload rules, compose, preview, print progress
//! and staff calls.
#![allow(clippy::unwrap_used)]

use crate::common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{send, send_raw, TestApp};
use serde_json::json;

/// A JPEG of `w` x `h` noise (noise keeps it large: the upload limit is above the API's 64 KiB).
fn jpeg(w: u32, h: u32) -> Vec<u8> {
    let mut seed = 0x2545_f491_u32;
    let img = image::RgbImage::from_fn(w, h, |_, _| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        image::Rgb([seed as u8, (seed >> 8) as u8, (seed >> 16) as u8])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(&img)
        .unwrap();
    out
}

async fn upload(app: &TestApp, order: &str, index: usize, bytes: Vec<u8>) -> (StatusCode, Vec<u8>) {
    let req = Request::builder()
        .method("POST")
        .uri(format!("/api/kiosk/orders/{order}/shots/{index}"))
        .header("content-type", "image/jpeg")
        .body(Body::from(bytes))
        .unwrap();
    send_raw(app.api(), req).await
}

#[tokio::test]
async fn info_lists_priced_installed_layouts_with_their_shots() {
    let app = TestApp::new().await;
    let (s, info) = send(app.api(), "GET", "/api/kiosk/info", None, None).await;
    assert_eq!(s, StatusCode::OK, "{info}");
    let names: Vec<&str> = info["layouts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["strip", "grid", "postcard"]); // by price, then name
    let postcard = &info["layouts"][2];
    assert_eq!(postcard["price"], 25000);
    assert_eq!(postcard["shots"], 1);
    assert!(!postcard["slots"].as_array().unwrap().is_empty());
    assert_eq!(info["extra_copy"], 10000);
    assert_eq!(info["providers"], json!({"payme": true, "click": true}));

    let (s, r) = send(
        app.api(),
        "GET",
        "/api/kiosk/readiness?copies=2",
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(r["ready"], true, "{r}");
    let (s, _) = send(
        app.api(),
        "GET",
        "/api/kiosk/readiness?copies=x",
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

/// The live view draws the layout's frame over the slot being framed: the frame's part over that
/// slot, slot-shaped; nothing for a shot the layout does not take or a layout not installed.
#[tokio::test]
async fn the_frame_over_a_slot_is_served_for_the_live_view() {
    let app = TestApp::new().await;
    let (_, info) = send(app.api(), "GET", "/api/kiosk/info", None, None).await;
    let postcard = info["layouts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == "postcard")
        .unwrap()
        .clone();
    assert_eq!(postcard["overlay"], true, "{postcard}");
    let slot = &postcard["slots"][0];
    let req = |uri: &str| Request::get(uri).body(Body::empty()).unwrap();
    let (s, png) = send_raw(
        app.api(),
        req("/api/kiosk/layouts/postcard/shots/0/overlay"),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let img = image::load_from_memory(&png).unwrap();
    let (w, h) = (slot["w"].as_f64().unwrap(), slot["h"].as_f64().unwrap());
    assert!(
        (f64::from(img.width()) / f64::from(img.height()) - w / h).abs() < 0.01,
        "{}x{} for a {w}x{h} slot",
        img.width(),
        img.height()
    );
    assert!(img.width().max(img.height()) <= 1280);
    for uri in [
        "/api/kiosk/layouts/postcard/shots/5/overlay",
        "/api/kiosk/layouts/nope/shots/0/overlay",
    ] {
        let (s, body) = send(app.api(), "GET", uri, None, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{uri}: {body}");
        assert!(body["error"].is_string(), "{body}");
    }
}

/// The attract screen's sample prints: the layout composed from drawn pictures, its shape.
#[tokio::test]
async fn a_sample_print_of_a_layout_for_the_attract_loop() {
    let app = TestApp::new().await;
    let req = |uri: &str| Request::get(uri).body(Body::empty()).unwrap();
    let (s, jpeg) = send_raw(app.api(), req("/api/kiosk/layouts/postcard/sample")).await;
    assert_eq!(s, StatusCode::OK);
    let img = image::load_from_memory(&jpeg).unwrap();
    assert_eq!((img.width(), img.height()), (600, 900));
    let (s, body) = send(
        app.api(),
        "GET",
        "/api/kiosk/layouts/nope/sample",
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{body}");
}

#[tokio::test]
async fn shots_only_for_paid_orders_and_only_images_in_range() {
    let app = TestApp::new().await;
    let (s, _) = upload(&app, "NONE-NONE", 0, jpeg(8, 8)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let o = app.order("click", "postcard", 1).await;
    let id = o["order_id"].as_str().unwrap().to_string();
    let (s, _) = upload(&app, &id, 0, jpeg(8, 8)).await;
    assert_eq!(s, StatusCode::CONFLICT, "an unpaid order takes no pictures");
    let (s, _) = send(
        app.api(),
        "POST",
        &format!("/api/kiosk/orders/{id}/compose"),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);

    let _server = app.serve().await;
    fotobox_core::click::simulator::pay_order(&app.ctx, &id)
        .await
        .unwrap();
    let (s, _) = upload(&app, &id, 0, b"GIF89a not an image".to_vec()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = upload(&app, &id, 1, jpeg(8, 8)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "the postcard takes one picture");
    let (s, _) = send(
        app.api(),
        "POST",
        &format!("/api/kiosk/orders/{id}/compose"),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "no shot taken yet");
}

#[tokio::test]
async fn paid_order_composes_previews_prints_and_calls_staff() {
    let app = TestApp::new().await;
    let _server = app.serve().await;
    let o = app.order("click", "postcard", 2).await;
    let id = o["order_id"].as_str().unwrap().to_string();
    fotobox_core::click::simulator::pay_order(&app.ctx, &id)
        .await
        .unwrap();

    let big = jpeg(640, 480);
    assert!(big.len() > 64 * 1024, "{} bytes", big.len());
    // A retake replaces the first picture.
    let (s, body) = upload(&app, &id, 0, jpeg(320, 240)).await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let (s, body) = upload(&app, &id, 0, big).await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&body));

    let compose = format!("/api/kiosk/orders/{id}/compose");
    let (s, photo) = send(app.api(), "POST", &compose, None, None).await;
    assert_eq!(s, StatusCode::OK, "{photo}");
    assert_eq!(photo["copies"], 2);
    // Repeated taps return the same record.
    let (_, again) = send(app.api(), "POST", &compose, None, None).await;
    assert_eq!(again["photo_id"], photo["photo_id"]);

    let req = Request::builder()
        .uri(format!("/api/kiosk/orders/{id}/preview"))
        .body(Body::empty())
        .unwrap();
    let (s, jpg) = send_raw(app.api(), req).await;
    assert_eq!(s, StatusCode::OK);
    let img = image::load_from_memory(&jpg).unwrap();
    assert!(
        img.width() > 0 && img.height() > img.width(),
        "a portrait postcard"
    );

    let print = format!("/api/kiosk/orders/{id}/print");
    let (s, p) = send(app.api(), "POST", &print, None, None).await;
    assert_eq!(s, StatusCode::OK, "{p}");
    let mut state = p["state"].as_str().unwrap().to_string();
    for _ in 0..100 {
        if state == "done" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let (_, p) = send(app.api(), "GET", &print, None, None).await;
        state = p["state"].as_str().unwrap().to_string();
    }
    assert_eq!(state, "done");
    let (_, p) = send(app.api(), "GET", &print, None, None).await;
    assert_eq!(p["printed"], 2);

    let (s, _) = send(
        app.api(),
        "POST",
        "/api/kiosk/staff-call",
        Some(json!({"order_id": id, "reason": "coffee"})),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, call) = send(
        app.api(),
        "POST",
        "/api/kiosk/staff-call",
        Some(json!({"order_id": id, "reason": "camera"})),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{call}");
    assert_eq!(
        call["flagged"], true,
        "a paid order's failure is flagged for staff"
    );
    let (s, call) = send(
        app.api(),
        "POST",
        "/api/kiosk/staff-call",
        Some(json!({"order_id": null, "reason": "help"})),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(call["flagged"], false);
}

/// The page asks for readiness often: after the first answer it reads only, so it never waits
/// for (or takes) the writer's turn.
#[tokio::test]
async fn readiness_needs_no_write_transaction() {
    let app = TestApp::new().await;
    let (s, _) = send(
        app.api(),
        "GET",
        "/api/kiosk/readiness?copies=1",
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let turn = app.ctx.store.begin_write().await.unwrap();
    let again = tokio::time::timeout(
        std::time::Duration::from_secs(3),
        send(
            app.api(),
            "GET",
            "/api/kiosk/readiness?copies=1",
            None,
            None,
        ),
    )
    .await
    .expect("answered while another writer holds the database");
    assert_eq!(again.0, StatusCode::OK, "{}", again.1);
    turn.rollback().await.unwrap();
}
