//! The kiosk's sound settings: `[sound]` defaults, the panel's `GET/PUT /api/staff/sound`
//! (validated, audited, nothing saved on bad input), what `GET /api/kiosk/info` tells the page
//! (mute, volume) and the quiet hours in kiosk time on the app's clock.
#![allow(clippy::unwrap_used)]

use crate::common::{send, TestApp, STAFF_TOKEN};

use axum::http::StatusCode;
use chrono::{Duration, FixedOffset, NaiveTime};
use fotobox_core::Config;
use serde_json::{json, Value};

/// No quiet hours: what the page may play does not depend on the hour the test runs at.
const NO_QUIET: &str = "[sound]\nquiet_from = \"00:00\"\nquiet_to = \"00:00\"\n";

async fn kiosk_sound(app: &TestApp) -> Value {
    let (s, v) = send(app.api(), "GET", "/api/kiosk/info", None, None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["sound"].clone()
}

async fn put(app: &TestApp, body: Value, token: Option<&str>) -> (StatusCode, Value) {
    send(app.api(), "PUT", "/api/staff/sound", Some(body), token).await
}

async fn sound_audits(app: &TestApp) -> Vec<fotobox_store::staff::AuditEntry> {
    let (_, all) = app.ctx.store.audit_entries(None, 100, 0).await.unwrap();
    all.into_iter().filter(|a| a.action == "sound").collect()
}

#[tokio::test]
async fn staff_mute_and_volume_reach_the_kiosk_page_audited_and_bad_input_changes_nothing() {
    let app = TestApp::with_extra(NO_QUIET).await;
    assert_eq!(
        kiosk_sound(&app).await,
        json!({"volume": 80, "tones": true, "speech": true, "quiet": false})
    );
    let (s, v) = send(
        app.api(),
        "GET",
        "/api/staff/sound",
        None,
        Some(STAFF_TOKEN),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["source"].as_str(), v["muted"].as_bool()),
        (Some("config"), Some(false))
    );

    // Staff only.
    assert_eq!(
        put(&app, json!({"muted": true}), None).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(app.api(), "GET", "/api/staff/sound", None, None)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    // Every problem in one message; nothing saved, nothing audited.
    let (s, v) = put(
        &app,
        json!({"volume": 101, "quiet_from": "25:00", "quiet_to": "soon", "muted": true}),
        Some(STAFF_TOKEN),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let msg = v["error"].as_str().unwrap();
    for part in ["volume", "quiet_from", "quiet_to"] {
        assert!(msg.contains(part), "{msg}");
    }
    for bad in [
        json!({"volume": 50.5}),
        json!({"volume": -1}),
        json!({"loud": true}),
        json!({"muted": "yes"}),
    ] {
        let (s, v) = put(&app, bad.clone(), Some(STAFF_TOKEN)).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad} → {v}");
    }
    assert_eq!(app.ctx.store.staff_setting("sound").await.unwrap(), None);
    assert!(sound_audits(&app).await.is_empty());
    assert_eq!(kiosk_sound(&app).await["tones"], true);

    // Mute: nothing plays.
    let (s, v) = put(&app, json!({"muted": true}), Some(STAFF_TOKEN)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["source"].as_str(), v["muted"].as_bool()),
        (Some("staff"), Some(true))
    );
    assert_eq!(
        kiosk_sound(&app).await,
        json!({"volume": 80, "tones": false, "speech": false, "quiet": false})
    );
    let audits = sound_audits(&app).await;
    assert_eq!(audits.len(), 1);
    assert_eq!(audits[0].actor, "token");
    let detail: Value = serde_json::from_str(audits[0].detail_json.as_deref().unwrap()).unwrap();
    assert_eq!(
        (
            detail["before"]["muted"].as_bool(),
            detail["after"]["muted"].as_bool()
        ),
        (Some(false), Some(true))
    );

    // Unmute at a lower volume; the other fields keep their value, times are normalised.
    let (s, v) = put(
        &app,
        json!({"muted": false, "volume": 30, "quiet_from": "7:05"}),
        Some(STAFF_TOKEN),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["quiet_from"].as_str(), v["quiet_to"].as_str()),
        (Some("07:05"), Some("00:00"))
    );
    let k = kiosk_sound(&app).await;
    assert_eq!(
        (k["volume"].as_u64(), k["tones"].as_bool()),
        (Some(30), Some(true))
    );
    // Volume 0 is silence too.
    put(&app, json!({"volume": 0}), Some(STAFF_TOKEN)).await;
    let k = kiosk_sound(&app).await;
    assert_eq!(
        (k["tones"].as_bool(), k["speech"].as_bool()),
        (Some(false), Some(false))
    );
    assert_eq!(sound_audits(&app).await.len(), 3);
}

/// How far the app's clock must move to reach the next `hh:00` kiosk time (+05:00, the default).
fn until_local(app: &TestApp, hh: u32) -> Duration {
    let off = FixedOffset::east_opt(5 * 3600).unwrap();
    let now = app.ctx.clock.now();
    let last = fotobox_core::clock::last_slot(now, NaiveTime::from_hms_opt(hh, 0, 0).unwrap(), off);
    last + Duration::days(1) - now + Duration::minutes(1)
}

#[tokio::test]
async fn quiet_hours_silence_the_spoken_prompts_only_in_kiosk_time() {
    // Default quiet hours: 22:00-08:00 kiosk time.
    let app = TestApp::new().await;
    app.ctx.clock.advance(until_local(&app, 12));
    assert_eq!(
        kiosk_sound(&app).await,
        json!({"volume": 80, "tones": true, "speech": true, "quiet": false})
    );
    app.ctx.clock.advance(until_local(&app, 23));
    assert_eq!(
        kiosk_sound(&app).await,
        json!({"volume": 80, "tones": true, "speech": false, "quiet": true})
    );
    let (_, v) = send(
        app.api(),
        "GET",
        "/api/staff/sound",
        None,
        Some(STAFF_TOKEN),
    )
    .await;
    assert_eq!(v["quiet_now"], true);
    app.ctx.clock.advance(until_local(&app, 7));
    assert_eq!(kiosk_sound(&app).await["speech"], false);
    app.ctx.clock.advance(until_local(&app, 8));
    assert_eq!(kiosk_sound(&app).await["speech"], true);
    // Staff move the quiet hours to cover now (08:01).
    let (s, v) = put(
        &app,
        json!({"quiet_from": "08:00", "quiet_to": "09:00"}),
        Some(STAFF_TOKEN),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["quiet_now"], true);
    assert_eq!(kiosk_sound(&app).await["speech"], false);
}

#[test]
fn the_sound_section_is_validated_and_takes_the_environment() {
    let env = |k: &str, v: &str| vec![(k.to_string(), v.to_string())];
    let c = Config::load_with_env(None, &env("FOTOBOX_SOUND_MUTED", "true")).unwrap();
    assert!(c.sound.muted);
    assert_eq!(
        (
            c.sound.volume,
            c.sound.quiet_from.as_str(),
            c.sound.quiet_to.as_str()
        ),
        (80, "22:00", "08:00")
    );
    let e = Config::load_with_env(None, &env("FOTOBOX_SOUND_VOLUME", "101")).unwrap_err();
    assert!(e.to_string().contains("sound.volume"), "{e}");
    let e = Config::from_toml("[sound]\nquiet_to = \"8\"\n").unwrap_err();
    assert!(e.to_string().contains("sound.quiet_to"), "{e}");
    let e = Config::from_toml("[sound]\nloud = true\n").unwrap_err();
    assert!(e.to_string().contains("loud"), "{e}");
}
