//! One epoch of a 256-miner and of a 2,500-miner subnet with a 30-day ledger (20 epochs a day), every contract
//! function, through the wasm component and through the native build of the same crate,
//! in one run. Prints per-function medians, the epoch total and the wasm/native ratio.
//!
//! `cargo bench -p vesting-host --bench policy_epoch` (env MINERS = "256,2500", DAYS = 30,
//! RUNS = 21, or 5 above 1,000 miners).

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::{Duration, Instant};
use vesting_host::policy::{DEFAULT_POLICY_WASM, Limits, PolicyEngine, contract, sample};
use vesting_policy_default::{DefaultPolicy, Guest, types as native};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The same value in the native crate's types (both derive serde from the same WIT).
fn to_native<T: Serialize, U: DeserializeOwned>(v: &T) -> U {
    serde_json::from_value(serde_json::to_value(v).expect("serialize")).expect("same shape")
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(f());
                t.elapsed()
            })
            .collect(),
    )
}

fn main() {
    let sizes: Vec<usize> = std::env::var("MINERS")
        .unwrap_or_else(|_| "256,2500".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let days = env("DAYS", 30) as u64;
    let engine = PolicyEngine::new(
        Limits {
            fuel: u64::MAX / 4,
            memory_bytes: 4 << 30,
        },
        None,
    )
    .expect("engine");
    let t = Instant::now();
    let policy = engine
        .load(DEFAULT_POLICY_WASM)
        .expect("load the default policy");
    let load = t.elapsed();
    for miners in sizes {
        // Fewer runs for the large subnet: each one takes a second or more.
        let runs = env("RUNS", if miners > 1000 { 5 } else { 21 });
        bench(&policy, miners, days, runs, load);
        println!();
    }
}

fn bench(
    policy: &vesting_host::policy::Policy,
    miners: usize,
    days: u64,
    runs: usize,
    load: Duration,
) {
    let t = Instant::now();
    let s = sample::epoch(policy, miners, days).expect("sample epoch");
    let tranches: usize = s.ledger.ledgers.iter().map(|l| l.tranches.len()).sum();
    println!(
        "policy_epoch: {miners} miners, {days}-day ledger ({} holders, {tranches} tranches), {runs} runs, setup {:.1?}, compile {load:.1?}",
        s.ledger.ledgers.len(),
        t.elapsed()
    );

    let p = &s.params;
    // The native build takes the contract's 0.2.0 shape: the host's values through the
    // adapter, prepared outside the timing (the wasm column pays for its adapter).
    let np: Vec<native::Param> = to_native(&contract::params(p));
    let (na, nl, nh, nm, nw): (
        native::AttributionInput,
        native::LedgerInput,
        native::HoldingsInput,
        native::MultipliersInput,
        native::WeightsInput,
    ) = (
        to_native(&contract::attribution_input(&s.attribution)),
        to_native(&contract::ledger_input(&s.ledger)),
        to_native(&contract::holdings_input(&s.holdings)),
        to_native(&contract::multipliers_input(&s.multipliers)),
        to_native(&contract::weights_input(&s.weights)),
    );

    let rows: Vec<(&str, Duration, Duration, u64)> = vec![
        {
            let f0 = policy.usage().0;
            let w = time(runs, || {
                policy.attribute(p, &s.attribution).expect("attribute")
            });
            let fuel = (policy.usage().0 - f0) / runs as u64;
            (
                "attribute",
                w,
                time(runs, || {
                    DefaultPolicy::attribute(np.clone(), na.clone()).expect("n")
                }),
                fuel,
            )
        },
        {
            let f0 = policy.usage().0;
            let w = time(runs, || {
                policy.ledger_step(p, &s.ledger).expect("ledger-step")
            });
            let fuel = (policy.usage().0 - f0) / runs as u64;
            (
                "ledger-step",
                w,
                time(runs, || {
                    DefaultPolicy::ledger_step(np.clone(), nl.clone()).expect("n")
                }),
                fuel,
            )
        },
        {
            let f0 = policy.usage().0;
            let w = time(runs, || policy.holdings(p, &s.holdings).expect("holdings"));
            let fuel = (policy.usage().0 - f0) / runs as u64;
            (
                "holdings",
                w,
                time(runs, || {
                    DefaultPolicy::holdings(np.clone(), nh.clone()).expect("n")
                }),
                fuel,
            )
        },
        {
            let f0 = policy.usage().0;
            let w = time(runs, || {
                policy.multipliers(p, &s.multipliers).expect("multipliers")
            });
            let fuel = (policy.usage().0 - f0) / runs as u64;
            (
                "multipliers",
                w,
                time(runs, || {
                    DefaultPolicy::multipliers(np.clone(), nm.clone()).expect("n")
                }),
                fuel,
            )
        },
        {
            let f0 = policy.usage().0;
            let w = time(runs, || {
                policy.apply_weights(p, &s.weights).expect("apply-weights")
            });
            let fuel = (policy.usage().0 - f0) / runs as u64;
            (
                "apply-weights",
                w,
                time(runs, || {
                    DefaultPolicy::apply_weights(np.clone(), nw.clone()).expect("n")
                }),
                fuel,
            )
        },
    ];
    println!(
        "{:<14} {:>12} {:>12} {:>8} {:>14}",
        "function", "wasm", "native", "ratio", "fuel"
    );
    let (mut tw, mut tn) = (Duration::ZERO, Duration::ZERO);
    for (name, w, n, fuel) in &rows {
        tw += *w;
        tn += *n;
        println!(
            "{name:<14} {:>12.3?} {:>12.3?} {:>8.2} {fuel:>14}",
            w,
            n,
            w.as_secs_f64() / n.as_secs_f64()
        );
    }
    println!(
        "{:<14} {:>12.3?} {:>12.3?} {:>8.2}",
        "epoch",
        tw,
        tn,
        tw.as_secs_f64() / tn.as_secs_f64()
    );
    // What the host spends turning its values into the contract's 0.2.0 shape (account
    // tables, flat ledgers), part of the wasm column.
    let adapter = time(runs, || {
        (
            contract::attribution_input(&s.attribution),
            contract::ledger_input(&s.ledger),
            contract::holdings_input(&s.holdings),
            contract::multipliers_input(&s.multipliers),
            contract::weights_input(&s.weights),
        )
    });
    println!("of the wasm epoch, the host's adapter (inputs to 0.2.0's shape): {adapter:.3?}");
    let limit_ms = if miners > 1000 { 50.0 } else { 5.0 };
    println!(
        "targets: wasm/native <= 2.0 (stretch 1.5) -> {:.2}; wasm epoch < {limit_ms} ms -> {:.2} ms",
        tw.as_secs_f64() / tn.as_secs_f64(),
        tw.as_secs_f64() * 1e3
    );
}
