//! The spec 393 share pool: what a position write does while runtime 393 runs. Shares
//! and the denominator are `U64F64` (`Alpha`, `TotalHotkeyShares`); there is no
//! `AlphaV2` / `TotalHotkeySharesV2` yet, so a 393 write keeps a pool legacy. Also the
//! conversion of a genesis state to that layout.
//!
//! Read in opentensor/subtensor v3.3.13-393:
//! - `primitives/share-pool/src/lib.rs` `SharePool::{get_value, get_shares_per_update,
//!   update_value_for_one, sim_update_value_for_one}` (the arithmetic below);
//! - `pallets/subtensor/src/staking/stake_utils.rs` `HotkeyAlphaSharePoolDataOperations`
//!   (shares in `Alpha`, denominator in `TotalHotkeyShares`, an entry of 0 removed) and
//!   `decrease_stake_for_hotkey_and_coldkey_on_subnet` (sells only if the value is >= the
//!   amount).
//!
//! Fixed-point semantics are those of substrate-fixed (a port of `fixed` 0.5.4,
//! encointer/substrate-fixed `src/arith.rs` `MulDivDir`): a product keeps the high bits
//! of the double-width product (floor), a quotient is the double-width integer quotient
//! (truncated toward zero); `checked_*` is None on a zero divisor or an overflow.
//!
//! A position's value is the runtime's own: under 393 `get_value`,
//! `floor(floor64(total / denominator) * share)` in `U64F64`, often one rao below what
//! 424 computes from the same entries (`SafeFloat`, `floor(total * share / denominator)`,
//! `Pool::value_of`). The first block a 424 runtime runs therefore revalues untouched
//! legacy positions, with no event: ground truth records the difference as `Rounding`.

use primitive_types::U256;

use super::{AccountId, ChainState, Pool, SafeFloat, Share, TruthEntry, TruthKind};

const ONE: u128 = 1 << 64;

/// `U64F64::saturating_from_num(0.00001)`: a float converts to the nearest fixed value
/// (`0.00001 * 2^64 = 184467440737095.516`).
const PRECISION_FLOOR: u128 = 184_467_440_737_096;

/// `U64F64::saturating_from_num(2_628_000_000_000_000_u64)` (a year of emission).
const YEAR_OF_EMISSION: u128 = 2_628_000_000_000_000u128 << 64;

fn sat_u128(v: U256) -> u128 {
    if v > U256::from(u128::MAX) {
        u128::MAX
    } else {
        v.low_u128()
    }
}

/// `U64F64::checked_div`.
fn udiv(a: u128, b: u128) -> Option<u128> {
    if b == 0 {
        return None;
    }
    let q = (U256::from(a) << 64) / U256::from(b);
    (q <= U256::from(u128::MAX)).then(|| q.low_u128())
}

/// `U64F64::saturating_mul`.
fn umul(a: u128, b: u128) -> u128 {
    sat_u128((U256::from(a) * U256::from(b)) >> 64)
}

/// `U64F64::saturating_to_num::<u64>()` (floor).
fn to_u64(a: u128) -> u64 {
    u64::try_from(a >> 64).unwrap_or(u64::MAX)
}

/// `I64F64::saturating_from_num(U64F64)`.
fn to_signed(a: u128) -> i128 {
    i128::try_from(a).unwrap_or(i128::MAX)
}

/// `I64F64::checked_div` (truncated toward zero).
fn sdiv(a: i128, b: i128) -> Option<i128> {
    if b == 0 {
        return None;
    }
    let q = (U256::from(a.unsigned_abs()) << 64) / U256::from(b.unsigned_abs());
    let neg = (a < 0) != (b < 0);
    if q > U256::from(i128::MAX as u128) {
        return None;
    }
    let q = q.low_u128() as i128;
    Some(if neg { -q } else { q })
}

/// `I64F64::saturating_mul` (floor of the exact product, saturating).
fn smul(a: i128, b: i128) -> i128 {
    let p = U256::from(a.unsigned_abs()) * U256::from(b.unsigned_abs());
    let neg = (a < 0) != (b < 0);
    let q = if neg {
        (p + U256::from(ONE - 1)) >> 64
    } else {
        p >> 64
    };
    if q > U256::from(i128::MAX as u128) {
        return if neg { i128::MIN } else { i128::MAX };
    }
    let q = q.low_u128() as i128;
    if neg { -q } else { q }
}

/// A share as the U64F64 bits 393 reads (`Alpha`); a V2 share (never present under 393
/// after `ChainState::make_pools_legacy`) converts.
fn bits(s: &Share) -> u128 {
    match s {
        Share::Legacy(b) => *b,
        Share::V2(f) => f.to_u64f64_bits(),
    }
}

impl Pool {
    /// A coldkey's alpha as the runtime values it: 393's `get_value` when `legacy_393`,
    /// else 424's (`Pool::value_of`).
    pub fn value(&self, coldkey: &AccountId, legacy_393: bool) -> u64 {
        if legacy_393 {
            self.value_393(coldkey)
        } else {
            self.value_of(coldkey)
        }
    }

    fn denominator_393(&self) -> u128 {
        match self.legacy_denominator {
            Some(b) => b,
            None => self.denominator.to_u64f64_bits(),
        }
    }

    fn share_393(&self, coldkey: &AccountId) -> u128 {
        self.shares.get(coldkey).map(bits).unwrap_or(0)
    }

    /// `SharePool::get_value` at 393.
    pub fn value_393(&self, coldkey: &AccountId) -> u64 {
        let sv = (self.total_alpha as u128) << 64;
        let share = self.share_393(coldkey);
        let denom = self.denominator_393();
        match udiv(sv, denom) {
            Some(vps) => to_u64(umul(vps, share)),
            None => to_u64(udiv(umul(sv, share), denom).unwrap_or(0)),
        }
    }

    /// `SharePool::get_shares_per_update` (I64F64 bits).
    fn shares_per_update_393(&self, update: i64, sv: u128, denom: u128) -> i128 {
        let u = (update as i128) << 64;
        match udiv(sv, denom) {
            Some(vps) => sdiv(u, to_signed(vps)).unwrap_or(0),
            None => smul(sdiv(u, to_signed(sv)).unwrap_or(0), to_signed(denom)),
        }
    }

    /// `SharePool::sim_update_value_for_one` at 393: whether the update mints shares.
    pub fn sim_update_value_for_one_393(&self, update: i64) -> bool {
        let denom = self.denominator_393();
        if denom == 0 {
            return true;
        }
        let sv = (self.total_alpha as u128) << 64;
        self.shares_per_update_393(update, sv, denom) != 0
    }

    fn set_legacy(&mut self, coldkey: &AccountId, share: u128, denom: u128) {
        if share == 0 {
            self.shares.remove(coldkey);
        } else {
            self.shares.insert(*coldkey, Share::Legacy(share));
        }
        self.legacy_denominator = (denom != 0).then_some(denom);
        self.denominator = SafeFloat::ZERO;
    }

    /// `SharePool::update_value_for_one` at 393: buys (`update > 0`) or sells shares
    /// for one coldkey, writing `Alpha` / `TotalHotkeyShares` only. A sale that would
    /// leave less than 0.00001 of the share, or a denominator too small for a year of
    /// emission, removes the whole position instead. Returns the actual update.
    pub fn update_value_for_one_393(&mut self, coldkey: &AccountId, update: i64) -> i64 {
        let sv = (self.total_alpha as u128) << 64;
        let current = self.share_393(coldkey);
        let denom = self.denominator_393();
        let initial = self.value_393(coldkey) as i64;
        let mut actual = update;
        if denom == 0 {
            // The first key gets all (`U64F64::saturating_from_num` of a negative is 0).
            let u = (update.max(0) as u128) << 64;
            self.set_legacy(coldkey, u, u);
        } else {
            let spu = self.shares_per_update_393(update, sv, denom);
            if spu >= 0 {
                let spu = spu as u128;
                self.set_legacy(
                    coldkey,
                    current.saturating_add(spu),
                    denom.saturating_add(spu),
                );
            } else {
                let neg = spu.unsigned_abs();
                let mut new_denom = denom.saturating_sub(neg);
                let mut new_share = current.saturating_sub(neg);
                let too_little = udiv(new_share, current).unwrap_or(0) < PRECISION_FLOOR;
                let too_low_denom = udiv(sv.saturating_add(YEAR_OF_EMISSION), new_denom).is_none();
                if too_little || too_low_denom {
                    new_share = 0;
                    new_denom = denom.saturating_sub(current);
                    actual = -initial;
                }
                self.set_legacy(coldkey, new_share, new_denom);
            }
        }
        self.update_value_for_all(actual);
        actual
    }

    /// `decrease_stake_for_hotkey_and_coldkey_on_subnet` at 393.
    pub fn decrease_for_one_393(&mut self, coldkey: &AccountId, amount: u64) {
        if self.shares.contains_key(coldkey) && self.value_393(coldkey) >= amount {
            self.update_value_for_one_393(coldkey, -(amount as i64));
        }
    }

    /// The pool as 393 stores it: every share an `Alpha` entry and `TotalHotkeyShares`
    /// their sum (what the 393 share pool keeps: each write moves a share and the
    /// denominator by the same amount).
    fn make_legacy(&mut self) {
        if self.legacy_denominator.is_some()
            && self.shares.values().all(|s| matches!(s, Share::Legacy(_)))
        {
            return;
        }
        let mut denom = 0u128;
        let mut shares = self.shares.clone();
        for (c, s) in self.shares.iter() {
            let b = bits(s);
            denom = denom.saturating_add(b);
            shares.insert(*c, Share::Legacy(b));
        }
        self.shares = shares;
        self.legacy_denominator = (denom != 0).then_some(denom);
        self.denominator = SafeFloat::ZERO;
    }
}

impl ChainState {
    /// At the first block of a runtime that values positions differently (393 -> 424),
    /// records each position whose value changes as `Rounding` ground truth (no event,
    /// no storage write: the same entries read another way).
    pub(super) fn revalue(&mut self, truth: &mut Vec<TruthEntry>) {
        let (old, new) = (self.valued_393, self.rules.legacy_shares);
        if old == new {
            return;
        }
        for ((hotkey, netuid), p) in self.pools.iter() {
            for coldkey in p.shares.keys() {
                let d = p.value(coldkey, new) as i64 - p.value(coldkey, old) as i64;
                if d != 0 {
                    truth.push(TruthEntry {
                        block: self.block,
                        netuid: *netuid,
                        hotkey: *hotkey,
                        coldkey: *coldkey,
                        kind: TruthKind::Rounding,
                        amount: d,
                        epoch_index: None,
                    });
                }
            }
        }
        self.valued_393 = new;
    }

    /// Lays every pool out as runtime 393 stores it (a chain whose genesis runs 393 has
    /// no `AlphaV2` entries), e.g. a scenario's genesis self-stake.
    pub fn make_pools_legacy(&mut self) {
        let keys: Vec<_> = self.pools.keys().copied().collect();
        for k in keys {
            if let Some(p) = self.pools.get_mut(&k) {
                p.make_legacy();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ck(n: u8) -> AccountId {
        [n; 32]
    }

    #[test]
    fn fixed_point_helpers_follow_substrate_fixed() {
        assert_eq!(udiv(3 << 64, 2 << 64), Some(ONE + ONE / 2));
        assert_eq!(udiv(1, 0), None);
        assert_eq!(udiv(u128::MAX, 1), None, "overflow");
        assert_eq!(umul(3 << 63, 2 << 64), 3 << 64);
        assert_eq!(sdiv(-(7 << 64), 2 << 64), Some(-(7 << 63)));
        // -1/3 truncates toward zero.
        assert_eq!(
            sdiv(-(1 << 64), 3 << 64),
            Some(-((1u128 << 64) as i128 / 3))
        );
        // floor of a negative product.
        assert_eq!(smul(-1, 1), -1);
        assert_eq!(smul(1, 1), 0);
        let f = (0.00001f64 * 18_446_744_073_709_551_616f64).round() as u128;
        assert_eq!(f, PRECISION_FLOOR);
    }

    #[test]
    fn a_393_pool_stays_legacy_and_values_add_up() {
        let mut p = Pool::default();
        p.update_value_for_one_393(&ck(1), 1_000);
        p.update_value_for_one_393(&ck(2), 3_000);
        assert!(p.shares.values().all(|s| matches!(s, Share::Legacy(_))));
        assert_eq!(p.legacy_denominator, Some(4_000u128 << 64));
        assert!(p.denominator.is_zero());
        p.update_value_for_all(400);
        // 4400 / 4000 = 1.1 has no exact binary form: 393 reads a rao less than 424.
        assert_eq!(p.value_393(&ck(1)), 1_099);
        assert_eq!(p.value_of(&ck(1)), 1_100);
        assert_eq!(p.value(&ck(2), true), 3_299);
        assert_eq!(p.value(&ck(2), false), 3_300);
        p.decrease_for_one_393(&ck(1), 600);
        assert_eq!(p.value_393(&ck(1)), 499);
        assert_eq!(p.total_alpha, 3_800);
        // Selling more than held is a no-op.
        p.decrease_for_one_393(&ck(2), 5_000);
        assert_eq!(p.value_393(&ck(2)), 3_299);
        let sum: u128 = p.shares.values().map(bits).sum();
        assert_eq!(Some(sum), p.legacy_denominator);
    }

    #[test]
    fn a_393_sale_leaving_dust_removes_the_whole_position() {
        let mut p = Pool::default();
        p.update_value_for_one_393(&ck(1), 1_000_000_000);
        p.update_value_for_one_393(&ck(2), 3_000_000_000);
        p.update_value_for_all(7);
        let held = p.value_393(&ck(2));
        // Selling all but 1 rao leaves under 0.00001 of the share: all of it goes.
        let actual = p.update_value_for_one_393(&ck(2), -(held as i64 - 1));
        assert_eq!(actual, -(held as i64));
        assert!(!p.shares.contains_key(&ck(2)));
        assert_eq!(p.total_alpha, 4_000_000_007 - held);
        assert_eq!(p.legacy_denominator, Some(1_000_000_000u128 << 64));
    }

    #[test]
    fn genesis_conversion_keeps_values() {
        let mut p = Pool::default();
        p.update_value_for_one(&ck(1), 1_000);
        p.update_value_for_one(&ck(2), 2_500);
        let before = (p.value_of(&ck(1)), p.value_of(&ck(2)));
        p.make_legacy();
        assert_eq!((p.value_of(&ck(1)), p.value_of(&ck(2))), before);
        assert_eq!((p.value_393(&ck(1)), p.value_393(&ck(2))), before);
        assert_eq!(p.legacy_denominator, Some(3_500u128 << 64));
        assert!(p.shares.values().all(|s| matches!(s, Share::Legacy(_))));
    }
}
