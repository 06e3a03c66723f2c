use super::*;
use crate::attribution::{EarnedCap, attribute, attribute_with};
use crate::params::Params;
use alloc::vec;
use alloc::vec::Vec;

fn pos(hk: &str, ck: &str, alpha: u64) -> Position {
    Position {
        hotkey: s(hk),
        coldkey: s(ck),
        netuid: 1,
        alpha,
    }
}

fn run(before: Vec<Position>, after: Vec<Position>, flows: Vec<Flow>) -> Vec<PositionAttribution> {
    let input = AttributionInput {
        accounts: names(),
        netuid: 1,
        before_block: 99,
        after_block: 100,
        before,
        after,
        flows,
    };
    attribute(&Params::default(), &input).unwrap()
}

fn find<'a>(out: &'a [PositionAttribution], hk: &str, ck: &str) -> &'a PositionAttribution {
    out.iter()
        .find(|a| a.hotkey == s(hk) && a.coldkey == s(ck))
        .unwrap()
}

#[test]
fn incentive_is_earned_and_manual_flows_are_subtracted() {
    let out = run(
        vec![pos("m", "c", 1_000)],
        vec![pos("m", "c", 1_150)],
        vec![
            flow(100, None, FlowKind::Incentive, "m", "c", 100),
            flow(100, Some(1), FlowKind::Added, "m", "c", 50),
        ],
    );
    let a = find(&out, "m", "c");
    assert_eq!(
        (a.earned, a.manual_in, a.manual_out, a.residue),
        (100, 50, 0, 0)
    );
}

#[test]
fn dividends_reach_nominators_without_an_event_of_their_own() {
    let mut d = flow(100, None, FlowKind::Dividend, "v", "", 1_000);
    d.coldkey = s("");
    let out = run(vec![pos("v", "n", 500)], vec![pos("v", "n", 520)], vec![d]);
    assert_eq!(find(&out, "v", "n").earned, 20);
    assert_eq!(find(&out, "v", "n").residue, 0);
}

#[test]
fn unexplained_gain_is_residue_not_earnings() {
    let out = run(vec![pos("m", "c", 10)], vec![pos("m", "c", 15)], vec![]);
    let a = find(&out, "m", "c");
    assert_eq!((a.earned, a.residue), (0, 5));
    // Emission explains only 3 of a gain of 5.
    let out = run(
        vec![pos("m", "c", 10)],
        vec![pos("m", "c", 15)],
        vec![flow(100, None, FlowKind::Incentive, "m", "c", 3)],
    );
    let a = find(&out, "m", "c");
    assert_eq!((a.earned, a.residue), (3, 2));
}

#[test]
fn auto_stake_moves_the_earnings_to_the_destination() {
    let mut auto = flow(100, None, FlowKind::AutoStaked, "dest", "c", 100);
    auto.counterparty = Some(s("m"));
    let out = run(
        vec![pos("m", "c", 7), pos("dest", "c", 10)],
        vec![pos("m", "c", 7), pos("dest", "c", 110)],
        vec![flow(100, None, FlowKind::Incentive, "m", "c", 100), auto],
    );
    assert_eq!(find(&out, "dest", "c").earned, 100);
    assert_eq!(find(&out, "m", "c").earned, 0);
    assert_eq!(find(&out, "m", "c").residue, 0);
}

#[test]
fn a_fee_without_hotkey_explains_the_coldkeys_decrease() {
    let out = run(
        vec![pos("a", "c", 100), pos("b", "c", 100)],
        vec![pos("a", "c", 100), pos("b", "c", 97)],
        vec![flow(100, Some(2), FlowKind::AlphaFee, "", "c", 3)],
    );
    assert_eq!(find(&out, "b", "c").manual_out, 3);
    assert_eq!(find(&out, "b", "c").residue, 0);
    assert_eq!(find(&out, "a", "c").manual_out, 0);
}

#[test]
fn share_pool_rounding_shows_as_residue() {
    // remove_stake of 40 lowered the position by 39.
    let out = run(
        vec![pos("m", "c", 100)],
        vec![pos("m", "c", 61)],
        vec![flow(100, Some(1), FlowKind::Removed, "m", "c", 40)],
    );
    let a = find(&out, "m", "c");
    assert_eq!((a.earned, a.manual_out, a.residue), (0, 40, 1));
}

#[test]
fn flows_outside_the_range_or_subnet_are_ignored() {
    let mut other = flow(100, Some(1), FlowKind::Added, "m", "c", 5);
    other.netuid = 2;
    let out = run(
        vec![pos("m", "c", 100)],
        vec![pos("m", "c", 100)],
        vec![flow(99, Some(1), FlowKind::Added, "m", "c", 5), other],
    );
    assert_eq!(find(&out, "m", "c").manual_in, 0);
}

#[test]
fn any_gain_cap_counts_every_gain_as_earned() {
    let input = AttributionInput {
        accounts: names(),
        netuid: 1,
        before_block: 1,
        after_block: 2,
        before: vec![pos("m", "c", 10)],
        after: vec![pos("m", "c", 15)],
        flows: vec![],
    };
    let out = attribute_with(&Params::default(), &input, EarnedCap::AnyGain).unwrap();
    assert_eq!((out[0].earned, out[0].residue), (5, 0));
}

#[test]
fn u64_extremes_fit_or_are_refused() {
    let out = run(
        vec![pos("m", "c", 0)],
        vec![pos("m", "c", u64::MAX)],
        vec![flow(100, None, FlowKind::Incentive, "m", "c", u64::MAX)],
    );
    assert_eq!(out[0].earned, u64::MAX);
    // A residue beyond i64 cannot be represented: a typed error, not a wrap.
    let input = AttributionInput {
        accounts: names(),
        netuid: 1,
        before_block: 99,
        after_block: 100,
        before: vec![pos("m", "c", 0)],
        after: vec![pos("m", "c", u64::MAX)],
        flows: vec![],
    };
    assert_eq!(
        attribute(&Params::default(), &input).unwrap_err().code,
        ErrorCode::Overflow
    );
}

#[test]
fn duplicate_positions_and_reversed_blocks_are_refused() {
    let input = AttributionInput {
        accounts: names(),
        netuid: 1,
        before_block: 5,
        after_block: 4,
        before: vec![],
        after: vec![],
        flows: vec![],
    };
    assert_eq!(
        attribute(&Params::default(), &input).unwrap_err().code,
        ErrorCode::InvalidInput
    );
    let input = AttributionInput {
        accounts: names(),
        netuid: 1,
        before_block: 4,
        after_block: 5,
        before: vec![pos("m", "c", 1), pos("m", "c", 2)],
        after: vec![],
        flows: vec![],
    };
    let e = attribute(&Params::default(), &input).unwrap_err();
    assert!(e.message.contains("appears twice"), "{}", e.message);
}

#[test]
fn a_root_claim_explains_its_coldkeys_gain_and_adds_no_position() {
    // `RootClaimed` names only the coldkey: every position of it may have grown.
    let claim = flow(100, Some(2), FlowKind::RootClaimed, "", "c", 0);
    let out = run(
        vec![pos("v1", "c", 100), pos("v2", "c", 50), pos("v1", "o", 10)],
        vec![pos("v1", "c", 130), pos("v2", "c", 55), pos("v1", "o", 12)],
        vec![claim],
    );
    assert_eq!(out.len(), 3, "no (\"\", coldkey) row: {out:?}");
    assert_eq!(
        (find(&out, "v1", "c").earned, find(&out, "v1", "c").residue),
        (30, 0)
    );
    assert_eq!(find(&out, "v2", "c").earned, 5);
    // Another coldkey's gain on the same hotkey stays unexplained.
    assert_eq!(
        (find(&out, "v1", "o").earned, find(&out, "v1", "o").residue),
        (0, 2)
    );
    // A claim naming a hotkey explains only that position.
    let claim = flow(100, Some(2), FlowKind::RootClaimed, "v2", "c", 0);
    let out = run(
        vec![pos("v1", "c", 100), pos("v2", "c", 50)],
        vec![pos("v1", "c", 130), pos("v2", "c", 55)],
        vec![claim],
    );
    assert_eq!(
        (find(&out, "v1", "c").earned, find(&out, "v1", "c").residue),
        (0, 30)
    );
    assert_eq!(find(&out, "v2", "c").earned, 5);
}
