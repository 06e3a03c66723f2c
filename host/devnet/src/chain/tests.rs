//! Tests of the block tree: epochs by rule, ground truth, migration, reorgs, pruning,
//! runtime upgrades, and the pool validating as the next block.
use std::collections::{BTreeMap, BTreeSet};

use super::*;
use crate::model::{ChainEvent, EventRecord, Share, TruthKind};
use crate::scenario::Scenario;
use crate::server::{DevnetConfig, build_chain};

fn attribution(pruning: Pruning) -> Chain {
    let mut cfg = DevnetConfig::new(Scenario::builtin("attribution").unwrap());
    cfg.pruning = pruning;
    build_chain(&cfg).unwrap()
}

fn events_at(c: &Chain, n: u64) -> Vec<EventRecord> {
    c.block(&c.hash_at(n).unwrap()).unwrap().events.clone()
}

#[test]
fn attribution_epochs_follow_legacy_then_dynamic_rules() {
    let mut c = attribution(Pruning::Archive);
    c.produce(50).unwrap();
    let ran = |n: u64, net: u16| {
        events_at(&c, n).iter().any(|e| {
            matches!(&e.event, ChainEvent::IncentiveAlphaEmittedToMiners { netuid, .. } if *netuid == net)
                && e.phase == Phase::Initialization
        })
    };
    // Legacy rule: (b + netuid + 1) % (tempo + 1) == 0.
    assert!(ran(9, 1) && ran(3, 2) && ran(9, 2));
    assert!(!ran(10, 1) && !ran(8, 2));
    // Dynamic from 12: netuid 2 at 9 + 5.
    assert!(ran(14, 2));
    // Dynamic: both due at 19, cap 1 defers netuid 2 to 20.
    assert!(ran(19, 1) && !ran(19, 2) && ran(20, 2));
    assert!(events_at(&c, 19).iter().any(|e| e.event
        == ChainEvent::EpochDeferred {
            netuid: 2,
            from_block: 19,
            to_block: 20
        }));
    // Skipped at 29, pending emission paid at 39.
    assert!(events_at(&c, 29).iter().any(|e| e.event
        == ChainEvent::EpochSkipped {
            netuid: 1,
            block: 29
        }));
    assert!(!ran(29, 1) && ran(39, 1));
    let st = c.state_at(&c.hash_at(39).unwrap()).unwrap();
    assert_eq!(st.subnets[&1].last_epoch_block, 39);
    assert_eq!(st.subnets[&1].pending_server, 0);
    let st29 = c.state_at(&c.hash_at(29).unwrap()).unwrap();
    assert!(
        st29.subnets[&1].pending_server > 0,
        "skipped epoch keeps pending emission"
    );
}

#[test]
fn ground_truth_explains_every_position_change() {
    let mut c = attribution(Pruning::Archive);
    c.produce(60).unwrap();
    let mut kinds = BTreeSet::new();
    for n in 1..=c.head().number {
        let prev = c.state_at(&c.hash_at(n - 1).unwrap()).unwrap();
        let cur = c.state_at(&c.hash_at(n).unwrap()).unwrap();
        let mut positions = BTreeSet::new();
        for s in [&prev, &cur] {
            for ((h, net), p) in s.pools.iter() {
                for ck in p.shares.keys() {
                    positions.insert((*h, *ck, *net));
                }
            }
        }
        let mut explained: BTreeMap<_, i64> = BTreeMap::new();
        for e in &c.block(&c.hash_at(n).unwrap()).unwrap().truth {
            *explained
                .entry((e.hotkey, e.coldkey, e.netuid))
                .or_default() += e.amount;
            kinds.insert(e.kind);
        }
        for (h, ck, net) in positions {
            let d = cur.stake(&h, &ck, net) as i64 - prev.stake(&h, &ck, net) as i64;
            assert_eq!(
                d,
                explained.get(&(h, ck, net)).copied().unwrap_or(0),
                "block {n} position {net}"
            );
        }
    }
    for k in [
        TruthKind::Emission,
        TruthKind::ManualIn,
        TruthKind::ManualOut,
        TruthKind::AlphaFee,
        TruthKind::RootClaim,
        TruthKind::Recycle,
        TruthKind::Burn,
    ] {
        assert!(kinds.contains(&k), "no {k:?} in the ground truth");
    }
}

#[test]
fn legacy_positions_migrate_lazily_and_uid_is_reregistered() {
    let mut c = attribution(Pruning::Archive);
    c.produce(40).unwrap();
    let (bob, erin, av) = (
        named_account("bob"),
        named_account("erin"),
        named_account("alice-v"),
    );
    let at14 = c.state_at(&c.hash_at(14).unwrap()).unwrap();
    assert!(matches!(
        at14.pools[&(av, 1)].shares.get(&bob),
        Some(Share::Legacy(_))
    ));
    let at16 = c.state_at(&c.hash_at(16).unwrap()).unwrap();
    assert!(matches!(
        at16.pools[&(av, 1)].shares.get(&bob),
        Some(Share::V2(_))
    ));
    assert!(matches!(
        at16.pools[&(av, 1)].shares.get(&erin),
        Some(Share::Legacy(_))
    ));
    assert!(at16.pools[&(av, 1)].legacy_denominator.is_none());
    let head = c.head_state();
    assert_eq!(head.subnets[&1].keys[&2], named_account("dave-new"));
    assert!(
        !head.subnets[&1]
            .uids
            .contains_key(&named_account("carol-m"))
    );
    assert_eq!(at14.subnets[&1].keys[&2], named_account("carol-m"));
}

#[test]
fn reorg_abandons_a_branch_but_never_finalized_blocks() {
    let mut c = attribution(Pruning::Last(64));
    c.produce(44).unwrap();
    let abandoned = c.hash_at(44).unwrap();
    assert!(
        c.block(&abandoned)
            .unwrap()
            .actions
            .iter()
            .any(|a| matches!(a, Action::AddStake { .. }))
    );
    let upd = c.produce(1).unwrap(); // block 45, then the scripted reorg of depth 2
    assert!(upd.reorged);
    assert_eq!(c.head().number, 46);
    let new44 = c.hash_at(44).unwrap();
    assert_ne!(new44, abandoned);
    assert!(
        c.block(&abandoned).is_some(),
        "abandoned blocks stay readable by hash"
    );
    assert!(
        !c.block(&new44)
            .unwrap()
            .actions
            .iter()
            .any(|a| matches!(a, Action::AddStake { .. }))
    );
    assert_eq!(
        c.block(&new44).unwrap().header.parent_hash,
        c.hash_at(43).unwrap()
    );
    // Finalized blocks never revert.
    let fin = c.finalized_number();
    assert!(c.reorg(c.head().number - fin + 1).is_err());
    // Ground truth follows the best chain only.
    assert!(
        c.ground_truth(44, 44)
            .iter()
            .all(|e| e.kind != TruthKind::ManualIn)
    );
}

#[test]
fn pruned_state_answers_like_a_node() {
    let mut c = attribution(Pruning::Last(10));
    c.produce(30).unwrap();
    let old = c.hash_at(5).unwrap();
    let e = c.state_at(&old).unwrap_err().to_string();
    assert!(e.contains("State already discarded for 0x"), "{e}");
    assert!(c.state_at(&c.hash_at(25).unwrap()).is_ok());
    // Exactly the last 10 states are kept, block after block (each number pruned once).
    for more in [0, 1, 7] {
        c.produce(more).unwrap();
        let head = c.head().number;
        for n in 1..=head {
            let kept = c.state_at(&c.hash_at(n).unwrap()).is_ok();
            assert_eq!(kept, n > head - 10, "block {n} at head {head}");
        }
    }
    let e = c.state_at(&[9; 32]).unwrap_err().to_string();
    assert!(e.contains("UnknownBlock"), "{e}");
    // Headers chain by blake2_256 of the SCALE header.
    let b = c.head();
    let parent = c.block(&b.header.parent_hash).unwrap();
    assert_eq!(parent.header.hash(), b.header.parent_hash);
    assert_eq!(c.finalized_number(), c.head().number - 3);
}

/// `tiny` starting on `genesis`, upgrading at the given (block, runtime), with a root
/// claim by nina (staking to alice-v on netuid 1) in block `claim_at`.
pub(crate) fn upgrading_scenario(
    genesis: &str,
    upgrades: &[(u64, u32)],
    claim_at: u64,
) -> Scenario {
    let tiny = crate::scenario::BUILTIN
        .iter()
        .find(|(n, _)| *n == "tiny")
        .unwrap()
        .1;
    let mut text = format!("runtime = \"{genesis}\"\n{tiny}\n");
    for (b, r) in upgrades {
        text.push_str(&format!("[[upgrades]]\nblock = {b}\nruntime = \"{r}\"\n"));
    }
    text.push_str(&format!(
        "[[actions]]\nblock = {claim_at}\naction = {{ kind = \"root_claim\", coldkey = \"nina\", hotkey = \"alice-v\", netuid = 1, alpha = 1000000000 }}\n"
    ));
    Scenario::from_toml(&text).unwrap()
}

#[test]
fn runtime_upgrades_switch_rules_events_and_versions_per_block() {
    let sc = upgrading_scenario("393", &[(4, 424), (8, 459)], 11);
    let mut cfg = DevnetConfig::new(sc);
    cfg.pruning = Pruning::Archive;
    let mut c = build_chain(&cfg).unwrap();
    c.produce(12).unwrap();
    let b = |n: u64| c.block(&c.hash_at(n).unwrap()).unwrap();
    let specs = |n: u64| (b(n).runtime.spec, b(n).code.spec);
    assert_eq!(specs(0), (393, 393));
    assert_eq!(specs(3), (393, 393));
    // Block 4 carries set_code: run by 393, its state holds 424.
    assert_eq!(specs(4), (393, 424));
    assert_eq!(specs(5), (424, 424));
    assert_eq!(specs(8), (424, 459));
    assert_eq!(specs(9), (459, 459));
    let up = b(4);
    assert_eq!(up.upgrade_events.len(), 3);
    assert!(
        up.header
            .digest
            .contains(&DigestItem::RuntimeEnvironmentUpdated)
    );
    assert!(b(5).upgrade_events.is_empty());
    // Events of the upgrade block encode with the runtime that ran it.
    let v = crate::encode::decode(
        up.runtime.md.types(),
        up.runtime
            .md
            .storage("System", "Events")
            .unwrap()
            .value_type,
        &mut up.events_encoded(&up.runtime.md).unwrap(),
    )
    .unwrap()
    .to_string();
    assert!(v.contains("CodeUpdated") && v.contains("Sudid"), "{v}");
    // The legacy epoch rule holds until the first 424 block (5).
    assert_eq!(
        c.state_at(&c.hash_at(0).unwrap())
            .unwrap()
            .dynamic_tempo_from,
        5
    );
    // Under 459 a root claim pays TAO on root: an event with tao, no subnet alpha.
    let claim = b(11);
    assert!(claim.events.iter().any(|e| matches!(
        e.event,
        ChainEvent::RootClaimed { tao, .. } if tao == 1_000_000_000
    )));
    assert!(claim.truth.iter().all(|t| t.kind != TruthKind::RootClaim));
    // Specs only grow.
    assert!(
        c.schedule_upgrade(20, crate::runtime::profile(424).unwrap())
            .is_err()
    );
    assert!(
        c.schedule_upgrade(3, crate::runtime::profile(459).unwrap())
            .is_err()
    );
}

#[test]
fn a_424_root_claim_credits_subnet_alpha_without_tao() {
    let sc = upgrading_scenario("424", &[], 3);
    let mut c = build_chain(&DevnetConfig::new(sc)).unwrap();
    c.produce(4).unwrap();
    let b = c.block(&c.hash_at(3).unwrap()).unwrap();
    assert!(
        b.events
            .iter()
            .any(|e| matches!(e.event, ChainEvent::RootClaimed { tao: 0, .. }))
    );
    assert!(b.truth.iter().any(|t| t.kind == TruthKind::RootClaim));
    b.events_encoded(&b.runtime.md).unwrap();
}

#[test]
fn bad_runtime_keys_name_the_field() {
    let tiny = crate::scenario::BUILTIN
        .iter()
        .find(|(n, _)| *n == "tiny")
        .unwrap()
        .1;
    let e = Scenario::from_toml(&format!("runtime = \"500\"\n{tiny}"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("runtime") && e.contains("393, 424, 459"), "{e}");
    let e = Scenario::from_toml(&format!(
        "runtime = \"424\"\n{tiny}\n[[upgrades]]\nblock = 5\nruntime = \"393\"\n"
    ))
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("upgrades[0].runtime") && e.contains("only grow"),
        "{e}"
    );
    let e = Scenario::from_toml(&format!(
        "{tiny}\n[[upgrades]]\nblock = 0\nruntime = \"459\"\n"
    ))
    .unwrap_err()
    .to_string();
    assert!(e.contains("upgrades[0].block"), "{e}");
    let e = Scenario::from_toml(&format!("runtime = \"next\"\n{tiny}"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a spec version"), "{e}");
}

/// The pool validates a transaction as block `head + 1` (`Executive::validate_transaction`
/// initializes that block): a `set_weights` whose next block is exactly `LastUpdate +
/// WeightsSetRateLimit` is accepted and included there; one block earlier it is refused
/// with the runtime's `SettingWeightsTooFast` (`check_rate_limit`).
#[test]
fn set_weights_rate_limit_is_checked_as_the_next_block() {
    use crate::tx::keys::dev_account;
    use crate::tx::tests::{set_weights_xt, weights_chain};
    let limit = crate::model::weights::WEIGHT_PARAMS.weights_set_rate_limit;
    // //Alice registers (LastUpdate 1) at block 1 and gets a permit at the first epoch.
    let first_ok = 1 + limit;
    let mut c = weights_chain(first_ok - 2);
    let alice = dev_account("Alice");
    assert_eq!(c.head_state().last_update(1, 4), 1);
    assert!(c.head_state().validator_permit(1, 4));
    // Head = limit - 1: validated as block `limit`, one block too early.
    let xt = set_weights_xt(&c, "Alice", &[1, 2], &[1, 1]);
    let e = c.submit_extrinsic(&xt).unwrap_err();
    let (code, _, data) = e.rpc_parts();
    assert_eq!(code, 1010, "{e:?}");
    let data = data.unwrap();
    assert!(
        data.contains("SubtensorModule::SettingWeightsTooFast"),
        "{data}"
    );
    assert!(c.pool().is_empty());
    // The control RPC's queue checks the same way: refused one block early.
    let queued = crate::model::Action::SetWeights {
        hotkey: alice,
        netuid: 1,
        dests: vec![1, 2],
        weights: vec![1, 1],
        version_key: 0,
    };
    let e = c.queue(queued.clone()).unwrap_err().to_string();
    assert!(e.contains("SettingWeightsTooFast"), "{e}");
    // Head = limit: validated as block `1 + limit`, the first block the limit allows.
    c.produce(1).unwrap();
    assert_eq!(c.head().number, first_ok - 1);
    let nonce = c.head_state().nonce(&alice);
    let xt = set_weights_xt(&c, "Alice", &[1, 2], &[1, 1]);
    c.submit_extrinsic(&xt).unwrap();
    let upd = c.produce(1).unwrap();
    let b = &upd.best[0];
    assert_eq!(b.number, first_ok);
    assert!(b.extrinsics.contains(&xt), "included in block {first_ok}");
    assert!(b.dropped.is_empty(), "{:?}", b.dropped);
    assert!(
        b.events
            .iter()
            .any(|e| e.event == ChainEvent::WeightsSet { netuid: 1, uid: 4 })
    );
    let st = c.head_state();
    assert_eq!(st.last_update(1, 4), first_ok);
    assert_eq!(st.nonce(&alice), nonce + 1);
    // The queue at the next limit: refused with the head one block short of it, accepted
    // (as block `first_ok + limit`) at the block before it.
    c.produce(limit - 2).unwrap();
    let e = c.queue(queued.clone()).unwrap_err().to_string();
    assert!(e.contains("SettingWeightsTooFast"), "{e}");
    c.produce(1).unwrap();
    assert_eq!(c.head().number, first_ok + limit - 1);
    c.queue(queued).unwrap();
    let upd = c.produce(1).unwrap();
    assert!(
        upd.best[0]
            .events
            .iter()
            .any(|e| e.event == ChainEvent::WeightsSet { netuid: 1, uid: 4 })
    );
}
