//! Classification of what changed across runtimes and of the 424 rules the first version
//! got wrong: the fee's own removal, mechanisms, root claims by spec, owner changes and
//! `transfer_stake_and_hotkey`.

use super::{a, added, rec, removed};
use crate::chain::{Event, Phase, Profile, Record, ss58};
use crate::ingest::classify::classify;
use crate::policy::FlowKind;

fn kinds(c: &crate::ingest::classify::Classified) -> Vec<(FlowKind, u64, String)> {
    c.flows
        .iter()
        .map(|f| (f.kind, f.alpha, f.hotkey.clone()))
        .collect()
}

#[test]
fn an_alpha_fee_is_the_removal_sold_for_it_in_the_same_extrinsic() {
    // Coldkey 1 holds hotkeys 10 and 11; it removes stake from 11 and pays the fee in
    // alpha. The runtime sells the fee from (11, netuid) before dispatch with a
    // `StakeRemoved` of its own, then the call's removal, then the fee event.
    let fee = |index, x| {
        rec(
            index,
            x,
            Event::TransactionFeePaidWithAlpha {
                who: a(1),
                netuid: 1,
                alpha_fee: 7,
            },
        )
    };
    let records = vec![
        rec(1, 1, removed(1, 11, 7, 1)),
        rec(2, 1, removed(1, 11, 40, 1)),
        fee(3, 1),
        // Another extrinsic of the same coldkey, removing 7 from hotkey 10 without a fee.
        rec(4, 2, removed(1, 10, 7, 1)),
    ];
    let c = classify(9, 1, &Profile::of(424), &records);
    let s = |n| ss58(&a(n));
    assert_eq!(
        kinds(&c),
        vec![
            (FlowKind::AlphaFee, 7, s(11)),
            (FlowKind::Removed, 40, s(11)),
            (FlowKind::Removed, 7, s(10)),
        ],
        "the fee is charged once, to the position it was sold from"
    );
    // A fee event whose removal is in another extrinsic is not matched to it.
    let c = classify(
        9,
        1,
        &Profile::of(424),
        &[rec(1, 1, removed(1, 11, 7, 1)), fee(2, 2)],
    );
    assert_eq!(
        kinds(&c),
        vec![
            (FlowKind::Removed, 7, s(11)),
            (FlowKind::AlphaFee, 7, String::new()),
        ]
    );
}

#[test]
fn incentive_is_summed_over_the_subnets_mechanisms() {
    let init = |index, netuid, emissions: Vec<u64>| Record {
        index,
        phase: Phase::Initialization,
        event: Event::IncentiveAlphaEmittedToMiners { netuid, emissions },
    };
    let records = vec![
        init(0, 1, vec![1, 2]),
        // Mechanism 1 of subnet 1: 1 + 4096.
        init(1, 4097, vec![10, 0, 5]),
        // Mechanism 1 of subnet 2.
        init(2, 4098, vec![100, 100, 100]),
    ];
    let c = classify(20, 1, &Profile::of(424), &records);
    assert_eq!(c.epoch.run, Some((0, vec![11, 2, 5])));
    // Only mechanism 1 of subnet 2 ran: that is subnet 2's epoch.
    let c = classify(20, 2, &Profile::of(424), &records);
    assert_eq!(c.epoch.run, Some((2, vec![100, 100, 100])));
    assert!(
        classify(20, 3, &Profile::of(424), &records)
            .epoch
            .run
            .is_none()
    );
}

#[test]
fn root_claims_credit_subnet_alpha_only_before_spec_441() {
    let records = vec![Record {
        index: 0,
        phase: Phase::Initialization,
        event: Event::RootClaimed {
            coldkey: a(3),
            tao: None,
        },
    }];
    let c = classify(5, 1, &Profile::of(424), &records);
    assert_eq!(
        kinds(&c),
        vec![(FlowKind::RootClaimed, 0, String::new())],
        "an auto-claim in block initialization is a flow too"
    );
    assert_eq!(c.flows[0].coldkey, ss58(&a(3)));
    let records = vec![rec(
        0,
        1,
        Event::RootClaimed {
            coldkey: a(3),
            tao: Some(5_000),
        },
    )];
    assert!(classify(5, 1, &Profile::of(441), &records).flows.is_empty());
    assert!(classify(5, 1, &Profile::of(459), &records).flows.is_empty());
}

#[test]
fn stake_and_hotkey_transfer_is_a_transfer_with_its_counterparty() {
    let records = vec![
        rec(1, 1, removed(1, 10, 60, 1)),
        rec(2, 1, added(2, 20, 60, 1)),
        rec(
            3,
            1,
            Event::StakeAndHotkeyTransferred {
                origin_coldkey: a(1),
                destination_coldkey: a(2),
                origin_hotkey: a(10),
                destination_hotkey: a(20),
                origin_netuid: 1,
                destination_netuid: 1,
            },
        ),
    ];
    let c = classify(7, 1, &Profile::of(459), &records);
    let got: Vec<_> = c
        .flows
        .iter()
        .map(|f| {
            (
                f.kind,
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
            (FlowKind::TransferredOut, s(10), s(1), Some(s(2))),
            (FlowKind::TransferredIn, s(20), s(2), Some(s(1))),
        ]
    );
}

#[test]
fn an_owner_change_is_reported_for_the_tracked_subnet_only() {
    let ev = |netuid| Record {
        index: 0,
        phase: Phase::Initialization,
        event: Event::SubnetOwnerChanged { netuid },
    };
    assert!(classify(20, 1, &Profile::of(459), &[ev(1)]).owner_changed);
    assert!(!classify(20, 1, &Profile::of(459), &[ev(2)]).owner_changed);
}

#[test]
fn a_dissolution_of_the_tracked_subnet_is_named() {
    use crate::ingest::classify::Dissolution;
    let ev = |event| Record {
        index: 0,
        phase: Phase::Initialization,
        event,
    };
    let started = [ev(Event::NetworkRemoved { netuid: 1 })];
    assert_eq!(
        classify(9, 1, &Profile::of(424), &started).dissolution,
        Some(Dissolution::Started)
    );
    assert_eq!(
        classify(9, 2, &Profile::of(424), &started).dissolution,
        None
    );
    let done = [ev(Event::NetworkDissolveCleanupCompleted { netuid: 1 })];
    assert_eq!(
        classify(9, 1, &Profile::of(459), &done).dissolution,
        Some(Dissolution::Completed)
    );
}
