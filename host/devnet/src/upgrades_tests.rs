//! The built-in `upgrades` scenario (393 -> 424 -> 459 on one chain): epochs where its
//! header says, no action dropped, many flows inside epoch blocks, served positions equal
//! ground truth and the model's stakes at every block, and every block's events and
//! storage decode with the metadata of the runtime that executed it; spec 459 miner
//! collateral capture stays in the miner's position.

use std::collections::BTreeSet;

use crate::chain::{Chain, Pruning};
use crate::encode::decode;
use crate::model::{ChainEvent, Phase, TruthKind, named_account};
use crate::scenario::Scenario;
use crate::served_tests::positions_follow_ground_truth;
use crate::server::{DevnetConfig, build_chain};
use crate::storage::{SERVED, StorageView};

const BLOCKS: u64 = 250;

fn chain() -> Chain {
    let mut cfg = DevnetConfig::new(Scenario::builtin("upgrades").unwrap());
    cfg.pruning = Pruning::Archive;
    let mut c = build_chain(&cfg).unwrap();
    c.produce(BLOCKS).unwrap();
    c
}

fn epoch_blocks(c: &Chain, netuid: u16) -> Vec<u64> {
    (1..=BLOCKS)
        .filter(|b| {
            c.block(&c.hash_at(*b).unwrap()).unwrap().events.iter().any(|e| {
                matches!(&e.event, ChainEvent::IncentiveAlphaEmittedToMiners { netuid: n, .. } if *n == netuid)
            })
        })
        .collect()
}

#[test]
fn upgrades_runs_its_epochs_and_flows_as_its_header_says() {
    let c = chain();
    assert!(c.rejected.is_empty(), "{:?}", c.rejected);
    let sn1 = epoch_blocks(&c, 1);
    let sn2 = epoch_blocks(&c, 2);
    eprintln!("sn1 {sn1:?}\nsn2 {sn2:?}");
    assert_eq!(
        sn1,
        vec![19, 40, 61, 81, 101, 121, 141, 161, 181, 201, 221, 241]
    );
    assert_eq!(sn2, vec![28, 59, 89, 119, 149, 179, 209, 239]);
    let spec = |b: u64| c.block(&c.hash_at(b).unwrap()).unwrap().runtime.spec;
    assert_eq!(
        (spec(61), spec(62), spec(141), spec(142)),
        (393, 424, 424, 459)
    );
    // Flows inside epoch blocks.
    let epochs: BTreeSet<u64> = sn1.iter().chain(&sn2).copied().collect();
    let mut inside = 0;
    let mut manual = 0;
    for b in 1..=BLOCKS {
        let blk = c.block(&c.hash_at(b).unwrap()).unwrap();
        let n = blk
            .actions
            .iter()
            .filter(|a| a.call_name().is_some_and(|c| c != "claim_root"))
            .count();
        manual += n;
        if epochs.contains(&b) {
            inside += n;
        }
    }
    eprintln!("upgrades: {manual} manual flows, {inside} inside epoch blocks");
    assert!(manual >= 20 && inside >= 20, "{manual} / {inside}");
    // The first 424 block revalues 393's positions.
    let b62 = c.block(&c.hash_at(62).unwrap()).unwrap();
    assert!(b62.truth.iter().any(|t| t.kind == TruthKind::Rounding));
    // Root claims: Keep (alpha, RootClaimed without tao) at 424, TAO at 459.
    let claims = |b: u64| -> Vec<(Phase, u64)> {
        c.block(&c.hash_at(b).unwrap())
            .unwrap()
            .events
            .iter()
            .filter_map(|e| match e.event {
                ChainEvent::RootClaimed { tao, .. } => Some((e.phase, tao)),
                _ => None,
            })
            .collect()
    };
    assert_eq!(claims(70), vec![(Phase::ApplyExtrinsic(1), 0)]);
    assert_eq!(claims(95), vec![(Phase::Initialization, 0)]);
    assert!(matches!(claims(145)[..], [(Phase::ApplyExtrinsic(1), t)] if t > 0));
    assert!(matches!(claims(175)[..], [(Phase::Initialization, t)] if t > 0));
    let truth = |b: u64, k: TruthKind| {
        c.block(&c.hash_at(b).unwrap())
            .unwrap()
            .truth
            .iter()
            .any(|t| t.kind == k)
    };
    assert!(truth(70, TruthKind::RootClaim) && truth(95, TruthKind::RootClaim));
    assert!(!truth(145, TruthKind::RootClaim) && !truth(175, TruthKind::RootClaim));
    for b in [81, 101, 141, 181, 241] {
        assert!(truth(b, TruthKind::AlphaFee), "alpha fee at {b}");
    }
    // The owner change at the drain of 161.
    let b161 = c.block(&c.hash_at(161).unwrap()).unwrap();
    assert!(
        b161.events
            .iter()
            .any(|e| matches!(e.event, ChainEvent::SubnetOwnerChanged { netuid: 1, .. }))
    );
    let st = c.state_at(&b161.hash).unwrap();
    assert_eq!(st.subnets[&1].keys[&7], named_account("king-hot"));
    assert!(st.stake(&named_account("king-hot"), &named_account("king"), 1) > 0);
    assert!(st.stake(&named_account("owner-m"), &named_account("owner"), 1) > 0);
    let b141 = c.state_at(&c.hash_at(141).unwrap()).unwrap();
    assert_eq!(
        b141.stake(&named_account("owner-m"), &named_account("owner"), 1),
        0
    );
    // transfer_stake_and_hotkey in epoch blocks 149 (sn2) and 161 (sn1).
    for b in [149, 161] {
        let blk = c.block(&c.hash_at(b).unwrap()).unwrap();
        assert!(
            blk.events
                .iter()
                .any(|e| matches!(e.event, ChainEvent::StakeAndHotkeyTransferred { .. })),
            "{b}"
        );
    }
}

#[test]
fn upgrades_positions_follow_ground_truth_at_every_block() {
    let c = chain();
    assert_eq!(positions_follow_ground_truth(&c, BLOCKS), BLOCKS);
}

#[test]
fn upgrades_events_and_storage_decode_with_each_blocks_runtime() {
    let c = chain();
    for b in 0..=BLOCKS {
        let blk = c.block(&c.hash_at(b).unwrap()).unwrap();
        let md = &blk.runtime.md;
        let bytes = blk
            .events_encoded(md)
            .unwrap_or_else(|e| panic!("block {b}: {e}"));
        let ev = md.storage("System", "Events").unwrap();
        decode(md.types(), ev.value_type, &mut &bytes[..])
            .unwrap_or_else(|e| panic!("block {b} events: {e}"));
        let st = c.state_at(&blk.hash).unwrap();
        let view = StorageView {
            md,
            state: &st,
            block: &blk,
        };
        let mut items = 0;
        for (pallet, entry) in SERVED {
            let Ok(info) = md.storage(pallet, entry) else {
                assert!(
                    blk.runtime.spec == 393,
                    "{pallet}.{entry} missing from runtime {}",
                    blk.runtime.spec
                );
                continue;
            };
            for k in view.keys(&info.prefix).unwrap() {
                let raw = view
                    .get(&k)
                    .unwrap()
                    .unwrap_or_else(|| panic!("block {b}: {pallet}.{entry} listed but absent"));
                let mut rest = &raw[..];
                decode(md.types(), info.value_type, &mut rest)
                    .unwrap_or_else(|e| panic!("block {b} {pallet}.{entry}: {e}"));
                assert!(
                    rest.is_empty(),
                    "block {b} {pallet}.{entry}: trailing bytes"
                );
                items += 1;
            }
        }
        assert!(items > 50, "block {b}: {items} values");
    }
}

/// Spec 459 miner collateral on (m-b1, miner-b, sn1): bought at 143 (`StakeAdded` +
/// `CollateralLocked`), a floor at 145 and 170; at the epochs 161, 181 and 201 part or all
/// of m-b1's incentive (2.05 alpha) is captured into the lock with no event, staked to
/// (m-b1, miner-b) itself, so the position gains it as `Emission`; `AutoStakeAdded` (to
/// val-a from 165) carries what is left and is absent when nothing is.
#[test]
fn upgrades_collateral_capture_stays_in_the_miners_position() {
    let c = chain();
    let (mb1, mb, mb2, va) = (
        named_account("m-b1"),
        named_account("miner-b"),
        named_account("m-b2"),
        named_account("val-a"),
    );
    let blk = |b: u64| c.block(&c.hash_at(b).unwrap()).unwrap();
    let st = |b: u64| c.state_at(&c.hash_at(b).unwrap()).unwrap();
    // 143: the whole free position (50.4525 alpha) is locked and 0.5475 bought.
    let ev: Vec<ChainEvent> = blk(143)
        .events
        .iter()
        .filter(|e| e.phase == Phase::ApplyExtrinsic(1))
        .map(|e| e.event.clone())
        .collect();
    assert!(
        matches!(&ev[..], [
            ChainEvent::StakeAdded { coldkey, hotkey, alpha: 547_500_000, netuid: 1, .. },
            ChainEvent::CollateralLocked { netuid: 1, hotkey: h, locked: 51_000_000_000, total_locked: 51_000_000_000 },
            ChainEvent::ExtrinsicSuccess { .. },
        ] if *coldkey == mb && *hotkey == mb1 && *h == mb1),
        "{ev:?}"
    );
    let truth_of = |b: u64, hot: &[u8; 32], cold: &[u8; 32]| -> Vec<(TruthKind, i64)> {
        blk(b)
            .truth
            .iter()
            .filter(|t| t.netuid == 1 && t.hotkey == *hot && t.coldkey == *cold)
            .map(|t| (t.kind, t.amount))
            .collect()
    };
    assert_eq!(
        truth_of(143, &mb1, &mb),
        vec![(TruthKind::ManualIn, 547_500_000)]
    );
    assert!(blk(145).events.iter().any(|e| matches!(
        e.event,
        ChainEvent::MinCollateralSet {
            netuid: 1,
            min_locked: 52_000_000_000,
            ..
        }
    )));
    let locked = |b: u64| st(b).collateral_locked(1, &mb1, &mb);
    assert_eq!(locked(160), 51_000_000_000);
    // Capture emits nothing: no collateral event in any epoch block.
    for b in [161, 181, 201, 221, 241] {
        assert!(
            !blk(b).events.iter().any(|e| matches!(
                e.event,
                ChainEvent::CollateralLocked { .. } | ChainEvent::MinCollateralSet { .. }
            )),
            "{b}"
        );
    }
    let auto = |b: u64, hot: &[u8; 32]| -> Vec<(AccountIdT, u64)> {
        blk(b)
            .events
            .iter()
            .filter_map(|e| match &e.event {
                ChainEvent::AutoStakeAdded {
                    netuid: 1,
                    destination,
                    hotkey,
                    incentive,
                    ..
                } if hotkey == hot => Some((*destination, *incentive)),
                _ => None,
            })
            .collect()
    };
    // 161, no auto-stake yet: 1 alpha captured, 1.05 liquid, both to (m-b1, miner-b).
    assert_eq!(locked(161), 52_000_000_000);
    assert_eq!(
        truth_of(161, &mb1, &mb),
        vec![(TruthKind::Emission, 2_050_000_000)]
    );
    // 181, auto-stake to val-a, shortfall 2.55: all 2.05 captured, no AutoStakeAdded for
    // m-b1 (m-b2's, same coldkey, is there); the position still gains the 2.05.
    assert_eq!(locked(181), 54_050_000_000);
    assert!(auto(181, &mb1).is_empty());
    assert_eq!(auto(181, &mb2), vec![(va, 1_025_000_000)]);
    assert_eq!(
        truth_of(181, &mb1, &mb),
        vec![(TruthKind::Emission, 2_050_000_000)]
    );
    // 201: the last 0.5 captured (to m-b1), 1.55 auto-staked to val-a.
    assert_eq!(locked(201), 54_550_000_000);
    assert_eq!(auto(201, &mb1), vec![(va, 1_550_000_000)]);
    assert_eq!(
        truth_of(201, &mb1, &mb),
        vec![(TruthKind::Emission, 500_000_000)]
    );
    // 221: the floor is met and nothing is released above it; all goes to val-a.
    assert_eq!(locked(221), 54_550_000_000);
    assert_eq!(auto(221, &mb1), vec![(va, 2_050_000_000)]);
    assert!(truth_of(221, &mb1, &mb).is_empty());
    // AutoStakeAdded.incentive = the uid's incentive minus what was captured.
    for (b, captured) in [(181u64, 2_050_000_000u64), (201, 500_000_000), (221, 0)] {
        let inc = blk(b)
            .events
            .iter()
            .find_map(|e| match &e.event {
                ChainEvent::IncentiveAlphaEmittedToMiners {
                    netuid: 1,
                    emissions,
                } => Some(emissions[st(b).subnets[&1].uids[&mb1] as usize]),
                _ => None,
            })
            .unwrap();
        let paid: u64 = auto(b, &mb1).iter().map(|(_, i)| i).sum();
        assert_eq!(paid, inc - captured, "{b}");
    }
    // Genesis plus ground truth is the model's stake of (m-b1, miner-b) at every block.
    let mut sum = st(0).stake(&mb1, &mb, 1) as i64;
    for b in 1..=BLOCKS {
        sum += truth_of(b, &mb1, &mb).iter().map(|(_, a)| a).sum::<i64>();
        assert_eq!(sum, st(b).stake(&mb1, &mb, 1) as i64, "{b}");
    }
    // The lock keeps the alpha in place: only the free part can leave.
    let s201 = st(201);
    let free = s201.stake(&mb1, &mb, 1) - locked(201);
    assert_eq!(free, 1_050_000_000);
    let remove = |alpha| crate::model::Action::RemoveStake {
        coldkey: mb,
        hotkey: mb1,
        netuid: 1,
        alpha,
        alpha_fee: 0,
    };
    assert!(s201.check_action(&remove(free)).is_ok());
    let e = s201
        .check_action(&remove(free + 1))
        .unwrap_err()
        .to_string();
    assert!(e.contains("StakeUnavailable"), "{e}");
}

type AccountIdT = crate::model::AccountId;
