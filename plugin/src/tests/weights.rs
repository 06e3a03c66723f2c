use super::*;
use crate::fixed::ONE;
use crate::params::Params;
use crate::weights::apply;
use alloc::vec;
use alloc::vec::Vec;

fn mm(uid: u16, hk: &str, multiplier: u64) -> MinerMultiplier {
    MinerMultiplier {
        uid,
        hotkey: s(hk),
        holder: s("c"),
        multiplier,
        held_factor: 0,
        duration_factor: 0,
        eligible: multiplier > 0,
    }
}

fn input(weights: Vec<f64>) -> WeightsInput {
    let n = weights.len() as u16;
    WeightsInput {
        accounts: names(),
        uids: (0..n).collect(),
        weights,
        hotkeys: (0..n).map(|u| s(&alloc::format!("h{u}"))).collect(),
        multipliers: (0..n)
            .map(|u| mm(u, &alloc::format!("h{u}"), ONE))
            .collect(),
    }
}

#[test]
fn multiplies_normalises_and_builds_the_chain_vector() {
    let mut i = input(vec![1.0, 1.0, 2.0]);
    i.multipliers = vec![mm(0, "h0", 1_500_000_000), mm(1, "h1", ONE), mm(2, "h2", 0)];
    let out = apply(&Params::default(), &i).unwrap();
    assert_eq!(out.weights, vec![600_000_000, 400_000_000, 0]);
    assert_eq!(out.multipliers, vec![1_500_000_000, ONE, 0]);
    assert_eq!(out.chain_uids, vec![0, 1]);
    // 65535 / 1.5 = 43690.
    assert_eq!(out.chain_weights, vec![65_535, 43_690]);
}

#[test]
fn indexes_by_uid_and_checks_the_hotkey() {
    // uids out of order, and uid 7 was re-registered to another hotkey.
    let i = WeightsInput {
        accounts: names(),
        uids: vec![7, 2],
        weights: vec![1.0, 1.0],
        hotkeys: vec![s("new"), s("h2")],
        multipliers: vec![mm(2, "h2", ONE), mm(7, "old", 1_500_000_000)],
    };
    let out = apply(&Params::default(), &i).unwrap();
    assert_eq!(out.multipliers, vec![0, ONE]);
    assert_eq!(out.weights, vec![0, ONE]);
}

#[test]
fn sums_to_exactly_one_despite_rounding() {
    let out = apply(&Params::default(), &input(vec![1.0, 1.0, 1.0])).unwrap();
    assert_eq!(out.weights.iter().sum::<u64>(), ONE);
    assert_eq!(out.weights, vec![333_333_334, 333_333_333, 333_333_333]);
}

#[test]
fn all_zero_stays_zero() {
    let out = apply(&Params::default(), &input(vec![0.0, 0.0])).unwrap();
    assert_eq!(out.weights, vec![0, 0]);
    assert!(out.chain_uids.is_empty());
    let empty = apply(&Params::default(), &input(vec![])).unwrap();
    assert!(empty.weights.is_empty());
}

#[test]
fn bad_weights_are_typed_errors() {
    for (w, code) in [
        (vec![1.0, f64::NAN], ErrorCode::InvalidWeight),
        (vec![f64::INFINITY], ErrorCode::InvalidWeight),
        (vec![-0.5], ErrorCode::InvalidWeight),
    ] {
        assert_eq!(apply(&Params::default(), &input(w)).unwrap_err().code, code);
    }
    let mut dup = input(vec![1.0, 1.0]);
    dup.uids = vec![4, 4];
    assert_eq!(
        apply(&Params::default(), &dup).unwrap_err().code,
        ErrorCode::DuplicateUid
    );
    let mut short = input(vec![1.0, 1.0]);
    short.hotkeys.pop();
    assert_eq!(
        apply(&Params::default(), &short).unwrap_err().code,
        ErrorCode::LengthMismatch
    );
}

#[test]
fn tiny_and_huge_weights() {
    let out = apply(
        &Params::default(),
        &input(vec![f64::MAX, f64::MIN_POSITIVE]),
    )
    .unwrap();
    assert_eq!(out.weights, vec![ONE, 0]);
    assert_eq!(out.chain_uids, vec![0]);
}
