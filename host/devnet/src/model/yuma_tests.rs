//! Yuma on small hand-computed cases.

use super::*;
use crate::model::weights::WEIGHT_PARAMS;

fn input(stake: &[u64], weights: &[&[(u16, u16)]]) -> YumaInput {
    let n = stake.len();
    YumaInput {
        block: 100,
        tempo: 10,
        stake: stake.to_vec(),
        last_update: vec![50; n],
        registered_at: vec![0; n],
        permits: stake.iter().map(|s| *s > 0).collect(),
        weights: (0..n)
            .map(|i| weights.get(i).map(|w| w.to_vec()).unwrap_or_default())
            .collect(),
        bonds: vec![vec![]; n],
        params: WEIGHT_PARAMS,
    }
}

fn share(x: u64) -> f64 {
    x as f64 / ONE as f64
}

#[test]
fn two_agreeing_validators_pay_their_weights() {
    // uids 0, 1 validators (stake 3:1), 2..4 miners; both weigh miners 1:2:1.
    let w: &[(u16, u16)] = &[(2, 1), (3, 2), (4, 1)];
    let out = run(&input(&[300, 100, 0, 0, 0], &[w, w]));
    let inc: Vec<f64> = out.incentive_share.iter().map(|x| share(*x)).collect();
    assert_eq!(&inc[..2], &[0.0, 0.0]);
    for (got, want) in inc[2..].iter().zip([0.25, 0.5, 0.25]) {
        assert!((got - want).abs() < 1e-6, "{inc:?}");
    }
    // Consensus = each weight, trust 1 (65535) on every miner.
    assert_eq!(&out.trust[2..], &[65_535, 65_535, 65_535]);
    assert_eq!(out.permits, vec![true, true, false, false, false]);
    // First epoch: bonds are all delta = W ∘ S column-normalized: 0.75 / 0.25, so
    // dividends 3:1.
    let d: Vec<f64> = out.dividend_share.iter().map(|x| share(*x)).collect();
    assert!(
        (d[0] - 0.75).abs() < 1e-6 && (d[1] - 0.25).abs() < 1e-6,
        "{d:?}"
    );
    // Bonds stored column max-upscaled: validator 0 holds 65535, validator 1 a third.
    assert_eq!(out.bonds[0], vec![(2, 65_535), (3, 65_535), (4, 65_535)]);
    // A third, floored through the fixed-point quotients (65535 / 3 = 21845 exactly).
    assert_eq!(out.bonds[1][0].1, 21_844);
}

#[test]
fn a_dissenting_minority_validator_is_clipped() {
    // Validator 0 (stake 3) weighs miner 2 only; validator 1 (stake 1) weighs miner 4
    // only. Kappa 0.5: consensus = the majority's weights, so validator 1's weight on
    // miner 4 is clipped to 0 and miner 2 takes all the incentive.
    let out = run(&input(
        &[300, 100, 0, 0, 0],
        &[&[(2, 65_535)], &[(4, 65_535)]],
    ));
    assert_eq!(out.incentive, vec![0, 0, 65_535, 0, 0]);
    assert_eq!(out.consensus, vec![0, 0, 65_535, 0, 0]);
    // Validator trust: 1 for the majority, 0 for the clipped one.
    assert_eq!(&out.validator_trust[..2], &[65_535, 0]);
    // Miner 4's trust: rank / prerank = 0.
    assert_eq!(out.trust[4], 0);
    // Dividends: only the majority bonded to a miner with incentive.
    assert_eq!(out.dividends[..2], [65_535, 0]);
}

#[test]
fn outdated_inactive_and_self_weights_are_masked() {
    let mut inp = input(&[300, 100, 0, 0], &[&[(0, 9), (2, 1)], &[(3, 1)]]);
    // Validator 1 set its weights before miner 3 (re)registered: masked.
    inp.last_update[1] = 40;
    inp.registered_at[3] = 45;
    let out = run(&inp);
    // Validator 0's self weight is masked; its weight on 2 is its whole row.
    assert_eq!(out.incentive, vec![0, 0, 65_535, 0]);
    // Inactive (LastUpdate + ActivityCutoff < block): no active stake, so no rank.
    let mut inp = input(&[300, 0, 0], &[&[(2, 1)]]);
    inp.block = 10_000;
    let out = run(&inp);
    assert!(!out.active[0]);
    assert!(out.incentive.iter().all(|x| *x == 0));
    // No incentive: validators paid by stake.
    assert_eq!(share(out.dividend_share[0]), 1.0);
}

#[test]
fn bonds_follow_the_moving_average() {
    // Second epoch with the bonds of the first: alpha = 0.1 of the new delta.
    let w: &[(u16, u16)] = &[(2, 1)];
    let first = run(&input(&[100, 100, 0], &[w, &[]]));
    assert_eq!(first.bonds[0], vec![(2, 65_535)]);
    // Validator 1 now weighs miner 2 too; its bond grows by EMA: the column is
    // 0.1 * (0.5, 0.5) + 0.9 * (1, 0) = (0.95, 0.05), so its dividends are 0.05.
    let mut inp = input(&[100, 100, 0], &[w, w]);
    inp.bonds = first.bonds.clone();
    let out = run(&inp);
    let d1 = share(out.dividend_share[1]);
    assert!((d1 - 0.05).abs() < 1e-6, "{d1}");
}

#[test]
fn yuma_is_deterministic() {
    let inp = input(
        &[500, 300, 200, 0, 0, 0],
        &[&[(3, 10), (4, 20)], &[(4, 5), (5, 5)], &[(3, 1), (5, 3)]],
    );
    let a = run(&inp);
    for _ in 0..3 {
        assert_eq!(run(&inp), a);
    }
    let sum: u64 = a.incentive_share.iter().sum();
    assert!(ONE - sum < 16, "{sum}");
}
