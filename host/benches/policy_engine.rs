//! How a policy call is metered and instantiated, measured: the same default policy and
//! sample inputs (`policy::sample`, 256 miners, 30-day ledger) through wasmtime engines
//! that differ in one thing each:
//!
//! - `fuel, fresh instance`: what the host does (`policy::Policy`): fuel metering (a
//!   deterministic limit: every host stops a runaway policy at the same instruction) and a
//!   new instance per call (no state survives a call);
//! - `epoch interruption`: a wall-clock deadline instead of fuel (not deterministic across
//!   hosts: a slow machine stops a policy another finishes);
//! - `no metering`: the lower bound, no limit at all;
//! - `fuel, pooling allocator`: instances from wasmtime's pooling allocator (pre-reserved
//!   memories and tables) instead of on-demand mmap;
//! - `fuel, pooling, resident`: the same, with a freed instance's memory kept mapped and
//!   zeroed for the next instance (no state survives; the next call's first touches do
//!   not fault pages in);
//! - `fuel, one instance reused`: instantiated once, called again and again (the policy's
//!   heap carries over between calls, so a host would have to discard it after a trap).
//!
//! Prints the median time per call of `holdings`, `multipliers` and `apply-weights` for
//! each, and instantiation alone. `cargo bench -p vesting-host --bench policy_engine`
//! (env MINERS = 256, DAYS = 30, RUNS = 31).

use std::time::{Duration, Instant};
use vesting_host::policy::v0_2::{VestingPolicy, VestingPolicyPre};
use vesting_host::policy::{DEFAULT_POLICY_WASM, Limits, PolicyEngine, contract, sample};
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[derive(Clone, Copy, PartialEq)]
enum Metering {
    Fuel,
    Epoch,
    None,
}

struct Variant {
    name: &'static str,
    metering: Metering,
    pooling: bool,
    /// With pooling: a freed instance's memory stays mapped and is zeroed for the next
    /// (no page faults on the next call's first touches).
    resident: bool,
    reuse: bool,
}

const FUEL: u64 = u64::MAX / 4;

fn engine(v: &Variant) -> Engine {
    let mut c = Config::new();
    c.consume_fuel(v.metering == Metering::Fuel);
    c.epoch_interruption(v.metering == Metering::Epoch);
    if v.pooling {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(16)
            .total_core_instances(16)
            .total_memories(16)
            .total_tables(16)
            .max_memory_size(1 << 30);
        if v.resident {
            pool.linear_memory_keep_resident(64 << 20)
                .table_keep_resident(1 << 20);
        }
        c.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    Engine::new(&c).expect("engine")
}

fn store(engine: &Engine, v: &Variant) -> Store<()> {
    let mut s = Store::new(engine, ());
    match v.metering {
        Metering::Fuel => s.set_fuel(FUEL).expect("fuel"),
        // A deadline far away: ticks are never incremented here, the check is what costs.
        Metering::Epoch => s.set_epoch_deadline(u64::MAX / 2),
        Metering::None => {}
    }
    s
}

fn main() {
    let (miners, days, runs) = (env("MINERS", 256), env("DAYS", 30) as u64, env("RUNS", 31));
    let host = PolicyEngine::new(
        Limits {
            fuel: FUEL,
            memory_bytes: 1 << 30,
        },
        None,
    )
    .expect("engine");
    let policy = host.load(DEFAULT_POLICY_WASM).expect("default policy");
    let s = sample::epoch(&policy, miners, days).expect("sample");
    println!("policy_engine: {miners} miners, {days}-day ledger, {runs} runs; median per call");
    println!(
        "{:<28} {:>12} {:>12} {:>12} {:>14}",
        "variant", "instantiate", "holdings", "multipliers", "apply-weights"
    );
    let variants = [
        Variant {
            name: "fuel, fresh instance",
            metering: Metering::Fuel,
            pooling: false,
            resident: false,
            reuse: false,
        },
        Variant {
            name: "epoch interruption",
            metering: Metering::Epoch,
            pooling: false,
            resident: false,
            reuse: false,
        },
        Variant {
            name: "no metering",
            metering: Metering::None,
            pooling: false,
            resident: false,
            reuse: false,
        },
        Variant {
            name: "fuel, pooling allocator",
            metering: Metering::Fuel,
            pooling: true,
            resident: false,
            reuse: false,
        },
        Variant {
            name: "fuel, pooling, resident",
            metering: Metering::Fuel,
            pooling: true,
            resident: true,
            reuse: false,
        },
        Variant {
            name: "fuel, one instance reused",
            metering: Metering::Fuel,
            pooling: false,
            resident: false,
            reuse: true,
        },
    ];
    let mut reference = None;
    for v in &variants {
        let engine = engine(v);
        let component = Component::new(&engine, DEFAULT_POLICY_WASM).expect("compile");
        let linker: Linker<()> = Linker::new(&engine);
        let pre = VestingPolicyPre::new(linker.instantiate_pre(&component).expect("pre"))
            .expect("contract");
        let instantiate = median(
            (0..runs)
                .map(|_| {
                    let mut st = store(&engine, v);
                    let t = Instant::now();
                    std::hint::black_box(pre.instantiate(&mut st).expect("instantiate"));
                    t.elapsed()
                })
                .collect(),
        );
        let mut kept: Option<(Store<()>, VestingPolicy)> = None;
        let mut call = |f: &mut dyn FnMut(&VestingPolicy, &mut Store<()>)| {
            let t = Instant::now();
            if v.reuse {
                let (st, inst) = kept.get_or_insert_with(|| {
                    let mut st = store(&engine, v);
                    let inst = pre.instantiate(&mut st).expect("instantiate");
                    (st, inst)
                });
                f(inst, st);
            } else {
                let mut st = store(&engine, v);
                let inst = pre.instantiate(&mut st).expect("instantiate");
                f(&inst, &mut st);
            }
            t.elapsed()
        };
        let mut out = None;
        let mut time = |f: &mut dyn FnMut(&VestingPolicy, &mut Store<()>)| {
            // One untimed call first (the reused instance is created there).
            call(f);
            median((0..runs).map(|_| call(f)).collect())
        };
        // The inputs in the contract's 0.2.0 shape, prepared once: only the call is timed.
        let p = &contract::params(&s.params);
        let (h, m, w) = (
            contract::holdings_input(&s.holdings),
            contract::multipliers_input(&s.multipliers),
            contract::weights_input(&s.weights),
        );
        let holdings = time(&mut |i, st| {
            std::hint::black_box(
                i.bittensor_vesting_policy()
                    .call_holdings(st, p, &h)
                    .expect("call")
                    .expect("holdings"),
            );
        });
        let multipliers = time(&mut |i, st| {
            std::hint::black_box(
                i.bittensor_vesting_policy()
                    .call_multipliers(st, p, &m)
                    .expect("call")
                    .expect("multipliers"),
            );
        });
        let weights = time(&mut |i, st| {
            out = Some(
                i.bittensor_vesting_policy()
                    .call_apply_weights(st, p, &w)
                    .expect("call")
                    .expect("apply-weights"),
            );
        });
        // Every variant computes the same weights, bit for bit.
        let got = out.take().expect("weights");
        match &reference {
            None => reference = Some(got),
            Some(r) => assert_eq!(r, &got, "{}: different weights", v.name),
        }
        println!(
            "{:<28} {:>12.3?} {:>12.3?} {:>12.3?} {:>14.3?}",
            v.name, instantiate, holdings, multipliers, weights
        );
    }
}
