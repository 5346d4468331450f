//! How long one IPP status query takes: `cargo run --release -p fotobox-core --example ipp_status
//! -- <host:port> <queue> [n]` asks the queue's state `n` times (default 200) and prints the
//! state once and the time per query (median, p95, max).

use std::time::{Duration, Instant};

use fotobox_core::printer_state::query_ipp;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(server), Some(queue)) = (args.get(1), args.get(2)) else {
        return Err("usage: ipp_status <host:port> <queue> [n]".into());
    };
    let n: usize = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(200);
    let timeout = Duration::from_secs(5);
    let first = query_ipp(server, queue, timeout).await?;
    println!("{first:?}");
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        query_ipp(server, queue, timeout).await?;
        times.push(t.elapsed());
    }
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    println!(
        "{n} queries: median {:?}, p95 {:?}, max {:?}",
        at(0.5),
        at(0.95),
        times[times.len() - 1]
    );
    Ok(())
}
