//! End to end against the devnet over JSON-RPC: the attribution scenario's every epoch
//! matches the devnet's ground truth to the rao; connections cut mid-stream by a loopback
//! proxy leave no gap and no double count.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use arc_swap::ArcSwap;
use serde_json::{Value as Json, json};
use subxt::rpcs::rpc_params;
use tokio::net::{TcpListener, TcpStream};
use vesting_devnet::{DevnetConfig, DevnetHandle, Pruning, Scenario, named_account, start};

use crate::chain::{ChainClient, RpcStats, ss58};
use crate::ingest::{Monitor, MonitorConfig, StartAt};
use crate::policy::{DEFAULT_POLICY_WASM, Limits, Policy, PolicyEngine};
use crate::store::Store;

pub(crate) fn policy() -> Arc<ArcSwap<Policy>> {
    let p = PolicyEngine::new(Limits::default(), None)
        .unwrap()
        .load(DEFAULT_POLICY_WASM)
        .unwrap();
    Arc::new(ArcSwap::new(p))
}

pub(crate) async fn devnet(scenario: &str) -> DevnetHandle {
    let mut cfg = DevnetConfig::new(Scenario::builtin(scenario).unwrap());
    cfg.pruning = Pruning::Archive;
    start(cfg).await.unwrap()
}

pub(super) fn tmp_db(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "vesting-ingest-{name}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d.join("v.db")
}

fn hex_to_ss58(s: &str) -> String {
    let b: [u8; 32] = hex::decode(s.trim_start_matches("0x"))
        .unwrap()
        .try_into()
        .unwrap();
    ss58(&b)
}

pub(super) async fn ingest(
    url: &str,
    netuid: u16,
    until: u64,
    db: &std::path::Path,
    extra: &[&str],
) -> Monitor {
    let mut cfg = MonitorConfig::new(url, netuid, db);
    cfg.start = StartAt::Block(1);
    cfg.until = Some(until);
    cfg.track_coldkeys = extra.iter().map(|n| named_account(n)).collect();
    let mut m = Monitor::new(cfg, policy(), vec![]).unwrap();
    m.run().await.unwrap();
    m
}

/// (block, hotkey, coldkey) -> kind -> summed amount, from `devnet_groundTruth` over RPC.
pub(super) async fn ground_truth(
    url: &str,
    netuid: u16,
    to: u64,
) -> BTreeMap<(u64, String, String), BTreeMap<String, i64>> {
    let c = ChainClient::connect(url, RpcStats::new()).await.unwrap();
    let gt: Json = c
        .rpc()
        .request(
            "devnet_groundTruth",
            rpc_params![json!({"from": 1, "to": to, "netuid": netuid})],
        )
        .await
        .unwrap();
    let mut out: BTreeMap<_, BTreeMap<String, i64>> = BTreeMap::new();
    for e in gt["entries"].as_array().unwrap() {
        let key = (
            e["block"].as_u64().unwrap(),
            hex_to_ss58(e["hotkey"].as_str().unwrap()),
            hex_to_ss58(e["coldkey"].as_str().unwrap()),
        );
        *out.entry(key)
            .or_default()
            .entry(e["kind"].as_str().unwrap().to_string())
            .or_default() += e["amount"].as_i64().unwrap();
    }
    out
}

pub(super) fn check_against_truth(
    store: &Store,
    netuid: u16,
    truth: &BTreeMap<(u64, String, String), BTreeMap<String, i64>>,
    until: u64,
) -> usize {
    let tracked = store.tracked_coldkeys().unwrap();
    let runs: Vec<u64> = store
        .epochs(netuid)
        .unwrap()
        .iter()
        .filter(|e| e.status == "run")
        .map(|e| e.block)
        .collect();
    assert!(!runs.is_empty());
    let mut checked = 0;
    // Every block the host attributed: epochs, and root claims between them.
    for b in 1..=until {
        let changes = store.changes_at(b).unwrap();
        let by_pos: BTreeMap<(String, String), _> = changes
            .iter()
            .map(|c| ((c.hotkey.clone(), c.coldkey.clone()), c))
            .collect();
        // Every tracked position the truth says earned here (emission at an epoch, or a
        // root claim's credit) has an attribution with exactly that.
        for ((tb, hk, ck), kinds) in
            truth.range((b, String::new(), String::new())..(b + 1, String::new(), String::new()))
        {
            assert_eq!(*tb, b);
            if !tracked.contains(ck) {
                continue;
            }
            let earned = kinds.get("emission").copied().unwrap_or(0)
                + kinds.get("root_claim").copied().unwrap_or(0);
            let c = by_pos.get(&(hk.clone(), ck.clone()));
            if earned != 0 {
                let c = c.unwrap_or_else(|| {
                    panic!("block {b}: no attribution for ({hk}, {ck}) which earned {earned}: {kinds:?}")
                });
                assert_eq!(
                    c.earned as i64, earned,
                    "block {b}: earned of ({hk}, {ck}) vs {kinds:?}"
                );
                checked += 1;
            }
            if let Some(c) = c {
                // The change is what the truth says, and the residue is only the pool
                // rounding outside emission, which no event explains.
                let total: i64 = kinds.values().sum();
                assert_eq!(
                    c.after as i64 - c.before as i64,
                    total,
                    "block {b}: change of ({hk}, {ck})"
                );
                let rounding = kinds.get("rounding").copied().unwrap_or(0);
                assert_eq!(
                    c.residue, rounding,
                    "block {b}: residue of ({hk}, {ck}) vs {kinds:?}"
                );
            }
        }
        for c in &changes {
            let k = truth
                .get(&(b, c.hotkey.clone(), c.coldkey.clone()))
                .cloned()
                .unwrap_or_default();
            if c.earned > 0 {
                let e = k.get("emission").copied().unwrap_or(0)
                    + k.get("root_claim").copied().unwrap_or(0);
                assert_eq!(
                    e, c.earned as i64,
                    "block {b}: ({}, {}) earned {} without emission: {k:?}",
                    c.hotkey, c.coldkey, c.earned
                );
            }
            if c.residue != 0 {
                assert!(
                    k.contains_key("rounding"),
                    "block {b}: residue {} of ({}, {}) unexplained: {k:?}",
                    c.residue,
                    c.hotkey,
                    c.coldkey
                );
            }
        }
    }
    checked
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attribution_scenario_matches_ground_truth_to_the_rao() {
    let h = devnet("attribution").await;
    h.advance(64).unwrap();
    let until = h.chain().read().unwrap().finalized_number();
    let url = h.ws_url();
    for netuid in [1u16, 2] {
        let db = tmp_db(&format!("truth{netuid}"));
        let m = ingest(&url, netuid, until, &db, &["bob", "erin"]).await;
        let store = m.store();
        let truth = ground_truth(&url, netuid, until).await;
        let checked = check_against_truth(store, netuid, &truth, until);
        assert!(
            checked >= 5,
            "netuid {netuid}: only {checked} earned positions checked"
        );
        // No gap: every block from 1 to `until` exactly once.
        let blocks = store.dump_table("blocks").unwrap();
        assert_eq!(blocks.len() as u64, until);
        // Decoded once: every block after the first (whose parent the catch-up does not
        // know) took its events from the read-ahead.
        assert_eq!(m.timings().decoded_ahead, until - 1);
        let epochs = store.epochs(netuid).unwrap();
        let has = |b: u64, s: &str| epochs.iter().any(|e| e.block == b && e.status == s);
        if netuid == 1 {
            // Legacy rule at 9, dynamic at 19, skipped at 29, paid at 39.
            assert!(
                epochs.iter().any(|e| e.block == 9 && e.rule == "legacy"),
                "{epochs:?}"
            );
            assert!(
                has(19, "run") && has(29, "skipped") && has(39, "run"),
                "{epochs:?}"
            );
            let kinds: std::collections::BTreeSet<String> = store
                .dump_table("stake_flows")
                .unwrap()
                .iter()
                .map(|r| r.split('|').nth(5).unwrap().to_string())
                .collect();
            for k in [
                "'added'",
                "'removed'",
                "'moved-in'",
                "'moved-out'",
                "'swapped-out'",
                "'recycled'",
                "'burned'",
                "'incentive'",
                "'auto-staked'",
                "'dividend'",
                "'root-claimed'",
            ] {
                assert!(kinds.contains(k), "no {k} flow on netuid 1: {kinds:?}");
            }
            // The reorg abandoned bob's add_stake at 44: finalized history never has it.
            let bob = ss58(&named_account("bob"));
            assert!(
                !store
                    .flows(44, 45)
                    .unwrap()
                    .iter()
                    .any(|f| f.flow.coldkey == bob && f.flow.alpha > 0)
            );
            // uid 2 re-registered at 33: the old range is closed, history kept.
            let regs = store.dump_table("uid_registrations").unwrap();
            let carol = ss58(&named_account("carol-m"));
            let dave = ss58(&named_account("dave-new"));
            assert!(
                regs.iter()
                    .any(|r| r.contains(&carol) && r.ends_with("|33")),
                "{regs:?}"
            );
            assert!(
                regs.iter()
                    .any(|r| r.contains(&dave) && r.contains("|33|NULL")),
                "{regs:?}"
            );
            // Legacy Alpha entries are read: erin's never-migrated position is in every snapshot.
            let erin = ss58(&named_account("erin"));
            let snaps = store.dump_table("stake_snapshots").unwrap();
            assert!(
                snaps
                    .iter()
                    .any(|r| r.contains(&erin) && r.starts_with("39|'post'")),
                "erin's legacy position missing"
            );
            assert!(!store.latest_multipliers().unwrap().is_empty());
        } else {
            assert!(has(19, "deferred") && has(20, "run"), "{epochs:?}");
            let kinds: Vec<String> = store.dump_table("stake_flows").unwrap();
            assert!(kinds.iter().any(|r| r.contains("'transferred-out'")));
            assert!(kinds.iter().any(|r| r.contains("'swapped-in'")));
            assert!(kinds.iter().any(|r| r.contains("'alpha-fee'")));
        }
    }
    h.stop().await;
}

/// A loopback TCP proxy that can cut every open connection.
struct Proxy {
    addr: SocketAddr,
    cut: Arc<tokio::sync::Notify>,
    up: Arc<AtomicBool>,
}

async fn proxy(target: SocketAddr) -> Proxy {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let cut = Arc::new(tokio::sync::Notify::new());
    let up = Arc::new(AtomicBool::new(true));
    let (c2, u2) = (cut.clone(), up.clone());
    tokio::spawn(async move {
        loop {
            let Ok((inbound, _)) = l.accept().await else {
                return;
            };
            if !u2.load(Ordering::SeqCst) {
                drop(inbound);
                continue;
            }
            let cut = c2.clone();
            tokio::spawn(async move {
                let Ok(outbound) = TcpStream::connect(target).await else {
                    return;
                };
                let (mut ri, mut wi) = inbound.into_split();
                let (mut ro, mut wo) = outbound.into_split();
                tokio::select! {
                    _ = tokio::io::copy(&mut ri, &mut wo) => {}
                    _ = tokio::io::copy(&mut ro, &mut wi) => {}
                    _ = cut.notified() => {}
                }
            });
        }
    });
    Proxy { addr, cut, up }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_connections_leave_no_gap_and_no_double_count() {
    let h = devnet("tiny").await;
    h.advance(5).unwrap();
    let p = proxy(h.local_addr()).await;
    let until = 120;
    let db = tmp_db("drops");
    let mut cfg = MonitorConfig::new(format!("ws://{}", p.addr), 1, &db);
    cfg.start = StartAt::Block(1);
    cfg.until = Some(until);
    cfg.max_backoff = Duration::from_millis(200);
    let m = Monitor::new(cfg, policy(), vec![]).unwrap();
    let (_stop, task) = m.spawn();
    // Produce blocks while cutting connections, and refuse new ones for a while sometimes.
    for i in 0..40u64 {
        h.advance(3).unwrap();
        tokio::time::sleep(Duration::from_millis(40)).await;
        if i % 5 == 2 {
            p.cut.notify_waiters();
        }
        if i % 10 == 7 {
            p.up.store(false, Ordering::SeqCst);
            p.cut.notify_waiters();
            tokio::time::sleep(Duration::from_millis(300)).await;
            p.up.store(true, Ordering::SeqCst);
        }
    }
    h.advance(10).unwrap();
    let (m, r) = tokio::time::timeout(Duration::from_secs(120), task)
        .await
        .unwrap()
        .unwrap();
    r.unwrap();
    assert!(m.reconnects() >= 3, "only {} reconnects", m.reconnects());
    // The same range ingested without interruption, directly.
    let db2 = tmp_db("nodrops");
    let m2 = ingest(&h.ws_url(), 1, until, &db2, &[]).await;
    assert_same_history(m.store(), m2.store(), until);
    h.stop().await;
}

/// Every table of `a` equals `b`'s, and each of blocks 1..=`until` is there once.
pub(super) fn assert_same_history(a: &Store, b: &Store, until: u64) {
    for t in a.tables().unwrap() {
        assert_eq!(
            a.dump_table(&t).unwrap(),
            b.dump_table(&t).unwrap(),
            "table {t} differs"
        );
    }
    assert_eq!(a.dump_table("blocks").unwrap().len() as u64, until);
}

/// `wasm` with a custom section appended: another sha256, the same behaviour.
fn twin(wasm: &[u8]) -> Vec<u8> {
    fn leb(mut n: usize, out: &mut Vec<u8>) {
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            out.push(if n == 0 { b } else { b | 0x80 });
            if n == 0 {
                break;
            }
        }
    }
    let name = b"vesting-test-twin";
    let mut payload = vec![];
    leb(name.len(), &mut payload);
    payload.extend_from_slice(name);
    let mut out = wasm.to_vec();
    out.push(0);
    leb(payload.len(), &mut out);
    out.extend(payload);
    out
}

/// Shadow mode keeps the candidate's own ledger chain: a twin of the active policy (same
/// code, another sha256) must end every epoch with exactly the active policy's weights,
/// through moves, transfers, swaps, fees and re-registration. A missed or doubled step
/// would show as a difference.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shadow_twin_keeps_an_identical_chain() {
    use crate::registry::Registry;
    let h = devnet("attribution").await;
    h.advance(64).unwrap();
    let until = h.chain().read().unwrap().finalized_number();
    let db = tmp_db("shadow-twin");
    let store = Store::open(&db).unwrap();
    let engine = PolicyEngine::new(Limits::default(), None).unwrap();
    let fallback = engine.load(DEFAULT_POLICY_WASM).unwrap();
    let registry = Arc::new(Registry::new(engine, fallback.clone()));
    registry.start(&store, None).unwrap();
    let twin = registry
        .store_unchecked(&store, &twin(DEFAULT_POLICY_WASM), "test")
        .unwrap();
    assert_ne!(twin.sha256(), fallback.sha256());
    store
        .set_shadow_policy(Some(&twin.sha256_hex()), "test")
        .unwrap();
    let mut cfg = MonitorConfig::new(h.ws_url(), 1, &db);
    cfg.start = StartAt::Block(1);
    cfg.until = Some(until);
    cfg.track_coldkeys = ["bob", "erin"].iter().map(|n| named_account(n)).collect();
    let mut m = Monitor::new(cfg, registry.active_slot().clone(), vec![])
        .unwrap()
        .with_registry(registry, fallback.clone(), Default::default());
    m.run().await.unwrap();
    let runs = m.store().shadow_runs(1000).unwrap();
    assert!(runs.len() >= 3, "{} shadow runs", runs.len());
    for r in &runs {
        assert_eq!(r.candidate, twin.sha256_hex());
        assert_eq!(r.active, fallback.sha256_hex());
        assert_eq!(r.error, None, "#{}", r.block);
        assert_eq!(
            (r.total_weight_diff, r.miners_changed),
            (0, 0),
            "#{}: the twin differs",
            r.block
        );
        let diffs = m.store().shadow_diffs(r.block, &r.candidate).unwrap();
        assert!(!diffs.is_empty());
        assert!(
            diffs
                .iter()
                .all(|d| d.active_multiplier == d.candidate_multiplier)
        );
    }
    // The chain itself: every holder's ledger equals the active policy's, tranche for tranche.
    let chain = m.shadow_chain().expect("the shadow chain runs");
    assert_eq!(chain.since, 1, "seeded at the first block, never re-seeded");
    let active: Vec<_> = m.store().ledgers().unwrap();
    let shadow: Vec<_> = chain.ledgers.values().cloned().collect();
    assert!(active.iter().any(|l| !l.tranches.is_empty()));
    assert_eq!(shadow, active);
    h.stop().await;
}

/// Poll mode (waits paced by the next epoch) ingests exactly what the subscription does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poll_mode_misses_nothing() {
    let h = devnet("tiny").await;
    h.advance(5).unwrap();
    let until = 90;
    let db = tmp_db("poll");
    let mut cfg = MonitorConfig::new(h.ws_url(), 1, &db);
    cfg.start = StartAt::Block(1);
    cfg.until = Some(until);
    cfg.follow_mode = crate::ingest::Follow::Poll {
        block_time: Duration::from_millis(10),
        max: Duration::from_millis(150),
    };
    let m = Monitor::new(cfg, policy(), vec![]).unwrap();
    let (_stop, task) = m.spawn();
    for _ in 0..30u64 {
        h.advance(3).unwrap();
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    h.advance(10).unwrap();
    let (m, r) = tokio::time::timeout(Duration::from_secs(120), task)
        .await
        .unwrap()
        .unwrap();
    r.unwrap();
    let db2 = tmp_db("poll-reference");
    let m2 = ingest(&h.ws_url(), 1, until, &db2, &[]).await;
    assert_same_history(m.store(), m2.store(), until);
    assert!(m.store().decision_blocks().unwrap().len() >= 5);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pruned_state_says_use_an_archive_endpoint() {
    let mut cfg = DevnetConfig::new(Scenario::builtin("tiny").unwrap());
    cfg.pruning = Pruning::Last(8);
    let h = start(cfg).await.unwrap();
    h.advance(40).unwrap();
    let db = tmp_db("pruned");
    let mut cfg = MonitorConfig::new(h.ws_url(), 1, &db);
    cfg.start = StartAt::Block(2);
    cfg.until = Some(30);
    let mut m = Monitor::new(cfg, policy(), vec![]).unwrap();
    let e = m.run().await.unwrap_err().to_string();
    assert!(
        e.contains("use an archive endpoint") && e.contains("no longer has the state of block #"),
        "{e}"
    );
    h.stop().await;
}
