//! Load tool for the doors issue: the loopback API's latency while clients flood the callback
//! listener with hostile Click bodies (about 16,000 distinct keys in 60 KiB), against the same
//! latency idle; and, optionally, a PNG declaring 12000x12000 pixels posted to a paid order.
//! Usage: door_flood --api http://127.0.0.1:P --callback http://127.0.0.1:Q [--clients 8]
//!        [--seconds 10] [--token STAFF_TOKEN] [--png-order ORDER_ID]
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// The hostile body: distinct keys until 60 KiB.
fn flood_body() -> String {
    let mut body = String::from("click_trans_id=1&service_id=1");
    let mut i = 0u32;
    while body.len() < 60 * 1024 {
        body.push_str(&format!("&{:x}=", 0x100 + i));
        i += 1;
    }
    body
}

/// Latencies (ms) of `GET {api}/api/test` for `secs` seconds, one request at a time.
async fn probe(http: &reqwest::Client, api: &str, secs: u64) -> Vec<f64> {
    let until = Instant::now() + Duration::from_secs(secs);
    let mut lat = Vec::new();
    while Instant::now() < until {
        let t = Instant::now();
        let r = http.get(format!("{api}/api/test")).send().await;
        if r.is_ok_and(|r| r.status().is_success()) {
            lat.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    lat.sort_by(|a, b| a.total_cmp(b));
    lat
}

fn pct(v: &[f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v[((v.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let api = arg("--api").expect("--api http://127.0.0.1:PORT");
    let callback = arg("--callback").expect("--callback http://127.0.0.1:PORT");
    let clients: usize = arg("--clients").map_or(8, |c| c.parse().unwrap());
    let secs: u64 = arg("--seconds").map_or(10, |c| c.parse().unwrap());
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();

    let idle = probe(&http, &api, secs).await;
    println!(
        "idle:  {} requests, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        idle.len(),
        pct(&idle, 0.5),
        pct(&idle, 0.99),
        pct(&idle, 1.0)
    );

    let stop = Arc::new(AtomicBool::new(false));
    let (sent, shed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let body = flood_body();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (http, url, body) = (
            http.clone(),
            format!("{callback}/api/click/prepare"),
            body.clone(),
        );
        let (stop, sent, shed) = (stop.clone(), sent.clone(), shed.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let r = http
                    .post(&url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body.clone())
                    .send()
                    .await;
                sent.fetch_add(1, Ordering::Relaxed);
                if r.is_ok_and(|r| r.status() == reqwest::StatusCode::SERVICE_UNAVAILABLE) {
                    shed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    let flooded = probe(&http, &api, secs).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    println!(
        "flood: {} requests, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} clients sent {} hostile bodies, {} shed with 503)",
        flooded.len(),
        pct(&flooded, 0.5),
        pct(&flooded, 0.99),
        pct(&flooded, 1.0),
        clients,
        sent.load(Ordering::Relaxed),
        shed.load(Ordering::Relaxed)
    );
    println!(
        "p99 flooded / idle: {:.1}x",
        pct(&flooded, 0.99) / pct(&idle, 0.99)
    );

    if let Some(order) = arg("--png-order") {
        let png = huge_png();
        let r = http
            .post(format!("{api}/api/kiosk/orders/{order}/shots/0"))
            .header("content-type", "image/png")
            .header("host", api.trim_start_matches("http://"))
            .body(png.clone())
            .send()
            .await
            .unwrap();
        println!(
            "PNG of {} bytes declaring 12000x12000 to a paid order: HTTP {}",
            png.len(),
            r.status().as_u16()
        );
    }
}

/// An 8x8 PNG whose header says 12000x12000 (CRC fixed).
fn huge_png() -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::RgbImage::new(8, 8)
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    let mut png = out.into_inner();
    png[16..20].copy_from_slice(&12_000u32.to_be_bytes());
    png[20..24].copy_from_slice(&12_000u32.to_be_bytes());
    let mut crc = 0xFFFF_FFFFu32;
    for b in &png[12..29] {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    png[29..33].copy_from_slice(&(!crc).to_be_bytes());
    png
}
