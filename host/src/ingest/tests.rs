//! Ingest tests: event classification and epoch rules by hand, then end to end against
//! the devnet over JSON-RPC (ground truth to the rao, reconnects without gaps).

use super::classify::classify;
use super::epoch_rule::{check_epoch, legacy_epoch};
use crate::chain::positions::EpochState;
use crate::chain::{Event, Phase, Profile, Record, ss58};
use crate::policy::FlowKind;

mod devnet;
mod edges;
mod runtimes;
mod upgrades;

fn p424() -> Profile {
    Profile::of(424)
}

pub(super) fn a(n: u8) -> [u8; 32] {
    [n; 32]
}

pub(super) fn rec(index: u32, x: u32, event: Event) -> Record {
    Record {
        index,
        phase: Phase::ApplyExtrinsic(x),
        event,
    }
}

pub(super) fn added(ck: u8, hk: u8, alpha: u64, netuid: u16) -> Event {
    Event::StakeAdded {
        coldkey: a(ck),
        hotkey: a(hk),
        tao: 999,
        alpha,
        netuid,
    }
}

pub(super) fn removed(ck: u8, hk: u8, alpha: u64, netuid: u16) -> Event {
    Event::StakeRemoved {
        coldkey: a(ck),
        hotkey: a(hk),
        tao: 999,
        alpha,
        netuid,
    }
}

#[test]
fn adds_and_removes_are_classified_by_their_extrinsic() {
    let records = vec![
        // ext 1: plain add_stake.
        rec(1, 1, added(1, 10, 100, 1)),
        // ext 2: move_stake 10 -> 11 on netuid 1.
        rec(2, 2, removed(1, 10, 50, 1)),
        rec(3, 2, added(1, 11, 50, 1)),
        rec(
            4,
            2,
            Event::StakeMoved {
                coldkey: a(1),
                origin_hotkey: a(10),
                origin_netuid: 1,
                dest_hotkey: a(11),
                dest_netuid: 1,
            },
        ),
        // ext 3: transfer_stake to coldkey 2.
        rec(5, 3, removed(1, 10, 20, 1)),
        rec(6, 3, added(2, 10, 20, 1)),
        rec(
            7,
            3,
            Event::StakeTransferred {
                origin_coldkey: a(1),
                dest_coldkey: a(2),
                hotkey: a(10),
                origin_netuid: 1,
                dest_netuid: 1,
            },
        ),
        // ext 4: swap_stake netuid 1 -> 2 (the add is on another subnet).
        rec(8, 4, removed(1, 10, 30, 1)),
        rec(9, 4, added(1, 10, 15, 2)),
        rec(
            10,
            4,
            Event::StakeSwapped {
                coldkey: a(1),
                hotkey: a(10),
                origin_netuid: 1,
                dest_netuid: 2,
            },
        ),
        // ext 5: remove_stake with an alpha fee.
        rec(
            11,
            5,
            Event::TransactionFeePaidWithAlpha {
                who: a(1),
                netuid: 1,
                alpha_fee: 7,
            },
        ),
        rec(12, 5, removed(1, 10, 40, 1)),
        rec(
            13,
            6,
            Event::AlphaRecycled {
                coldkey: a(1),
                hotkey: a(10),
                amount: 3,
                netuid: 1,
            },
        ),
        rec(
            14,
            7,
            Event::AlphaBurned {
                coldkey: a(1),
                hotkey: a(10),
                amount: 2,
                netuid: 1,
            },
        ),
        rec(
            15,
            8,
            Event::RootClaimed {
                coldkey: a(3),
                tao: None,
            },
        ),
        rec(16, 9, added(1, 10, 999, 3)),
    ];
    let c = classify(42, 1, &p424(), &records);
    let got: Vec<(FlowKind, u64, String, String, Option<String>)> = c
        .flows
        .iter()
        .map(|f| {
            (
                f.kind,
                f.alpha,
                f.hotkey.clone(),
                f.coldkey.clone(),
                f.counterparty.clone(),
            )
        })
        .collect();
    let s = |n| ss58(&a(n));
    assert_eq!(
        got,
        vec![
            (FlowKind::Added, 100, s(10), s(1), None),
            (FlowKind::MovedOut, 50, s(10), s(1), Some(s(11))),
            (FlowKind::MovedIn, 50, s(11), s(1), Some(s(10))),
            (FlowKind::TransferredOut, 20, s(10), s(1), Some(s(2))),
            (FlowKind::TransferredIn, 20, s(10), s(2), Some(s(1))),
            (FlowKind::SwappedOut, 30, s(10), s(1), None),
            (FlowKind::AlphaFee, 7, String::new(), s(1), None),
            (FlowKind::Removed, 40, s(10), s(1), None),
            (FlowKind::Recycled, 3, s(10), s(1), None),
            (FlowKind::Burned, 2, s(10), s(1), None),
            (FlowKind::RootClaimed, 0, String::new(), s(3), None),
        ]
    );
    // The alpha field is used, never the tao one; block, extrinsic and event index kept.
    assert!(c.flows.iter().all(|f| f.alpha != 999 && f.block == 42));
    assert_eq!((c.flows[1].extrinsic, c.flows[1].event_index), (Some(2), 2));
    // On subnet 2 only the swap's addition shows, as swapped-in.
    let c2 = classify(42, 2, &p424(), &records);
    assert_eq!(
        c2.flows
            .iter()
            .map(|f| (f.kind, f.alpha))
            .collect::<Vec<_>>(),
        vec![(FlowKind::SwappedIn, 15), (FlowKind::RootClaimed, 0)]
    );
}

#[test]
fn a_plain_add_in_the_same_extrinsic_as_a_move_stays_added() {
    // A batch: add_stake to hotkey 12, then move 10 -> 11.
    let records = vec![
        rec(1, 1, added(1, 12, 5, 1)),
        rec(2, 1, removed(1, 10, 50, 1)),
        rec(3, 1, added(1, 11, 50, 1)),
        rec(
            4,
            1,
            Event::StakeMoved {
                coldkey: a(1),
                origin_hotkey: a(10),
                origin_netuid: 1,
                dest_hotkey: a(11),
                dest_netuid: 1,
            },
        ),
    ];
    let kinds: Vec<FlowKind> = classify(1, 1, &p424(), &records)
        .flows
        .iter()
        .map(|f| f.kind)
        .collect();
    assert_eq!(
        kinds,
        vec![FlowKind::Added, FlowKind::MovedOut, FlowKind::MovedIn]
    );
}

#[test]
fn epoch_events_and_registrations_of_the_tracked_subnet() {
    let init = |index, event| Record {
        index,
        phase: Phase::Initialization,
        event,
    };
    let records = vec![
        init(
            0,
            Event::EpochDeferred {
                netuid: 2,
                from_block: 19,
                to_block: 20,
            },
        ),
        init(
            1,
            Event::IncentiveAlphaEmittedToMiners {
                netuid: 1,
                emissions: vec![0, 5, 7],
            },
        ),
        init(
            2,
            Event::AutoStakeAdded {
                netuid: 1,
                destination: a(20),
                hotkey: a(21),
                owner: a(2),
                incentive: 5,
            },
        ),
        rec(
            3,
            1,
            Event::NeuronRegistered {
                netuid: 1,
                uid: 2,
                hotkey: a(30),
            },
        ),
        rec(
            4,
            1,
            Event::NeuronRegistered {
                netuid: 2,
                uid: 0,
                hotkey: a(31),
            },
        ),
    ];
    let c = classify(19, 1, &p424(), &records);
    assert_eq!(c.epoch.run, Some((1, vec![0, 5, 7])));
    assert!(!c.epoch.skipped && c.epoch.deferred_to.is_none());
    assert_eq!(c.registrations, vec![(2, a(30))]);
    let f = &c.flows[0];
    assert_eq!(
        (
            f.kind,
            f.hotkey.clone(),
            f.coldkey.clone(),
            f.counterparty.clone(),
            f.extrinsic
        ),
        (
            FlowKind::AutoStaked,
            ss58(&a(20)),
            ss58(&a(2)),
            Some(ss58(&a(21))),
            None
        )
    );
    let c2 = classify(19, 2, &p424(), &records);
    assert_eq!(c2.epoch.deferred_to, Some(20));
    assert!(c2.epoch.run.is_none());
    let skipped = classify(
        29,
        1,
        &p424(),
        &[init(
            0,
            Event::EpochSkipped {
                netuid: 1,
                block: 29,
            },
        )],
    );
    assert!(skipped.epoch.skipped && skipped.epoch.any());
}

#[test]
fn epoch_cross_check_rules() {
    let st = |tempo, leb, idx| EpochState {
        tempo,
        last_epoch_block: leb,
        epoch_index: idx,
    };
    // Dynamic: LastEpochBlock = b and the index moves by one.
    assert_eq!(
        check_epoch(
            1,
            19,
            &st(10, Some(9), Some(1)),
            &st(10, Some(19), Some(2)),
            Some(1)
        )
        .unwrap(),
        "dynamic"
    );
    // An index jump means an epoch was missed.
    let e = check_epoch(
        1,
        19,
        &st(10, Some(9), Some(2)),
        &st(10, Some(19), Some(3)),
        Some(1),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("an epoch was missed"), "{e}");
    // Storage disagreeing with the events is an error.
    assert!(
        check_epoch(
            1,
            19,
            &st(10, Some(9), Some(1)),
            &st(10, Some(9), Some(1)),
            None
        )
        .is_err()
    );
    // Legacy rule: (b + netuid + 1) % (tempo + 1) == 0, with or without dynamic storage.
    assert!(legacy_epoch(9, 1, 10) && legacy_epoch(3, 2, 5) && legacy_epoch(9, 2, 5));
    assert!(!legacy_epoch(10, 1, 10) && !legacy_epoch(8, 2, 5) && !legacy_epoch(8, 2, 0));
    assert_eq!(
        check_epoch(1, 9, &st(10, None, None), &st(10, None, None), None).unwrap(),
        "legacy"
    );
    assert!(check_epoch(1, 10, &st(10, None, None), &st(10, None, None), None).is_err());
    assert_eq!(
        check_epoch(
            2,
            9,
            &st(5, Some(3), Some(1)),
            &st(5, Some(9), Some(2)),
            Some(1)
        )
        .unwrap(),
        "dynamic"
    );
    assert_eq!(
        check_epoch(
            1,
            9,
            &st(10, Some(0), Some(0)),
            &st(10, Some(9), Some(1)),
            None
        )
        .unwrap(),
        "legacy"
    );
}
