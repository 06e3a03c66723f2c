//! Benchmarks printing (1) block production for a 256-neuron subnet with staking
//! activity, every signature checked: the scripted extrinsics signed with their
//! accounts' keys and verified as a node verifies a block it imports (`tx::check`), and
//! a variant whose transactions are signed and submitted through the pool (verified at
//! submission, `Chain::submit_extrinsic`); (2) storage queries per second over loopback
//! JSON-RPC; (3) the Yuma epoch (`model::yuma::run`) at 256 and 2,500 uids with 64
//! validators weighting every miner. It prints figures and never asserts timings.
//! Run: `cargo bench -p vesting-devnet --bench devnet`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonrpsee::core::client::ClientT;
use jsonrpsee::rpc_params;
use rand::{Rng, SeedableRng};
use vesting_devnet::model::weights::WEIGHT_PARAMS;
use vesting_devnet::model::yuma::{self, YumaInput};
use vesting_devnet::tx::keys::{DEV_ACCOUNTS, dev_keypair};
use vesting_devnet::{Action, Chain, DevnetConfig, Pruning, Scenario, build_chain, start};

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

fn bench_chain(behaviours: bool, pruning: Pruning) -> Chain {
    let toml = if behaviours {
        SCENARIO.to_string()
    } else {
        SCENARIO[..SCENARIO.find("[[behaviours]]").expect("behaviours")].to_string()
    };
    let scenario = Scenario::from_toml(&toml).expect("bench scenario");
    let mut cfg = DevnetConfig::new(scenario);
    cfg.pruning = pruning;
    cfg.block_time_ms = 0;
    build_chain(&cfg).expect("chain")
}

/// Verifies every signed extrinsic of block `number` as a node importing it would:
/// decoded with the metadata of the runtime that executed it, signature checked against
/// the parent's state (`tx::check`). Returns (verified, signed extrinsics).
fn verify_block(chain: &Chain, number: u64) -> (usize, usize) {
    let block = chain
        .hash_at(number)
        .and_then(|h| chain.block(&h))
        .expect("block");
    let parent = chain.state_at(&block.header.parent_hash).expect("parent");
    let hash_at = |n: u64| chain.hash_at(n);
    let ctx = vesting_devnet::tx::Context {
        md: &block.runtime.md,
        state: &parent,
        genesis: chain.genesis_hash(),
        head: number - 1,
        hash_at: &hash_at,
    };
    let signed: Vec<&Vec<u8>> = block.extrinsics.iter().skip(1).collect();
    let ok = signed
        .iter()
        .filter(|x| vesting_devnet::tx::check(&ctx, x).is_ok())
        .count();
    (ok, signed.len())
}

/// Scripted activity (the scenario's behaviours): produce, and verify every signature
/// of every block (timed together). `pruning`: a node's 256 blocks of state, or an
/// archive (to show what pruning costs).
fn blocks_per_second(pruning: Pruning) -> f64 {
    let mut chain = bench_chain(true, pruning);
    chain.produce(200).expect("warm-up");
    let n = 5_000;
    let from = chain.head().number + 1;
    let (mut produce, mut verify) = (Duration::ZERO, Duration::ZERO);
    let (mut ok, mut total) = (0, 0);
    for _ in 0..n {
        let t = Instant::now();
        chain.produce(1).expect("block");
        produce += t.elapsed();
        let t = Instant::now();
        let (o, a) = verify_block(&chain, chain.head().number);
        verify += t.elapsed();
        ok += o;
        total += a;
    }
    let secs = (produce + verify).as_secs_f64();
    let txs: usize = (from..=chain.head().number)
        .filter_map(|b| chain.hash_at(b))
        .filter_map(|h| chain.block(&h))
        .map(|b| b.actions.len())
        .sum();
    println!(
        "block production, scripted, {pruning:?}: {n} blocks in {secs:.3} s = {:.0} blocks/s (256 neurons, \
         {txs} staking extrinsics signed by their accounts' keys, {ok} of {total} signatures \
         verified on import; production {:.3} s = {:.0} blocks/s, verification {:.3} s = \
         {:.1} us per signature; {} actions rejected)",
        n as f64 / secs,
        produce.as_secs_f64(),
        n as f64 / produce.as_secs_f64(),
        verify.as_secs_f64(),
        verify.as_secs_f64() * 1e6 / total.max(1) as f64,
        chain.rejected.len()
    );
    n as f64 / secs
}

/// Submitted activity: each block, two `add_stake` / `remove_stake` transactions signed
/// by the dev accounts, submitted through the pool (decoded, signature verified, nonce,
/// payment and call checked), then the block. Signing (the client's work) is timed apart.
fn pool_blocks_per_second() -> f64 {
    let mut chain = bench_chain(false, Pruning::Last(256));
    chain.produce(200).expect("warm-up");
    let keys: Vec<_> = DEV_ACCOUNTS.iter().map(|n| dev_keypair(n)).collect();
    let validators: Vec<_> = (0..6)
        .map(|i| vesting_devnet::named_account(&format!("v-{i}")))
        .collect();
    let md = chain.md();
    let genesis = chain.genesis_hash();
    let n = 2_000u64;
    let (mut sign, mut node) = (Duration::ZERO, Duration::ZERO);
    let (mut accepted, mut refused) = (0, 0);
    for b in 0..n {
        for j in 0..2u64 {
            let i = ((2 * b + j) % keys.len() as u64) as usize;
            let who = keys[i].public_key().0;
            let a = if b < 10 || j == 0 {
                Action::AddStake {
                    coldkey: who,
                    hotkey: validators[i],
                    netuid: 1,
                    // 100 TAO each at first, so the removals that follow have stake.
                    tao: if b < 10 {
                        100_000_000_000
                    } else {
                        1_000_000_000
                    },
                }
            } else {
                Action::RemoveStake {
                    coldkey: who,
                    hotkey: validators[i],
                    netuid: 1,
                    alpha: 100_000_000,
                    alpha_fee: 0,
                }
            };
            let t = Instant::now();
            let call = vesting_devnet::encode::encode(
                md.types(),
                md.call_enum_type(),
                &vesting_devnet::extrinsic::action_call(&md, &a).expect("call"),
            )
            .expect("encode");
            let nonce = chain.next_index(&who);
            let xt = vesting_devnet::tx::sign_extrinsic(&md, genesis, &keys[i], nonce, &call)
                .expect("sign");
            sign += t.elapsed();
            let t = Instant::now();
            match chain.submit_extrinsic(&xt) {
                Ok(_) => accepted += 1,
                Err(_) => refused += 1,
            }
            node += t.elapsed();
        }
        let t = Instant::now();
        chain.produce(1).expect("block");
        node += t.elapsed();
    }
    let secs = node.as_secs_f64();
    println!(
        "block production, pool: {n} blocks in {secs:.3} s = {:.0} blocks/s (256 neurons, \
         {accepted} transactions submitted and verified, {refused} refused; client signing \
         {:.3} s apart, with it {:.0} blocks/s)",
        n as f64 / secs,
        sign.as_secs_f64(),
        n as f64 / (secs + sign.as_secs_f64())
    );
    n as f64 / secs
}

/// A Yuma input of `n` uids: 64 validators (large stake, permits, recent `LastUpdate`)
/// each weighting every miner with deterministic pseudo-random weights.
fn yuma_input(n: usize, seed: u64) -> YumaInput {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let vals = 64;
    let block = 10_000;
    let is_val = |i: usize| i < vals;
    YumaInput {
        block,
        tempo: 360,
        stake: (0..n)
            .map(|i| {
                if is_val(i) {
                    rng.random_range(10_000..1_000_000u64) * 1_000_000_000
                } else {
                    rng.random_range(0..100u64) * 1_000_000_000
                }
            })
            .collect(),
        last_update: (0..n)
            .map(|i| match is_val(i) {
                true => block - rng.random_range(0..360),
                false => block - 4_000,
            })
            .collect(),
        registered_at: (0..n).map(|i| (i as u64 * 7) % 3_000).collect(),
        permits: (0..n).map(is_val).collect(),
        weights: (0..n)
            .map(|i| {
                if is_val(i) {
                    (vals..n)
                        .map(|j| (j as u16, rng.random_range(0..=u16::MAX)))
                        .collect()
                } else {
                    vec![]
                }
            })
            .collect(),
        bonds: vec![vec![]; n],
        params: WEIGHT_PARAMS,
    }
}

/// The epoch at `n` uids over `runs` runs (bonds carried from one run to the next, as
/// epochs carry them): (median, p99) in ms.
fn yuma_ms(n: usize, runs: usize) -> (f64, f64) {
    let mut inp = yuma_input(n, n as u64);
    let out = yuma::run(&inp);
    inp.bonds = out.bonds;
    let mut ms: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            let out = yuma::run(&inp);
            let e = t.elapsed().as_secs_f64() * 1e3;
            inp.bonds = out.bonds;
            e
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    let median = ms[ms.len() / 2];
    let p99 = ms[((ms.len() as f64 * 0.99).ceil() as usize).min(ms.len()) - 1];
    println!(
        "yuma epoch: {n} uids (64 validators x {} miners, all weighted), {runs} runs: \
         median {median:.2} ms, p99 {p99:.2} ms",
        n - 64
    );
    (median, p99)
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

/// Deriving scenario accounts (`named_account`: `//name` from the cached dev root), a
/// cached lookup, and a full URI derivation (phrase seed included) for comparison.
fn derivation_cost() {
    let n = 1_000;
    let t = Instant::now();
    for i in 0..n {
        vesting_devnet::named_account(&format!("bench-derive-{i}"));
    }
    let fresh = t.elapsed().as_secs_f64() * 1e6 / n as f64;
    let t = Instant::now();
    for i in 0..n {
        vesting_devnet::named_account(&format!("bench-derive-{i}"));
    }
    let cached = t.elapsed().as_secs_f64() * 1e6 / n as f64;
    let t = Instant::now();
    for i in 0..20 {
        vesting_devnet::tx::keys::keypair(&format!("//bench-full-{i}")).expect("uri");
    }
    let full = t.elapsed().as_secs_f64() * 1e6 / 20.0;
    println!(
        "scenario keys: {fresh:.1} us per //name derivation (cached root), {cached:.2} us per \
         cached lookup; a full URI derivation (phrase seed each time) {full:.0} us"
    );
}

fn main() {
    derivation_cost();
    let bps = blocks_per_second(Pruning::Last(256));
    blocks_per_second(Pruning::Archive);
    let pool = pool_blocks_per_second();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let qps = rt.block_on(queries_per_second());
    yuma_ms(256, 200);
    yuma_ms(2_500, 20);
    println!(
        "targets: >= 1000 blocks/s with signatures verified (scripted {}, pool {}), \
         >= 5000 queries/s ({})",
        ok(bps >= 1000.0),
        ok(pool >= 1000.0),
        ok(qps >= 5000.0)
    );
}

fn ok(b: bool) -> &'static str {
    if b { "met" } else { "NOT met" }
}
