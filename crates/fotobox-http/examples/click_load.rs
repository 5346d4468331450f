//! Load tool for the Click SHOP callbacks: creates orders through the API
//! (`POST /api/generate-qr`), then runs prepare+complete cycles (real signed form posts) at a
//! given concurrency and reports cycles/s and p50/p99 per call.
//!
//! Against a running server (`fotobox serve --config FILE`, sandbox, Click configured):
//!   cargo run --release -p fotobox-core --example click_load -- \
//!       --api http://127.0.0.1:8000 --callback http://127.0.0.1:8080 \
//!       --service-id 12345 --secret TEST_SECRET_KEY --clients 16 --cycles 100
//! Without `--api`/`--callback` it starts the server in-process (temporary data directory,
//! sandbox config) with `fotobox_http::server::start`.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use fotobox_core::click::simulator::ClickClient;
use fotobox_core::outbound::Outbound;
use fotobox_core::{AppContext, Config};

struct Args {
    api: Option<String>,
    callback: Option<String>,
    service_id: u64,
    secret: String,
    clients: usize,
    cycles: usize,
    template: String,
}

fn usage() -> ! {
    eprintln!(
        "usage: click_load [--api URL --callback URL] [--service-id N] [--secret S] \
         [--clients N] [--cycles PER_CLIENT] [--template strip]"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut a = Args {
        api: None,
        callback: None,
        service_id: 12345,
        secret: "TEST_SECRET_KEY".into(),
        clients: 1,
        cycles: 200,
        template: "strip".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().unwrap_or_else(|| usage());
        match flag.as_str() {
            "--api" => a.api = Some(val()),
            "--callback" => a.callback = Some(val()),
            "--service-id" => a.service_id = val().parse().unwrap_or_else(|_| usage()),
            "--secret" => a.secret = val(),
            "--clients" => a.clients = val().parse().unwrap_or_else(|_| usage()),
            "--cycles" => a.cycles = val().parse().unwrap_or_else(|_| usage()),
            "--template" => a.template = val(),
            _ => usage(),
        }
    }
    if a.clients == 0 || a.cycles == 0 || a.api.is_some() != a.callback.is_some() {
        usage();
    }
    a
}

fn pct(sorted: &[Duration], p: usize) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = (sorted.len() * p / 100).min(sorted.len() - 1);
    sorted[i].as_secs_f64() * 1000.0
}

fn report(name: &str, mut v: Vec<Duration>) {
    v.sort();
    println!(
        "  {name:<9} n={:<6} p50={:>7.2} ms  p99={:>7.2} ms  max={:>7.2} ms",
        v.len(),
        pct(&v, 50),
        pct(&v, 99),
        v.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    );
}

#[tokio::main]
async fn main() {
    let args = parse_args();
    let mut guard = None;
    let (api, callback) = match (&args.api, &args.callback) {
        (Some(a), Some(c)) => (a.trim_end_matches('/').to_string(), c.clone()),
        _ => {
            let dir = tempfile::tempdir().unwrap();
            let toml = format!(
                "mode = \"sandbox\"\ndata_dir = \"{}\"\n[server]\ncallback_addr = \"127.0.0.1:0\"\n\
                 api_addr = \"127.0.0.1:0\"\n[click]\nservice_id = {}\nmerchant_id = 6789\n\
                 secret_key = \"{}\"\n",
                dir.path().display(),
                args.service_id,
                args.secret
            );
            let ctx = AppContext::new(Config::from_toml(&toml).unwrap())
                .await
                .unwrap();
            let server = fotobox_http::server::start(ctx).await.unwrap();
            let urls = (
                format!("http://{}", server.api_addr),
                format!("http://{}", server.callback_addr),
            );
            println!("in-process server: api {} callback {}", urls.0, urls.1);
            guard = Some((server, dir));
            urls
        }
    };
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients * 2)
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let click = ClickClient::new(
        Outbound::default(),
        callback,
        args.service_id,
        args.secret.clone(),
    );

    // Phase 1: orders through the API (same concurrency).
    let total = args.clients * args.cycles;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.clients {
        let (http, api, template, n) = (
            http.clone(),
            api.clone(),
            args.template.clone(),
            args.cycles,
        );
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::with_capacity(n);
            let mut lat = Vec::with_capacity(n);
            for _ in 0..n {
                let t = Instant::now();
                let v: serde_json::Value = http
                    .post(format!("{api}/api/generate-qr"))
                    .json(&serde_json::json!({"payment_type": "click", "template": template, "copies": 1}))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                lat.push(t.elapsed());
                let id = v["order_id"].as_str().unwrap_or_else(|| panic!("generate-qr: {v}"));
                out.push((id.to_string(), v["amount"].as_i64().unwrap()));
            }
            (out, lat)
        }));
    }
    let mut orders = Vec::new();
    let mut create_lat = Vec::new();
    for t in tasks {
        let (o, l) = t.await.unwrap();
        orders.push(o);
        create_lat.extend(l);
    }
    let create_secs = started.elapsed().as_secs_f64();

    // Phase 2: prepare+complete cycles.
    let started = Instant::now();
    let mut tasks = Vec::new();
    for batch in orders {
        let click = click.clone();
        tasks.push(tokio::spawn(async move {
            let (mut prep, mut comp) = (Vec::new(), Vec::new());
            let mut failures = 0usize;
            for (order_id, amount) in batch {
                let cb = click.new_prepare(&order_id, amount);
                let t = Instant::now();
                let Ok((_, id)) = click.prepare(&cb).await else {
                    failures += 1;
                    continue;
                };
                prep.push(t.elapsed());
                let t = Instant::now();
                let v = click.complete(&cb, id, 0).await.unwrap();
                comp.push(t.elapsed());
                if v["error"].as_i64() != Some(0) {
                    failures += 1;
                }
            }
            (prep, comp, failures)
        }));
    }
    let (mut prep, mut comp, mut failures) = (Vec::new(), Vec::new(), 0);
    for t in tasks {
        let (p, c, f) = t.await.unwrap();
        prep.extend(p);
        comp.extend(c);
        failures += f;
    }
    let secs = started.elapsed().as_secs_f64();
    let cycles = comp.len();
    println!(
        "clients={} cycles={} failures={} wall={:.2}s  => {:.1} cycles/s (prepare+complete)",
        args.clients,
        cycles,
        failures,
        secs,
        cycles as f64 / secs
    );
    report("prepare", prep);
    report("complete", comp);
    println!(
        "orders: {} created in {:.2}s ({:.1}/s)",
        total,
        create_secs,
        total as f64 / create_secs
    );
    report("create", create_lat);
    if let Some((server, _dir)) = guard.take() {
        server.shutdown().await;
    }
    if failures > 0 {
        std::process::exit(1);
    }
}
