//! Yuma consensus at the epoch: incentive and dividends from the validators' weights
//! and stake, ported on I32F32 fixed point (u64 bits, 32 fractional; every value here is
//! non-negative, so the `fixed` crate's truncating `*` and `/` are floors).
//!
//! Read in opentensor/subtensor `pallets/subtensor/src/epoch/run_epoch.rs` (`epoch` /
//! `epoch_dense`, the original Yuma path: `Yuma3On` and liquid alpha off, their
//! defaults) and `pallets/subtensor/src/epoch/math.rs` (the helpers named at each step).
//! Root stake is not modelled: a uid's stake is its hotkey's `TotalHotkeyAlpha`.

use super::weights::WeightParams;

/// I32F32 bits.
type Fx = u64;
const ONE: Fx = 1 << 32;

fn mul(a: Fx, b: Fx) -> Fx {
    ((a as u128 * b as u128) >> 32) as u64
}

fn div(a: Fx, b: Fx) -> Fx {
    if b == 0 {
        return 0;
    }
    (((a as u128) << 32) / b as u128).min(u64::MAX as u128) as u64
}

/// `inplace_normalize`: each entry over the sum (nothing when the sum is 0).
fn normalize(x: &mut [Fx]) {
    let sum: Fx = x.iter().sum();
    if sum == 0 {
        return;
    }
    for v in x.iter_mut() {
        *v = div(*v, sum);
    }
}

/// `fixed_proportion_to_u16`: `(x * 65535).to_num::<u16>()` (floor, saturating).
pub fn to_u16(x: Fx) -> u16 {
    (mul(x, (u16::MAX as u64) << 32) >> 32).min(u16::MAX as u64) as u16
}

/// `inplace_col_normalize` of a dense matrix.
fn col_normalize(m: &mut [Vec<Fx>]) {
    let cols = m.first().map(|r| r.len()).unwrap_or(0);
    for j in 0..cols {
        let sum: Fx = m.iter().map(|r| r[j]).sum();
        if sum == 0 {
            continue;
        }
        for r in m.iter_mut() {
            r[j] = div(r[j], sum);
        }
    }
}

/// `matmul(matrix, vector)`: `r_j = SUM(i) v_i * m_ij`.
fn matmul(m: &[Vec<Fx>], v: &[Fx]) -> Vec<Fx> {
    let cols = m.first().map(|r| r.len()).unwrap_or(0);
    let mut out = vec![0; cols];
    for (row, vi) in m.iter().zip(v) {
        for (o, x) in out.iter_mut().zip(row) {
            *o += mul(*vi, *x);
        }
    }
    out
}

/// `weighted_median` (`math.rs`): the stake-weighted median by recursive pivot
/// partitioning, `minority = stake_sum - majority`.
fn weighted_median(stake: &[Fx], score: &[Fx], idx: &[usize], minority: Fx, lo: Fx, hi: Fx) -> Fx {
    let n = idx.len();
    if n == 0 {
        return 0;
    }
    if n == 1 {
        return score[idx[0]];
    }
    let pivot = score[idx[n / 2]];
    let (mut lo_stake, mut hi_stake) = (0u64, 0u64);
    let (mut lower, mut upper) = (vec![], vec![]);
    for &i in idx {
        if score[i] == pivot {
            continue;
        }
        if score[i] < pivot {
            lo_stake += stake[i];
            lower.push(i);
        } else {
            hi_stake += stake[i];
            upper.push(i);
        }
    }
    if lo + lo_stake <= minority && minority < hi.saturating_sub(hi_stake) {
        pivot
    } else if minority < lo + lo_stake && !lower.is_empty() {
        weighted_median(stake, score, &lower, minority, lo, lo + lo_stake)
    } else if hi.saturating_sub(hi_stake) <= minority && !upper.is_empty() {
        weighted_median(
            stake,
            score,
            &upper,
            minority,
            hi.saturating_sub(hi_stake),
            hi,
        )
    } else {
        pivot
    }
}

/// `weighted_median_col(stake, score, majority)`: per column, over the rows with stake,
/// their stake renormalized.
fn weighted_median_col(stake: &[Fx], score: &[Vec<Fx>], majority: Fx) -> Vec<Fx> {
    let cols = score.first().map(|r| r.len()).unwrap_or(0);
    let mut out = vec![0; cols];
    for (j, o) in out.iter_mut().enumerate() {
        let mut use_stake = vec![];
        let mut use_score = vec![];
        for (r, s) in stake.iter().enumerate() {
            if *s > 0 {
                use_stake.push(*s);
                use_score.push(score[r][j]);
            }
        }
        if use_stake.is_empty() {
            continue;
        }
        normalize(&mut use_stake);
        let sum: Fx = use_stake.iter().sum();
        let minority = sum.saturating_sub(majority);
        let all: Vec<usize> = (0..use_stake.len()).collect();
        *o = weighted_median(&use_stake, &use_score, &all, minority, 0, sum);
    }
    out
}

/// `is_topk_nonzero(stake, k)`: the k largest non-zero stakes (ties: the lower uid,
/// as the runtime's stable sort by descending stake).
fn topk_nonzero(stake: &[Fx], k: usize) -> Vec<bool> {
    let mut order: Vec<usize> = (0..stake.len()).filter(|i| stake[*i] > 0).collect();
    order.sort_by(|a, b| stake[*b].cmp(&stake[*a]).then(a.cmp(b)));
    let mut out = vec![false; stake.len()];
    for i in order.into_iter().take(k) {
        out[i] = true;
    }
    out
}

/// What the epoch reads, by uid (uids 0..n).
#[derive(Debug, Clone)]
pub struct YumaInput {
    pub block: u64,
    pub tempo: u64,
    /// Stake weight per uid (rao of alpha).
    pub stake: Vec<u64>,
    pub last_update: Vec<u64>,
    pub registered_at: Vec<u64>,
    /// `ValidatorPermit` as the previous epoch wrote it.
    pub permits: Vec<bool>,
    /// `Weights` rows: (dest uid, u16).
    pub weights: Vec<Vec<(u16, u16)>>,
    /// `Bonds` rows: (dest uid, u16).
    pub bonds: Vec<Vec<(u16, u16)>>,
    pub params: WeightParams,
}

/// What the epoch writes, by uid: the u16 vectors as `Incentive`, `Dividends`, ... hold
/// them (`fixed_proportion_to_u16`), the new permits and bonds, and the raw shares the
/// payout splits the pots by.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct YumaOutput {
    pub active: Vec<bool>,
    pub stake: Vec<u16>,
    pub rank: Vec<u16>,
    pub trust: Vec<u16>,
    pub consensus: Vec<u16>,
    pub incentive: Vec<u16>,
    pub dividends: Vec<u16>,
    pub validator_trust: Vec<u16>,
    pub permits: Vec<bool>,
    pub bonds: Vec<Vec<(u16, u16)>>,
    /// Incentive and dividend shares (I32F32 bits, each summing to about 1 or all 0).
    pub incentive_share: Vec<u64>,
    pub dividend_share: Vec<u64>,
}

/// One run of `epoch` for a subnet (original Yuma).
pub fn run(inp: &YumaInput) -> YumaOutput {
    let n = inp.stake.len();
    let p = inp.params;
    // == Active & updated ==: inactive if `last_update + activity_cutoff < block`.
    let active: Vec<bool> = inp
        .last_update
        .iter()
        .map(|u| u.saturating_add(p.activity_cutoff) >= inp.block)
        .collect();
    // `outdated[i][j] = last_update[i] <= block_at_registration[j]`.
    let outdated = |i: usize, j: usize| inp.last_update[i] <= inp.registered_at[j];
    // `recently_registered[j] = block - tempo <= block_at_registration[j]`.
    let last_tempo = inp.block.saturating_sub(inp.tempo);
    let recent: Vec<bool> = inp.registered_at.iter().map(|r| last_tempo <= *r).collect();
    // == Stake ==: below `StakeThreshold` filtered to 0, normalized (I64F64, then
    // `vec_fixed64_to_fixed32`: the same floor at 32 bits).
    let sum: u128 = inp
        .stake
        .iter()
        .filter(|s| **s >= p.stake_threshold)
        .map(|s| *s as u128)
        .sum();
    let stake: Vec<Fx> = inp
        .stake
        .iter()
        .map(|s| {
            if *s < p.stake_threshold || sum == 0 {
                0
            } else {
                (((*s as u128) << 32) / sum) as u64
            }
        })
        .collect();
    // == Validator permits ==: the previous epoch's; new ones by `is_topk_nonzero`.
    let permits = &inp.permits;
    let new_permits = topk_nonzero(&stake, p.max_allowed_validators as usize);
    // == Active stake ==: masked by inactive and by no permit, normalized.
    let mut active_stake: Vec<Fx> = (0..n)
        .map(|i| if active[i] && permits[i] { stake[i] } else { 0 })
        .collect();
    normalize(&mut active_stake);
    // == Weights ==: raw u16 values (`get_weights`), rows of non-permitted validators
    // masked (`inplace_mask_rows`), the diagonal masked (`inplace_mask_diag`, applied
    // after the owner exception in the source, so for every uid), outdated weights
    // masked (`inplace_mask_matrix`), rows normalized (`inplace_row_normalize`).
    let mut w: Vec<Vec<Fx>> = vec![vec![0; n]; n];
    for (i, row) in inp.weights.iter().enumerate() {
        if !permits[i] {
            continue;
        }
        for (j, v) in row {
            let j = *j as usize;
            if j < n && j != i && !outdated(i, j) {
                w[i][j] = (*v as u64) << 32;
            }
        }
        normalize(&mut w[i]);
    }
    // == Consensus, validator trust ==
    let preranks = matmul(&w, &active_stake);
    // `get_float_kappa`: kappa / 65535.
    let kappa = div((p.kappa as u64) << 32, (u16::MAX as u64) << 32);
    let consensus = weighted_median_col(&active_stake, &w, kappa);
    // `inplace_col_clip`: w_ij = min(w_ij, consensus_j).
    let clipped: Vec<Vec<Fx>> = w
        .iter()
        .map(|r| r.iter().zip(&consensus).map(|(x, c)| *x.min(c)).collect())
        .collect();
    // `row_sum(clipped)`.
    let validator_trust: Vec<Fx> = clipped.iter().map(|r| r.iter().sum()).collect();
    // == Ranks, server trust, incentive ==
    let mut ranks = matmul(&clipped, &active_stake);
    // `vecdiv(ranks, preranks)`: 0 where the prerank is 0.
    let trust: Vec<Fx> = ranks
        .iter()
        .zip(&preranks)
        .map(|(r, q)| if *q == 0 { 0 } else { div(*r, *q) })
        .collect();
    normalize(&mut ranks);
    let incentive = ranks.clone();
    // == Bonds and dividends ==: `interpolate(weights, clipped, bonds_penalty)` (the
    // source returns either matrix unchanged at 0 and 1, which this gives exactly).
    let penalty = div((p.bonds_penalty as u64) << 32, (u16::MAX as u64) << 32);
    let wb: Vec<Vec<Fx>> = w
        .iter()
        .zip(&clipped)
        .map(|(wr, cr)| {
            wr.iter()
                .zip(cr)
                .map(|(a, c)| {
                    // a + ratio * (c - a), with c <= a.
                    a - mul(penalty, a - c)
                })
                .collect()
        })
        .collect();
    // `get_bonds` (raw u16), `inplace_mask_cols(recently_registered)`,
    // `inplace_col_normalize`.
    let mut bonds: Vec<Vec<Fx>> = vec![vec![0; n]; n];
    for (i, row) in inp.bonds.iter().enumerate() {
        for (j, v) in row {
            let j = *j as usize;
            if j < n && !recent[j] {
                bonds[i][j] = (*v as u64) << 32;
            }
        }
    }
    col_normalize(&mut bonds);
    // `row_hadamard(weights_for_bonds, active_stake)`: ΔB = W ∘ S, column-normalized.
    let mut delta: Vec<Vec<Fx>> = wb
        .iter()
        .zip(&active_stake)
        .map(|(r, s)| r.iter().map(|x| mul(*x, *s)).collect())
        .collect();
    col_normalize(&mut delta);
    // `compute_ema_bonds_normal`: alpha = 1 - BondsMovingAverage / 1e6 (I64F64 then
    // I32F32), `mat_ema(delta, bonds, alpha)`, column-normalized.
    let bma = (((p.bonds_moving_average as u128) << 64) / 1_000_000) >> 32;
    let alpha = ONE - bma as u64;
    let one_minus = ONE - alpha;
    let mut ema: Vec<Vec<Fx>> = delta
        .iter()
        .zip(&bonds)
        .map(|(d, b)| {
            d.iter()
                .zip(b)
                .map(|(x, y)| mul(alpha, *x) + mul(one_minus, *y))
                .collect()
        })
        .collect();
    col_normalize(&mut ema);
    // `matmul_transpose(ema, incentive)`: d_i = SUM(j) b_ij * inc_j, normalized.
    let mut dividends: Vec<Fx> = ema
        .iter()
        .map(|r| r.iter().zip(&incentive).map(|(b, x)| mul(*x, *b)).sum())
        .collect();
    normalize(&mut dividends);
    // `inplace_col_max_upscale` for storage; rows kept only where a new permit is held.
    let cols_max: Vec<Fx> = (0..n)
        .map(|j| ema.iter().map(|r| r[j]).max().unwrap_or(0))
        .collect();
    let stored_bonds: Vec<Vec<(u16, u16)>> = ema
        .iter()
        .enumerate()
        .map(|(i, r)| {
            if !new_permits[i] {
                return vec![];
            }
            r.iter()
                .enumerate()
                .filter_map(|(j, x)| {
                    let v = to_u16(div(*x, cols_max[j]));
                    (v > 0).then_some((j as u16, v))
                })
                .collect()
        })
        .collect();
    // No emission from weights (all masked, self weights only): validators by stake
    // (the active stake, else all stake).
    let emission_zero = incentive.iter().all(|x| *x == 0) && dividends.iter().all(|x| *x == 0);
    let dividend_share = if emission_zero {
        if active_stake.iter().all(|x| *x == 0) {
            stake.clone()
        } else {
            active_stake.clone()
        }
    } else {
        dividends.clone()
    };
    let u16s = |v: &[Fx]| v.iter().map(|x| to_u16(*x)).collect::<Vec<u16>>();
    YumaOutput {
        active,
        stake: u16s(&stake),
        rank: u16s(&ranks),
        trust: u16s(&trust),
        consensus: u16s(&consensus),
        incentive: u16s(&incentive),
        dividends: u16s(&dividends),
        validator_trust: u16s(&validator_trust),
        permits: new_permits,
        bonds: stored_bonds,
        incentive_share: incentive,
        dividend_share,
    }
}

#[cfg(test)]
#[path = "yuma_tests.rs"]
mod tests;
