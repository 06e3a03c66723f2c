//! Benchmarks printing (1) accelerated block production for a 256-neuron subnet with
//! staking activity and (2) storage queries per second over loopback JSON-RPC.
//! Run: `cargo bench --bench devnet`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonrpsee::core::client::ClientT;
use jsonrpsee::rpc_params;
use vesting_devnet::{DevnetConfig, Pruning, Scenario, build_chain, start};

const SCENARIO: &str = r#"
name = "bench-256"
seed = 3
finality_depth = 3
state_pruning = 256

[[subnets]]
netuid = 1
tempo = 100
owner = "owner"
owner_hotkey = "owner-hot"

[[neuron_groups]]
netuid = 1
prefix = "n"
count = 250
coldkeys = 25
balance_tao = 1000

[[neuron_groups]]
netuid = 1
prefix = "v"
count = 6
coldkeys = 6
dividends = 1
self_stake = 1000
balance_tao = 1000

[[coldkeys]]
name = "nominator"
balance_tao = 100000

[[stakes]]
coldkey = "nominator"
hotkey = "v-0"
netuid = 1
alpha = 5000

[[behaviours]]
kind = "staker"
coldkeys = ["n-ck-*", "nominator"]
probability = 0.05

[[behaviours]]
kind = "partial_seller"
coldkeys = ["n-ck-*", "v-ck-*"]
probability = 0.02

[[behaviours]]
kind = "mover"
coldkeys = ["n-ck-*"]
probability = 0.01
"#;

fn blocks_per_second() -> f64 {
    let scenario = Scenario::from_toml(SCENARIO).expect("bench scenario");
    let mut cfg = DevnetConfig::new(scenario);
    cfg.pruning = Pruning::Last(256);
    let mut chain = build_chain(&cfg).expect("chain");
    chain.produce(200).expect("warm-up");
    let n = 5_000;
    let t = Instant::now();
    chain.produce(n).expect("blocks");
    let secs = t.elapsed().as_secs_f64();
    let txs: usize = (1..=chain.head().number)
        .filter_map(|b| chain.hash_at(b))
        .filter_map(|h| chain.block(&h))
        .map(|b| b.actions.len())
        .sum();
    println!(
        "block production: {n} blocks in {secs:.3} s = {:.0} blocks/s (256 neurons, {txs} staking actions in {} blocks, {} rejected)",
        n as f64 / secs,
        chain.head().number,
        chain.rejected.len()
    );
    n as f64 / secs
}

async fn queries_per_second() -> f64 {
    let mut cfg = DevnetConfig::new(Scenario::builtin("tiny").expect("tiny"));
    cfg.prefill_blocks = 50;
    let h = start(cfg).await.expect("start");
    let md = vesting_devnet::metadata::ChainMetadata::finney().expect("md");
    let info = md
        .storage("SubtensorModule", "TotalHotkeyAlpha")
        .expect("entry");
    let key = vesting_devnet::encode::storage_key(
        md.types(),
        info,
        &[
            vesting_devnet::encode::KeyPart::Account(vesting_devnet::named_account("alice-v")),
            vesting_devnet::encode::KeyPart::Num(1),
        ],
    )
    .expect("key");
    let key = format!("0x{}", hex::encode(key));
    let clients = 8;
    let per = 2_500;
    let mut tasks = vec![];
    let t = Instant::now();
    for _ in 0..clients {
        let url = h.ws_url();
        let key = key.clone();
        tasks.push(tokio::spawn(async move {
            let ws = Arc::new(
                jsonrpsee::ws_client::WsClientBuilder::default()
                    .request_timeout(Duration::from_secs(30))
                    .build(url)
                    .await
                    .expect("ws"),
            );
            for _ in 0..per {
                let v: Option<String> = ws
                    .request("state_getStorage", rpc_params![key.clone()])
                    .await
                    .expect("query");
                assert!(v.is_some());
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let secs = t.elapsed().as_secs_f64();
    let total = (clients * per) as f64;
    println!(
        "storage queries: {total} state_getStorage over loopback WebSocket ({clients} clients) in {secs:.3} s = {:.0} queries/s",
        total / secs
    );
    h.stop().await;
    total / secs
}

fn main() {
    let bps = blocks_per_second();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let qps = rt.block_on(queries_per_second());
    println!(
        "targets: >= 1000 blocks/s ({}), >= 5000 queries/s ({})",
        ok(bps >= 1000.0),
        ok(qps >= 5000.0)
    );
}

fn ok(b: bool) -> &'static str {
    if b { "met" } else { "NOT met" }
}
