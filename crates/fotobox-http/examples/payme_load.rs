//! Load tool for the Payme callback: each client loops over the full cycle
//! (order via `POST /api/generate-qr`, CheckPerformTransaction, CreateTransaction,
//! PerformTransaction, CheckTransaction) and the tool reports cycles/s and p50/p99 per call.
//!
//! Against a running server (`fotobox serve --config FILE`):
//!   cargo run --release -p fotobox-core --example payme_load -- \
//!       --api http://127.0.0.1:8000 --callback http://127.0.0.1:8001 --key TEST_KEY --clients 16 --seconds 10
//! Without `--api`/`--callback` it starts the server in-process on a temporary data directory
//! (sandbox mode, same store settings: WAL + synchronous=FULL).
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use fotobox_core::outbound::Outbound;
use fotobox_core::payme::simulator::{new_payme_id, PaymeClient};
use serde_json::{json, Value};

const CALLS: [&str; 5] = [
    "generate-qr",
    "CheckPerform",
    "Create",
    "Perform",
    "CheckTransaction",
];

struct Args {
    api: Option<String>,
    callback: Option<String>,
    login: String,
    key: String,
    clients: usize,
    seconds: u64,
}

fn parse_args() -> Args {
    let mut a = Args {
        api: None,
        callback: None,
        login: "Paycom".into(),
        key: "LOAD_TEST_KEY_0123456789abcdef012345".into(),
        clients: 1,
        seconds: 10,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--api" => a.api = Some(val()),
            "--callback" => a.callback = Some(val()),
            "--login" => a.login = val(),
            "--key" => a.key = val(),
            "--clients" => a.clients = val().parse().expect("--clients N"),
            "--seconds" => a.seconds = val().parse().expect("--seconds N"),
            "-h" | "--help" => {
                println!("payme_load [--api URL --callback URL --key KEY [--login L]] [--clients N] [--seconds S]");
                std::process::exit(0);
            }
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn timed<T>(
    lat: &mut BTreeMap<&'static str, Vec<Duration>>,
    name: &'static str,
    f: impl std::future::Future<Output = T>,
) -> T {
    let t = Instant::now();
    let r = f.await;
    lat.entry(name).or_default().push(t.elapsed());
    r
}

async fn client_loop(
    http: reqwest::Client,
    api: String,
    payme: PaymeClient,
    until: Instant,
) -> (u64, u64, BTreeMap<&'static str, Vec<Duration>>) {
    let mut lat: BTreeMap<&'static str, Vec<Duration>> = BTreeMap::new();
    let (mut cycles, mut failures) = (0u64, 0u64);
    while Instant::now() < until {
        let order: Value = match timed(&mut lat, "generate-qr", async {
            http.post(format!("{api}/api/generate-qr"))
                .json(&json!({"payment_type": "payme", "template": "strip", "copies": 1}))
                .send()
                .await?
                .error_for_status()?
                .json::<Value>()
                .await
        })
        .await
        {
            Ok(v) => v,
            Err(e) => {
                eprintln!("generate-qr failed: {e}");
                failures += 1;
                continue;
            }
        };
        let order_id = order["order_id"].as_str().unwrap_or_default().to_string();
        let amount = order["amount"].as_i64().unwrap_or(0) * 100;
        let id = new_payme_id();
        let ok = async {
            let r = timed(
                &mut lat,
                "CheckPerform",
                payme.check_perform(&order_id, amount),
            )
            .await?;
            assert_eq!(r["allow"], json!(true));
            let now = chrono::Utc::now().timestamp_millis();
            let r = timed(
                &mut lat,
                "Create",
                payme.create(&id, now, &order_id, amount),
            )
            .await?;
            assert_eq!(r["state"], json!(1));
            let r = timed(&mut lat, "Perform", payme.perform(&id)).await?;
            assert_eq!(r["state"], json!(2));
            let r = timed(&mut lat, "CheckTransaction", payme.check(&id)).await?;
            assert_eq!(r["state"], json!(2));
            Ok::<_, fotobox_core::payme::simulator::SimError>(())
        }
        .await;
        match ok {
            Ok(()) => cycles += 1,
            Err(e) => {
                eprintln!("cycle failed: {e}");
                failures += 1;
            }
        }
    }
    (cycles, failures, lat)
}

#[tokio::main]
async fn main() {
    let args = parse_args();
    let mut _keep = None;
    let (api, callback, key) = match (&args.api, &args.callback) {
        (Some(a), Some(c)) => (a.clone(), c.clone(), args.key.clone()),
        _ => {
            let dir = tempfile::tempdir().unwrap();
            let text = format!(
                "mode = \"sandbox\"\ndata_dir = \"{}\"\n[server]\ncallback_addr = \"127.0.0.1:0\"\napi_addr = \"127.0.0.1:0\"\nstaff_token = \"load-test-token-0123456789\"\n[payme]\nmerchant_id = \"5e730e8e0b852a417aa49ceb\"\nkey = \"{}\"\n[orders]\nttl_seconds = 3600\n",
                dir.path().display(),
                args.key
            );
            let ctx =
                fotobox_core::AppContext::new(fotobox_core::Config::from_toml(&text).unwrap())
                    .await
                    .unwrap();
            let server = fotobox_http::server::start(ctx).await.unwrap();
            let urls = (
                format!("http://{}", server.api_addr),
                format!("http://{}", server.callback_addr),
                args.key.clone(),
            );
            eprintln!(
                "started an in-process server: api {} callback {}",
                urls.0, urls.1
            );
            _keep = Some((dir, server));
            urls
        }
    };
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients.max(1))
        .build()
        .unwrap();
    let payme = PaymeClient::new(Outbound::default(), &callback, &args.login, &key);
    // Warm-up (connections, page cache).
    let _ = client_loop(
        http.clone(),
        api.clone(),
        payme.clone(),
        Instant::now() + Duration::from_millis(300),
    )
    .await;

    let started = Instant::now();
    let until = started + Duration::from_secs(args.seconds);
    let tasks: Vec<_> = (0..args.clients)
        .map(|_| tokio::spawn(client_loop(http.clone(), api.clone(), payme.clone(), until)))
        .collect();
    let (mut cycles, mut failures) = (0u64, 0u64);
    let mut lat: BTreeMap<&'static str, Vec<Duration>> = BTreeMap::new();
    for t in tasks {
        let (c, f, l) = t.await.unwrap();
        cycles += c;
        failures += f;
        for (k, v) in l {
            lat.entry(k).or_default().extend(v);
        }
    }
    let wall = started.elapsed().as_secs_f64();
    println!(
        "clients={} seconds={:.1} cycles={} failures={} cycles/s={:.1}",
        args.clients,
        wall,
        cycles,
        failures,
        cycles as f64 / wall
    );
    for name in CALLS {
        let mut v = lat.remove(name).unwrap_or_default();
        v.sort();
        println!(
            "  {:<17} n={:<7} p50={:>8.2} ms  p99={:>8.2} ms",
            name,
            v.len(),
            pct(&v, 0.50).as_secs_f64() * 1e3,
            pct(&v, 0.99).as_secs_f64() * 1e3
        );
    }
    if let Some((_dir, server)) = _keep.take() {
        server.shutdown().await;
    }
}
