//! Ingest benchmark, printing figures: backfill throughput against the devnet for a
//! 256-neuron subnet, on loopback and through a loopback TCP proxy that delays every byte
//! by half the round trip each way (50 and 100 ms RTT: a public or archive node's
//! distance; bandwidth unlimited), RPC requests per block in steady state (non-epoch and
//! epoch blocks), and SQLite time per epoch. Run: `cargo bench -p vesting-host --bench
//! ingest`. Env: BENCH_BLOCKS (3000), BENCH_RTTS (round trips in ms, `0,50,100`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use vesting_devnet::{DevnetConfig, Pruning, Scenario, start};
use vesting_host::ingest::{Monitor, MonitorConfig, StartAt};
use vesting_host::policy::{DEFAULT_POLICY_WASM, Limits, PolicyEngine};

/// The 256-neuron subnet shared by the benches (tempo 100 here).
const SCENARIO: &str = include_str!("subnet-256.toml");

/// A loopback TCP proxy to `target` that delays each direction by `rtt / 2`: every chunk
/// read is written on after that delay, in order, while later chunks are already being
/// read (a link with latency, not a stop-and-wait one).
async fn delay_proxy(target: std::net::SocketAddr, rtt: Duration) -> std::net::SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};
    async fn pipe(
        mut from: tokio::net::tcp::OwnedReadHalf,
        mut to: tokio::net::tcp::OwnedWriteHalf,
        delay: Duration,
    ) {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
        let writer = tokio::spawn(async move {
            while let Some((due, bytes)) = rx.recv().await {
                tokio::time::sleep_until(due.into()).await;
                if to.write_all(&bytes).await.is_err() {
                    return;
                }
            }
            let _ = to.shutdown().await;
        });
        let mut buf = vec![0u8; 1 << 16];
        loop {
            match from.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx
                        .send((Instant::now() + delay, buf[..n].to_vec()))
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
        drop(tx);
        let _ = writer.await;
    }
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((inbound, _)) = l.accept().await {
            tokio::spawn(async move {
                let Ok(outbound) = TcpStream::connect(target).await else {
                    return;
                };
                let _ = inbound.set_nodelay(true);
                let _ = outbound.set_nodelay(true);
                let (ri, wi) = inbound.into_split();
                let (ro, wo) = outbound.into_split();
                tokio::join!(pipe(ri, wo, rtt / 2), pipe(ro, wi, rtt / 2));
            });
        }
    });
    addr
}

fn db(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("vesting-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d.join("v.db")
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let blocks: u64 = std::env::var("BENCH_BLOCKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3_000);
    let mut cfg = DevnetConfig::new(Scenario::from_toml(SCENARIO).expect("scenario"));
    cfg.pruning = Pruning::Archive;
    cfg.prefill_blocks = blocks + 2;
    let h = start(cfg).await.expect("devnet");
    let policy = Arc::new(ArcSwap::new(
        PolicyEngine::new(Limits::default(), None)
            .unwrap()
            .load(DEFAULT_POLICY_WASM)
            .unwrap(),
    ));

    // 1. Backfill throughput, on loopback and through the delaying proxy.
    let rtts: Vec<u64> = std::env::var("BENCH_RTTS")
        .unwrap_or_else(|_| "0,50,100".into())
        .split(',')
        .filter_map(|v| v.trim().parse().ok())
        .collect();
    let mut summary = vec![];
    for rtt in rtts {
        let url = if rtt == 0 {
            h.ws_url()
        } else {
            let addr = delay_proxy(h.local_addr(), Duration::from_millis(rtt)).await;
            format!("ws://{addr}")
        };
        let mut c = MonitorConfig::new(url, 1, db(&format!("backfill-{rtt}")));
        c.start = StartAt::Block(1);
        c.until = Some(blocks);
        c.follow = false;
        let mut m = Monitor::new(c, policy.clone(), vec![]).unwrap();
        let t = Instant::now();
        m.run().await.unwrap();
        let secs = t.elapsed().as_secs_f64();
        let tm = m.timings();
        println!(
            "backfill at {rtt} ms RTT: {blocks} blocks in {secs:.2} s = {:.0} blocks/s (256 neurons, tempo 100, {} epochs; {} RPC requests = {:.2}/block)",
            blocks as f64 / secs,
            tm.epochs,
            m.stats().calls(),
            m.stats().calls() as f64 / blocks as f64
        );
        println!(
            "  requests by method: {:?}; state reads found already started by the read-ahead: {}",
            m.stats().by_method(),
            tm.reads_ahead
        );
        println!(
            "  per epoch block: reads + policy {:.1} ms, SQLite {:.2} ms; per other block: reads + policy {:.2} ms, SQLite {:.3} ms",
            tm.process_epoch.as_secs_f64() * 1e3 / tm.epochs.max(1) as f64,
            tm.store_epoch.as_secs_f64() * 1e3 / tm.epochs.max(1) as f64,
            tm.process_other.as_secs_f64() * 1e3 / (tm.blocks - tm.epochs).max(1) as f64,
            tm.store_other.as_secs_f64() * 1e3 / (tm.blocks - tm.epochs).max(1) as f64,
        );
        summary.push(format!("{rtt} ms: {:.0}", blocks as f64 / secs));
    }
    println!("backfill blocks/s by RTT: {}", summary.join(", "));

    // 2. Steady state: follow new finalized blocks one at a time.
    let mut c = MonitorConfig::new(h.ws_url(), 1, db("follow"));
    let head = h.chain().read().unwrap().finalized_number();
    c.start = StartAt::Block(head.saturating_sub(5).max(1));
    let steady = 300u64;
    c.until = Some(head + steady);
    let m = Monitor::new(c, policy.clone(), vec![]).unwrap();
    let stats = m.stats();
    let (_stop, task) = m.spawn();
    // Let it catch up, then count.
    while stats.calls() == 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = stats.by_method();
    let calls0 = stats.calls();
    for _ in 0..steady {
        h.advance(1).unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (m, r) = tokio::time::timeout(Duration::from_secs(300), task)
        .await
        .unwrap()
        .unwrap();
    r.unwrap();
    let after = stats.by_method();
    let diff: std::collections::BTreeMap<String, u64> = after
        .iter()
        .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0)))
        .filter(|(_, v)| *v > 0)
        .collect();
    let epochs = 3u64; // tempo 100 over 300 blocks
    let events = diff.get("state_getStorage").copied().unwrap_or(0);
    let total = stats.calls() - calls0;
    println!(
        "steady state: {steady} blocks, {total} requests = {:.2}/block; state_getStorage (System.Events) {events} = {:.2}/block; the rest {} over ~{epochs} epochs = {:.1}/epoch",
        total as f64 / steady as f64,
        events as f64 / steady as f64,
        total - events,
        (total - events) as f64 / epochs as f64
    );
    println!("  requests by method: {diff:?}");
    let tm = m.timings();
    println!(
        "SQLite time per epoch block: {:.2} ms (over {} epoch blocks); per other block {:.3} ms",
        tm.store_epoch.as_secs_f64() * 1e3 / tm.epochs.max(1) as f64,
        tm.epochs,
        tm.store_other.as_secs_f64() * 1e3 / (tm.blocks - tm.epochs).max(1) as f64
    );
    h.stop().await;
}
