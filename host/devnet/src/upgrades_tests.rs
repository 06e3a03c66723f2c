//! The built-in `upgrades` scenario (393 -> 424 -> 459 on one chain): epochs where its
//! header says, no action dropped, many flows inside epoch blocks, served positions equal
//! ground truth and the model's stakes at every block, and every block's events and
//! storage decode with the metadata of the runtime that executed it.

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
