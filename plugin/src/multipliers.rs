//! Multipliers: the seeds' formula in fixed point,
//! `m = 1 + sqrt(min(1, held / target) * min(1, days / window)) * (max - 1)`,
//! and 0 for a miner whose holder holds less than `minimum_stake`.

use crate::accounts::Accounts;
use crate::fixed::{ONE, isqrt, mul_div, ratio_capped};
use crate::params::Params;
use crate::types::*;
use crate::{error, types::ErrorCode};
use alloc::format;
use alloc::vec;
use alloc::vec::Vec;

/// The held factor, the duration factor and the multiplier of one holding.
pub fn formula(params: &Params, h: Option<&Holding>) -> (u64, u64, u64, bool) {
    let (total, held_fraction, holding_blocks) = h.map_or((0, ONE, 0), |h| {
        (h.total_stake, h.held_fraction, h.holding_blocks)
    });
    let pf = ratio_capped(held_fraction, params.retention_target);
    let df = ratio_capped(holding_blocks, params.window_blocks());
    let eligible = total >= params.minimum_stake;
    let root = isqrt(pf as u128 * df as u128) as u64; // <= ONE
    let m = if eligible {
        ONE + mul_div(root, params.max_multiplier - ONE, ONE) as u64
    } else {
        0
    };
    (pf, df, m, eligible)
}

/// One multiplier per miner, sorted by uid.
pub fn multipliers(
    params: &Params,
    input: &MultipliersInput,
) -> Result<Vec<MinerMultiplier>, PolicyError> {
    let accounts = Accounts::new(&input.accounts)?;
    // Indexed by account: indices are checked to be below the table's length.
    let mut by_holder: Vec<Option<&Holding>> = vec![None; accounts.len()];
    for h in &input.holdings {
        accounts.check(h.holder, "a holding's holder")?;
        if by_holder[h.holder as usize].replace(h).is_some() {
            return Err(error(
                ErrorCode::InvalidInput,
                format!("holder `{}` appears twice", accounts.name(h.holder)),
            ));
        }
    }
    for m in &input.miners {
        accounts.check(m.hotkey, "a miner's hotkey")?;
        accounts.check(m.coldkey, "a miner's coldkey")?;
    }
    let mut uids = UidSet::new();
    let mut out = Vec::with_capacity(input.miners.len());
    for m in &input.miners {
        if !uids.insert(m.uid) {
            return Err(error(
                ErrorCode::DuplicateUid,
                format!("uid {} appears twice in miners", m.uid),
            ));
        }
        let holder = params.holder_of(m.hotkey, m.coldkey);
        let (pf, df, multiplier, eligible) = formula(params, by_holder[holder as usize]);
        out.push(MinerMultiplier {
            uid: m.uid,
            hotkey: m.hotkey,
            holder,
            multiplier,
            held_factor: pf,
            duration_factor: df,
            eligible,
        });
    }
    out.sort_by_key(|m| m.uid);
    Ok(out)
}

/// A set of uids, one bit each.
pub struct UidSet(Vec<u64>);

impl UidSet {
    pub fn new() -> Self {
        UidSet(vec![0; (u16::MAX as usize + 1) / 64])
    }

    /// Adds `uid`; false when it was there already.
    pub fn insert(&mut self, uid: u16) -> bool {
        let (word, bit) = (uid as usize / 64, 1u64 << (uid % 64));
        let fresh = self.0[word] & bit == 0;
        self.0[word] |= bit;
        fresh
    }
}

impl Default for UidSet {
    fn default() -> Self {
        Self::new()
    }
}
