//! One chain across runtimes 393 -> 424 -> 459 (the devnet's `upgrades` scenario): both
//! upgrade blocks are epoch blocks of subnet 1, positions start as 393 legacy entries,
//! Keep root claims at 424 and TAO ones at 459, an owner change that registers a hotkey
//! with no `NeuronRegistered`, and `transfer_stake_and_hotkey`. Ground truth to the rao
//! at every attributed block, as shipped and with every coldkey tracked; following live
//! and backfilling give the same history.

use std::time::Duration;

use super::devnet::{
    assert_same_history, check_against_truth, devnet, ground_truth, ingest, policy, tmp_db,
};
use crate::chain::ss58;
use crate::ingest::{Monitor, MonitorConfig, StartAt};
use vesting_devnet::named_account;

/// The scenario's last sn1 epoch is at 241 (finality depth 3).
const LAST: u64 = 250;

const EVERY_COLDKEY: &[&str] = &[
    "vala", "valb", "val2", "miner-a", "miner-b", "miner-c", "owner", "king", "nom-1", "nom-2",
    "outsider",
];

async fn truth_run(netuid: u16, extra: &[&str], tag: &str) {
    let h = devnet("upgrades").await;
    h.advance(LAST).unwrap();
    let until = h.chain().read().unwrap().finalized_number();
    let url = h.ws_url();
    let m = ingest(&url, netuid, until, &tmp_db(tag), extra).await;
    let store = m.store();
    let truth = ground_truth(&url, netuid, until).await;
    let checked = check_against_truth(store, netuid, &truth, until);
    assert!(
        checked >= 20,
        "{tag}: only {checked} earned positions checked"
    );
    let epochs = store.epochs(netuid).unwrap();
    let ran = |b: u64| epochs.iter().any(|e| e.block == b && e.status == "run");
    if netuid == 1 {
        // The legacy rule under 393, dynamic from 424; both upgrade blocks are epochs.
        assert!(
            epochs.iter().any(|e| e.block == 19 && e.rule == "legacy"),
            "{epochs:?}"
        );
        for b in [40, 61, 81, 141, 161, 241] {
            assert!(ran(b), "{tag}: no epoch at {b}: {epochs:?}");
        }
        // The owner change at 161 registered king-hot with no event: it is tracked.
        let king = ss58(&named_account("king"));
        assert!(
            store.tracked_coldkeys().unwrap().contains(&king),
            "{tag}: the new owner's coldkey is not tracked"
        );
        let regs = store.dump_table("uid_registrations").unwrap();
        let king_hot = ss58(&named_account("king-hot"));
        assert!(
            regs.iter()
                .any(|r| r.contains(&king_hot) && r.contains("|161|")),
            "{tag}: {regs:?}"
        );
    }
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrades_match_ground_truth_as_shipped() {
    truth_run(1, &[], "upg-shipped").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrades_match_ground_truth_with_every_coldkey_tracked() {
    truth_run(1, EVERY_COLDKEY, "upg-all").await;
    truth_run(2, EVERY_COLDKEY, "upg-all-2").await;
}

/// Following the chain while it upgrades (metadata refreshed after each `CodeUpdated`)
/// and backfilling the same range afterwards store the same history, table by table.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn following_across_upgrades_equals_a_backfill() {
    let h = devnet("upgrades").await;
    h.advance(5).unwrap();
    let until = 200;
    let mut cfg = MonitorConfig::new(h.ws_url(), 1, tmp_db("upg-live"));
    cfg.start = StartAt::Block(1);
    cfg.until = Some(until);
    let (_stop, task) = Monitor::new(cfg, policy(), vec![]).unwrap().spawn();
    for _ in 0..70u64 {
        h.advance(3).unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    h.advance(10).unwrap();
    let (live, r) = tokio::time::timeout(Duration::from_secs(180), task)
        .await
        .unwrap()
        .unwrap();
    r.unwrap();
    let backfill = ingest(&h.ws_url(), 1, until, &tmp_db("upg-backfill"), &[]).await;
    assert_same_history(live.store(), backfill.store(), until);
    assert!(live.store().decision_blocks().unwrap().len() >= 8);
    h.stop().await;
}
