//! Spec 459 behaviour on a small chain: the subnet owner change at the epoch drain
//! (uid replaced with no `NeuronRegistered`, owner cut and withheld incentive follow the
//! new owner) and `transfer_stake_and_hotkey` / `move_stake_limit` with their events and
//! ground truth.

use std::collections::BTreeMap;

use crate::chain::{Chain, Pruning};
use crate::encode::KeyPart;
use crate::model::{AccountId, ChainEvent, Phase, TruthKind, named_account};
use crate::scenario::Scenario;
use crate::served_tests::{Served, positions_follow_ground_truth};
use crate::server::{DevnetConfig, build_chain};

const SCENARIO: &str = r#"
name = "spec459"
runtime = "459"

[[subnets]]
netuid = 1
tempo = 10
owner = "owner"
owner_hotkey = "owner-hot"
max_uids = 4
emission_per_block = 1_000_000_000

[[subnets]]
netuid = 2
tempo = 10
owner = "owner2"
owner_hotkey = "owner2-hot"
price_rao = 2_000_000_000

[[coldkeys]]
name = "king"
hotkeys = ["king-hot"]

[[coldkeys]]
name = "nina"
balance_tao = 100

[[neurons]]
netuid = 1
hotkey = "val"
coldkey = "vali"
dividends = 1
self_stake = 100

[[neurons]]
netuid = 1
hotkey = "m1"
coldkey = "miner"
incentive = 2
self_stake = 10

[[neurons]]
netuid = 1
hotkey = "owner-m"
coldkey = "owner"
incentive = 1

[[neurons]]
netuid = 1
hotkey = "idle"
coldkey = "miner"

[[neurons]]
netuid = 2
hotkey = "val2"
coldkey = "vali"
dividends = 1
self_stake = 50

[[stakes]]
coldkey = "nina"
hotkey = "val"
netuid = 1
alpha = 40

[[actions]]
block = 12
action = { kind = "change_owner", netuid = 1, coldkey = "king", hotkey = "king-hot" }

[[actions]]
block = 20
action = { kind = "transfer_stake_and_hotkey", coldkey = "nina", dest_coldkey = "king", origin_hotkey = "val", dest_hotkey = "m1", origin_netuid = 1, dest_netuid = 1, alpha = 5_000_000_000 }

[[actions]]
block = 23
action = { kind = "transfer_stake_and_hotkey", coldkey = "nina", dest_coldkey = "miner", origin_hotkey = "val", dest_hotkey = "val2", origin_netuid = 1, dest_netuid = 2, alpha = 4_000_000_000 }

[[actions]]
block = 25
action = { kind = "move_stake_limit", coldkey = "vali", origin_hotkey = "val", dest_hotkey = "val2", origin_netuid = 1, dest_netuid = 2, alpha = 2_000_000_000, limit_price = 600_000_000 }

[[actions]]
block = 26
action = { kind = "move_stake_limit", coldkey = "vali", origin_hotkey = "val", dest_hotkey = "val2", origin_netuid = 1, dest_netuid = 2, alpha = 2_000_000_000, limit_price = 400_000_000 }

[[actions]]
block = 27
action = { kind = "move_stake_limit", coldkey = "miner", origin_hotkey = "val2", dest_hotkey = "val2", origin_netuid = 2, dest_netuid = 1, alpha = 18446744073709551615 }
"#;

fn n(name: &str) -> AccountId {
    named_account(name)
}

fn chain(blocks: u64) -> Chain {
    let mut cfg = DevnetConfig::new(Scenario::from_toml(SCENARIO).unwrap());
    cfg.pruning = Pruning::Archive;
    let mut c = build_chain(&cfg).unwrap();
    c.produce(blocks).unwrap();
    c
}

fn events(c: &Chain, b: u64) -> Vec<(Phase, ChainEvent)> {
    let blk = c.block(&c.hash_at(b).unwrap()).unwrap();
    blk.events_encoded(&blk.runtime.md)
        .unwrap_or_else(|e| panic!("block {b}: {e}"));
    blk.events
        .iter()
        .map(|e| (e.phase, e.event.clone()))
        .collect()
}

/// Emission truth of a block by (hotkey, coldkey).
fn emission(c: &Chain, b: u64) -> BTreeMap<(AccountId, AccountId), i64> {
    let blk = c.block(&c.hash_at(b).unwrap()).unwrap();
    let mut out = BTreeMap::new();
    for t in blk.truth.iter().filter(|t| t.kind == TruthKind::Emission) {
        *out.entry((t.hotkey, t.coldkey)).or_default() += t.amount;
    }
    out
}

#[test]
fn owner_changes_at_the_next_drain_replacing_the_lowest_emission_uid() {
    let c = chain(30);
    assert!(c.rejected.len() == 1, "{:?}", c.rejected);
    let st = |b: u64| c.state_at(&c.hash_at(b).unwrap()).unwrap();
    // Scheduled at 12 (after the epoch at 10): nothing until the drain at 20.
    assert_eq!(st(19).subnets[&1].owner_coldkey, n("owner"));
    assert_eq!(st(19).subnets[&1].keys[&3], n("idle"));
    let ev = events(&c, 20);
    let pos = |f: &dyn Fn(&ChainEvent) -> bool| ev.iter().position(|(_, e)| f(e));
    let changed = pos(&|e| {
        matches!(e, ChainEvent::SubnetOwnerChanged { netuid: 1, old_coldkey, new_coldkey }
            if *old_coldkey == n("owner") && *new_coldkey == n("king"))
    })
    .expect("SubnetOwnerChanged at 20");
    let incentive = pos(&|e| {
        matches!(
            e,
            ChainEvent::IncentiveAlphaEmittedToMiners { netuid: 1, .. }
        )
    })
    .expect("the epoch at 20");
    assert!(
        changed < incentive,
        "the owner changes before the epoch runs"
    );
    assert_eq!(ev[changed].0, Phase::Initialization);
    assert!(
        !ev.iter()
            .any(|(_, e)| matches!(e, ChainEvent::NeuronRegistered { .. })),
        "register_neuron deposits no NeuronRegistered"
    );
    // The king took uid 3 (idle: no emission; owner-m is the old owner's immune uid).
    let s20 = &st(20).subnets[&1];
    assert_eq!(
        (s20.owner_coldkey, s20.owner_hotkey),
        (n("king"), n("king-hot"))
    );
    assert_eq!(s20.keys[&3], n("king-hot"));
    assert!(!s20.uids.contains_key(&n("idle")));
    let served = Served { chain: &c };
    let key3 = [KeyPart::Num(1), KeyPart::Num(3)];
    assert_eq!(
        served.value(19, "Keys", &key3).unwrap().to_string(),
        served.value(0, "Keys", &key3).unwrap().to_string()
    );
    assert_ne!(
        served.value(20, "Keys", &key3).unwrap().to_string(),
        served.value(19, "Keys", &key3).unwrap().to_string()
    );
    for item in ["SubnetOwner", "SubnetOwnerHotkey"] {
        let before = served
            .value(19, item, &[KeyPart::Num(1)])
            .unwrap()
            .to_string();
        let after = served
            .value(20, item, &[KeyPart::Num(1)])
            .unwrap()
            .to_string();
        assert_ne!(before, after, "{item}");
    }
    // Who is paid: the epoch at 10 withheld owner-m's incentive and paid the old owner's
    // cut; at 20 the whole drained cut goes to the new owner, owner-m is paid, and the
    // king's uid (weights cleared) is listed with nothing.
    let e10 = emission(&c, 10);
    assert!(!e10.contains_key(&(n("owner-m"), n("owner"))));
    assert_eq!(e10[&(n("owner-hot"), n("owner"))], 1_800_000_000);
    let e20 = emission(&c, 20);
    assert_eq!(e20[&(n("king-hot"), n("king"))], 1_800_000_000);
    assert!(!e20.contains_key(&(n("owner-hot"), n("owner"))));
    assert!(e20[&(n("owner-m"), n("owner"))] > 0);
    let listed = ev.iter().find_map(|(_, e)| match e {
        ChainEvent::IncentiveAlphaEmittedToMiners {
            netuid: 1,
            emissions,
        } => Some(emissions.clone()),
        _ => None,
    });
    assert_eq!(listed.unwrap()[3], 0);
    assert_eq!(positions_follow_ground_truth(&c, 30), 30);
}

#[test]
fn transfer_stake_and_hotkey_and_move_stake_limit_emit_as_459_does() {
    let c = chain(30);
    // Within a subnet: StakeRemoved, StakeAdded, then StakeAndHotkeyTransferred.
    let ev: Vec<ChainEvent> = events(&c, 20)
        .into_iter()
        .filter(|(p, _)| *p == Phase::ApplyExtrinsic(1))
        .map(|(_, e)| e)
        .collect();
    assert!(
        matches!(&ev[0], ChainEvent::StakeRemoved { coldkey, hotkey, alpha: 5_000_000_000, netuid: 1, .. }
        if *coldkey == n("nina") && *hotkey == n("val"))
    );
    assert!(
        matches!(&ev[1], ChainEvent::StakeAdded { coldkey, hotkey, alpha: 5_000_000_000, netuid: 1, .. }
        if *coldkey == n("king") && *hotkey == n("m1"))
    );
    assert!(matches!(&ev[2], ChainEvent::StakeAndHotkeyTransferred {
        origin_coldkey, destination_coldkey, origin_hotkey, destination_hotkey,
        origin_netuid: 1, destination_netuid: 1, amount: 5_000_000_000 }
        if (*origin_coldkey, *destination_coldkey, *origin_hotkey, *destination_hotkey)
            == (n("nina"), n("king"), n("val"), n("m1"))));
    assert!(matches!(ev[3], ChainEvent::ExtrinsicSuccess { .. }));
    let blk = c.block(&c.hash_at(20).unwrap()).unwrap();
    let mut kinds: Vec<_> = blk
        .truth
        .iter()
        .filter(|t| t.kind == TruthKind::ManualOut || t.kind == TruthKind::ManualIn)
        .map(|t| (t.kind, t.hotkey, t.coldkey, t.amount))
        .collect();
    kinds.sort();
    let mut want = vec![
        (TruthKind::ManualOut, n("val"), n("nina"), -5_000_000_000),
        (TruthKind::ManualIn, n("m1"), n("king"), 5_000_000_000),
    ];
    want.sort();
    assert_eq!(kinds, want);
    // Across subnets (price 1 -> 2 TAO): 4 alpha -> 4 TAO -> 2 alpha on sn2.
    let ev = events(&c, 23);
    assert!(ev.iter().any(
        |(_, e)| matches!(e, ChainEvent::StakeAdded { coldkey, netuid: 2, alpha: 2_000_000_000, .. }
        if *coldkey == n("miner"))
    ));
    assert!(ev.iter().any(|(_, e)| matches!(
        e,
        ChainEvent::StakeAndHotkeyTransferred {
            destination_netuid: 2,
            amount: 4_000_000_000,
            ..
        }
    )));
    // move_stake_limit: 0.5 sn2 alpha per sn1 alpha is below 0.6 (refused), above 0.4.
    assert_eq!(c.rejected.len(), 1);
    assert_eq!(c.rejected[0].0, 25);
    assert!(
        c.rejected[0].2.contains("limit_price"),
        "{}",
        c.rejected[0].2
    );
    assert!(events(&c, 26).iter().any(|(_, e)| matches!(
        e,
        ChainEvent::StakeMoved {
            dest_netuid: 2,
            tao: 2_000_000_000,
            ..
        }
    )));
    // alpha = u64::MAX moves the whole position.
    let st26 = c.state_at(&c.hash_at(26).unwrap()).unwrap();
    let held = st26.stake(&n("val2"), &n("miner"), 2);
    assert!(held > 0);
    let st27 = c.state_at(&c.hash_at(27).unwrap()).unwrap();
    // (424's share pool has no dust removal: a rao of share value can remain.)
    assert!(st27.stake(&n("val2"), &n("miner"), 2) <= 1);
    assert!(events(&c, 27).iter().any(
        |(_, e)| matches!(e, ChainEvent::StakeRemoved { alpha, netuid: 2, .. } if *alpha == held)
    ));
}
