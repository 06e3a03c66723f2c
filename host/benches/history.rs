//! Ledger history on disk: a 30-day history (20 epochs a day) of the sample subnet
//! (`policy::sample`: holders, partial sellers, one-time sellers, movers), stepped
//! through the default policy (native build, for speed; the ledgers are the same) and
//! written to a store epoch by epoch as the monitor writes them, for 256 and 2,500
//! miners. Prints, per size: the history's JSON (what the old one-row-per-holder layout
//! stored) against the compressed rows, the database and WAL files, the time to write a
//! epoch's blocks (a catch-up batch with the step) and to read a step back (the worst case decompresses a whole keyframe chain).
//!
//! `cargo bench -p vesting-host --bench history` (env MINERS = "256,2500", DAYS = 30).

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::Path;
use std::time::{Duration, Instant};
use vesting_host::policy::{Earning, Flow, HolderLedger, LedgerInput, contract, sample};
use vesting_host::store::{BlockRecord, LedgerStepRecord, Store};
use vesting_policy_default::{DefaultPolicy, Guest};

/// The same value in the other crate's types (both derive serde from the same WIT: the
/// host's 0.2.0 bindings and the policy crate).
fn convert<T: Serialize, U: DeserializeOwned>(v: &T) -> U {
    serde_json::from_value(serde_json::to_value(v).expect("serialize")).expect("same shape")
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1 << 20) as f64
}

fn file_len(p: &Path) -> u64 {
    std::fs::metadata(p).map_or(0, |m| m.len())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn run(miners: usize, days: u64, dir: &Path) {
    let db = dir.join(format!("history-{miners}.db"));
    let mut store = Store::open(&db).expect("store");
    let params = DefaultPolicy::resolve_params(Vec::new()).expect("params");
    let mut ledgers: Vec<HolderLedger> = Vec::new();
    let mut writes = Vec::new();
    let t0 = Instant::now();
    let mut step_time = Duration::ZERO;
    let mut next = 1;
    for e in 0..days * 20 {
        let block = sample::EPOCH_BLOCKS * (e + 1);
        let (mut earnings, mut flows): (Vec<Earning>, Vec<Flow>) = (vec![], vec![]);
        sample::activity(miners, e, &mut earnings, &mut flows);
        // The host's values in the contract's 0.2.0 shape, as the host hands them over.
        let input = contract::ledger_input(&LedgerInput {
            netuid: 1,
            block: block + 1,
            ledgers: std::mem::take(&mut ledgers),
            earnings,
            flows,
        });
        let t = Instant::now();
        let out = DefaultPolicy::ledger_step(params.clone(), convert(&input)).expect("ledger step");
        step_time += t.elapsed();
        ledgers = contract::ledger_output_back(convert(&out), &input.accounts)
            .expect("valid output")
            .ledgers;
        let host = ledgers.clone();
        // The blocks since the last epoch (the store takes blocks without gaps), written in
        // one batch with the epoch's step as catch-up does.
        let recs: Vec<BlockRecord> = (next..=block + 1)
            .map(|n| BlockRecord {
                number: n,
                hash: format!("0x{n:064x}"),
                step: (n == block + 1).then(|| LedgerStepRecord {
                    block: n,
                    ledgers: host.clone(),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .collect();
        next = block + 2;
        let t = Instant::now();
        store.apply_blocks(&recs).expect("write");
        writes.push(t.elapsed());
    }
    let elapsed = t0.elapsed();
    let (payload, raw, steps): (i64, i64, i64) = store
        .conn()
        .query_row(
            "SELECT SUM(LENGTH(payload)), SUM(raw_len), COUNT(*) FROM ledger_steps",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("sizes");
    let last = sample::EPOCH_BLOCKS * days * 20 + 1;
    // The step just before a keyframe decompresses the longest chain.
    let worst: i64 = store
        .conn()
        .query_row(
            "SELECT MAX(block) FROM ledger_steps WHERE block < (SELECT MAX(block) FROM ledger_steps WHERE base IS NULL)",
            [],
            |r| r.get(0),
        )
        .expect("worst");
    let read = |b: u64| {
        let t = Instant::now();
        let n = store.ledgers_at(b).expect("read").len();
        (t.elapsed(), n)
    };
    let (read_last, holders) = read(last);
    let (read_worst, _) = read(worst as u64);
    let tranches: usize = ledgers.iter().map(|l| l.tranches.len()).sum();
    writes.sort();
    let (db_len, wal_len) = (
        file_len(&db),
        file_len(&db.with_file_name(format!("history-{miners}.db-wal"))),
    );
    println!(
        "{miners} miners, {days} days: {steps} steps, {holders} holders, {tranches} tranches at the end ({:.1} s; ledger steps {:.1} s)",
        elapsed.as_secs_f64(),
        step_time.as_secs_f64()
    );
    println!(
        "  history JSON (the old layout's content) {:.1} MiB -> stored {:.2} MiB (x{:.0} smaller)",
        mib(raw as u64),
        mib(payload as u64),
        raw as f64 / payload.max(1) as f64
    );
    println!(
        "  database file {:.1} MiB, WAL {:.1} MiB",
        mib(db_len),
        mib(wal_len)
    );
    println!(
        "  write an epoch (360 blocks and the step): median {:.1} ms, p99 {:.1} ms, max {:.1} ms; read the last step {:.1} ms, the longest chain {:.1} ms",
        ms(writes[writes.len() / 2]),
        ms(writes[writes.len() * 99 / 100]),
        ms(writes[writes.len() - 1]),
        ms(read_last),
        ms(read_worst)
    );
}

fn main() {
    let sizes: Vec<usize> = std::env::var("MINERS")
        .unwrap_or_else(|_| "256,2500".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let days: u64 = std::env::var("DAYS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let dir = std::env::temp_dir().join(format!("vesting-bench-history-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    println!(
        "history bench: ledger steps written as the monitor writes them (zstd, delta to the previous step)"
    );
    for miners in sizes {
        run(miners, days, &dir);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
