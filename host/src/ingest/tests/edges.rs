//! The `edges` scenario against its ground truth, to the rao: two mechanisms, the owner
//! cut (no event), owner-owned miners whose incentive is withheld, alpha fees sold from a
//! holder's second position, flows of untracked nominators inside epoch blocks, Keep root
//! claims between and at epochs (extrinsics and auto-claims in block initialization).
//! Run as shipped (neuron owners tracked) and with every coldkey of the subnet tracked.

use std::collections::BTreeMap;

use super::devnet::{check_against_truth, ground_truth, ingest, tmp_db};
use crate::chain::ss58;
use crate::policy::TrancheKind;
use vesting_devnet::{DevnetConfig, Pruning, Scenario, named_account, start};

/// Every coldkey of the scenario that holds stake on subnet 1.
const EVERY_COLDKEY: &[&str] = &[
    "vala", "valb", "miner-a", "miner-b", "miner-c", "owner", "nom-1", "nom-2", "outsider",
];

async fn edges(extra: &[&str], tag: &str, runtime: Option<u32>) {
    let mut cfg = DevnetConfig::new(Scenario::builtin("edges").unwrap());
    cfg.pruning = Pruning::Archive;
    cfg.runtime = runtime;
    let h = start(cfg).await.unwrap();
    // The last epoch of subnet 1 is at 260; finality depth 3.
    h.advance(268).unwrap();
    let until = h.chain().read().unwrap().finalized_number();
    assert!(until >= 262, "finalized only to {until}");
    let url = h.ws_url();
    let db = tmp_db(tag);
    let m = ingest(&url, 1, until, &db, extra).await;
    let store = m.store();
    let truth = ground_truth(&url, 1, until).await;
    let checked = check_against_truth(store, 1, &truth, until);
    assert!(
        checked >= 40,
        "{tag}: only {checked} earned positions checked"
    );

    // Each tracked holder's ledger holds, as earned, exactly what the chain credited it
    // by emission and root claims over the whole run (none lost between epochs, none
    // taken from flows of coldkeys nobody read).
    let tracked = store.tracked_coldkeys().unwrap();
    let mut want: BTreeMap<String, i64> = BTreeMap::new();
    for ((_, _, ck), kinds) in &truth {
        if tracked.contains(ck) {
            *want.entry(ck.clone()).or_default() += kinds.get("emission").copied().unwrap_or(0)
                + kinds.get("root_claim").copied().unwrap_or(0);
        }
    }
    let ledgers = store.ledgers().unwrap();
    for (ck, w) in &want {
        let got: u64 = ledgers
            .iter()
            .filter(|l| &l.holder == ck)
            .flat_map(|l| &l.tranches)
            .filter(|t| t.kind == TrancheKind::Earned)
            .map(|t| t.amount)
            .sum();
        assert_eq!(got as i64, *w, "{tag}: earned in the ledger of {ck}");
    }
    let named = |n: &str| ss58(&named_account(n));
    // The owner's cut, credited with no event, is earned by (owner-hot, owner).
    let owner_earned: u64 = (1..=until)
        .flat_map(|b| store.changes_at(b).unwrap())
        .filter(|c| c.hotkey == named("owner-hot") && c.coldkey == named("owner"))
        .map(|c| c.earned)
        .sum();
    assert!(owner_earned > 0, "{tag}: the owner cut was not earned");
    // Keep root claims credit subnet alpha up to spec 440 only.
    let claims = truth
        .values()
        .filter(|k| k.contains_key("root_claim"))
        .count();
    assert_eq!(
        claims > 0,
        runtime.unwrap_or(424) < 441,
        "{tag}: {claims} root-claim credits"
    );
    // As shipped, nominators who own no neuron are not tracked, and their flows leave no
    // attribution behind.
    if extra.is_empty() {
        for n in ["nom-1", "nom-2", "outsider"] {
            assert!(!tracked.contains(&named(n)), "{n} is tracked");
            let rows = (1..=until)
                .flat_map(|b| store.changes_at(b).unwrap())
                .filter(|c| c.coldkey == named(n))
                .count();
            assert_eq!(rows, 0, "{tag}: attributions for untracked {n}");
        }
    } else {
        for n in extra {
            assert!(tracked.contains(&named(n)), "{n} is not tracked");
        }
    }
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edges_match_ground_truth_as_shipped() {
    edges(&[], "edges-shipped", None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edges_match_ground_truth_with_every_coldkey_tracked() {
    edges(EVERY_COLDKEY, "edges-all", None).await;
}

/// The same flows on runtime 459 from genesis: root claims pay TAO on root (no subnet
/// flow), events carry the 459 layouts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edges_on_spec_459_from_genesis() {
    edges(EVERY_COLDKEY, "edges-459", Some(459)).await;
}
