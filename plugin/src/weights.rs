//! Weights: the validator's weights by uid times each uid's multiplier, normalised to sum
//! exactly 1.0 in fixed point, and the u16 vector `set_weights` puts on chain.
//!
//! Input weights are floats (what validators have); they are checked, scaled by the
//! largest one and turned into integers with IEEE operations only (division,
//! multiplication, truncation), which every host computes identically. All the rest is
//! integer arithmetic.

use crate::accounts::Accounts;
use crate::fixed::{ONE, div_rem, div_round_half_even, mul_wide};
use crate::multipliers::UidSet;
use crate::params::Params;
use crate::types::*;
use crate::{error, types::ErrorCode};
use alloc::format;
use alloc::vec;
use alloc::vec::Vec;

/// Input weights are scaled so the largest is 2^53 (an f64's integer precision).
const SCALE: f64 = 9_007_199_254_740_992.0;

/// Adjusted weights for the validator's weights by uid.
pub fn apply(params: &Params, input: &WeightsInput) -> Result<WeightsOutput, PolicyError> {
    let n = input.uids.len();
    if input.weights.len() != n || input.hotkeys.len() != n {
        return Err(error(
            ErrorCode::LengthMismatch,
            format!(
                "uids, weights and hotkeys must have one entry per uid: got {}, {} and {}",
                n,
                input.weights.len(),
                input.hotkeys.len()
            ),
        ));
    }
    let accounts = Accounts::new(&input.accounts)?;
    for (i, h) in input.hotkeys.iter().enumerate() {
        accounts.check(*h, &format!("hotkey {i}"))?;
    }
    for m in &input.multipliers {
        accounts.check(m.hotkey, "a multiplier's hotkey")?;
        accounts.check(m.holder, "a multiplier's holder")?;
    }
    let mut seen = UidSet::new();
    for (i, uid) in input.uids.iter().enumerate() {
        if !seen.insert(*uid) {
            let j = input.uids.iter().position(|u| u == uid).unwrap_or(i);
            return Err(error(
                ErrorCode::DuplicateUid,
                format!("uid {uid} appears at positions {j} and {i}"),
            ));
        }
    }
    for (i, w) in input.weights.iter().enumerate() {
        if !w.is_finite() || *w < 0.0 {
            return Err(error(
                ErrorCode::InvalidWeight,
                format!(
                    "weight of uid {} is {w}: weights must be finite and not negative",
                    input.uids[i]
                ),
            ));
        }
    }
    // The multiplier of each uid: its position + 1 in `input.multipliers`, 0 for none.
    let top_uid = input.multipliers.iter().map(|m| m.uid as usize).max();
    let mut by_uid: Vec<u32> = vec![0; top_uid.map_or(0, |u| u + 1)];
    for (k, m) in input.multipliers.iter().enumerate() {
        let slot = &mut by_uid[m.uid as usize];
        if *slot != 0 {
            return Err(error(
                ErrorCode::DuplicateUid,
                format!("uid {} has two multipliers", m.uid),
            ));
        }
        *slot = k as u32 + 1;
    }
    let multipliers: Vec<u64> = input
        .uids
        .iter()
        .zip(&input.hotkeys)
        .map(|(uid, hotkey)| match by_uid.get(*uid as usize) {
            Some(&k) if k != 0 && input.multipliers[k as usize - 1].hotkey == *hotkey => input
                .multipliers[k as usize - 1]
                .multiplier
                .min(params.max_multiplier),
            _ => params.unknown_miner_multiplier,
        })
        .collect();

    let max = input.weights.iter().copied().fold(0.0f64, f64::max);
    let adjusted: Vec<u128> = input
        .weights
        .iter()
        .zip(&multipliers)
        .map(|(w, m)| {
            let scaled = if max > 0.0 {
                (w / max * SCALE) as u64
            } else {
                0
            };
            mul_wide(scaled, *m)
        })
        .collect();
    let sum: u128 = adjusted.iter().sum();
    let mut weights = vec![0u64; n];
    let (mut chain_uids, mut chain_weights) = (Vec::new(), Vec::new());
    if let Some(sum) = core::num::NonZeroU128::new(sum) {
        let sum = sum.get();
        // Floor shares, then hand the missing units to the largest remainders.
        let mut given: u64 = 0;
        let mut remainders: Vec<(u128, usize)> = Vec::with_capacity(n);
        for (i, a) in adjusted.iter().enumerate() {
            let (q, r) = div_rem(a * ONE as u128, sum);
            weights[i] = q as u64;
            given += weights[i];
            remainders.push((r, i));
        }
        remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        for (_, i) in remainders
            .iter()
            .filter(|r| r.0 > 0)
            .take((ONE - given) as usize)
        {
            weights[*i] += 1;
        }
        let top = adjusted.iter().copied().max().unwrap_or(1);
        for (uid, a) in input.uids.iter().zip(&adjusted) {
            let q = div_round_half_even(a * u16::MAX as u128, top) as u16;
            if q != 0 {
                chain_uids.push(*uid);
                chain_weights.push(q);
            }
        }
    }
    Ok(WeightsOutput {
        uids: input.uids.clone(),
        weights,
        multipliers,
        chain_uids,
        chain_weights,
    })
}
