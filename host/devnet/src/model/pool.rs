//! Share pools: the runtime's `SafeFloat` arithmetic, the legacy `U64F64` shares and the
//! pool operations (`update_value_for_all`, `update_value_for_one`, `get_value`) with the
//! lazy `Alpha` -> `AlphaV2` / `TotalHotkeyShares` -> `TotalHotkeySharesV2` migration.

use imbl::OrdMap;
use primitive_types::U256;
use serde::Serialize;

use super::AccountId;

/// The largest mantissa a `SafeFloat` keeps.
pub const SAFE_FLOAT_MAX: u128 = 1_000_000_000_000_000_000_000;
const SAFE_FLOAT_MAX_EXP: i64 = 21;

/// `mantissa * 10^exponent`, normalized so `SAFE_FLOAT_MAX / 10 < mantissa <= SAFE_FLOAT_MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct SafeFloat {
    pub mantissa: u128,
    pub exponent: i64,
}

fn cappow10(e: u64) -> U256 {
    if e > (SAFE_FLOAT_MAX_EXP as u64) + 1 {
        return U256::from(SAFE_FLOAT_MAX * 10);
    }
    U256::from(10).pow(U256::from(e))
}

impl SafeFloat {
    pub const ZERO: SafeFloat = SafeFloat {
        mantissa: 0,
        exponent: 0,
    };

    pub fn new(mantissa: u128, exponent: i64) -> Option<Self> {
        if mantissa > SAFE_FLOAT_MAX {
            return None;
        }
        Self::normalized(U256::from(mantissa), exponent)
    }

    fn normalized(m: U256, e: i64) -> Option<Self> {
        if m.is_zero() {
            return Some(Self::ZERO);
        }
        let ten = U256::from(10);
        let max = U256::from(SAFE_FLOAT_MAX);
        let min = max / ten;
        let (mut m, mut e) = (m, e);
        while m > max {
            m /= ten;
            e = e.checked_add(1)?;
        }
        while m <= min {
            m = m.checked_mul(ten)?;
            e = e.checked_sub(1)?;
        }
        Some(SafeFloat {
            mantissa: m.low_u128(),
            exponent: e,
        })
    }

    pub fn is_zero(&self) -> bool {
        self.mantissa == 0
    }

    pub fn from_u64(v: u64) -> Self {
        Self::new(v as u128, 0).unwrap_or_default()
    }

    /// `self / a` keeping `SAFE_FLOAT_MAX` digits.
    pub fn div(&self, a: &SafeFloat) -> Option<Self> {
        let m1 = U256::from(self.mantissa).checked_mul(U256::from(SAFE_FLOAT_MAX))?;
        let e = (self.exponent as i128) - (a.exponent as i128) - (SAFE_FLOAT_MAX_EXP as i128);
        let e = i64::try_from(e).ok()?;
        let m = m1.checked_div(U256::from(a.mantissa))?;
        Self::normalized(m, e)
    }

    fn aligned(&self, a: &SafeFloat) -> (U256, U256, i64) {
        if self.exponent >= a.exponent {
            let d = self.exponent.saturating_sub(a.exponent) as u64;
            (
                U256::from(self.mantissa),
                U256::from(a.mantissa) / cappow10(d),
                self.exponent,
            )
        } else {
            let d = a.exponent.saturating_sub(self.exponent) as u64;
            (
                U256::from(self.mantissa) / cappow10(d),
                U256::from(a.mantissa),
                a.exponent,
            )
        }
    }

    pub fn add(&self, a: &SafeFloat) -> Option<Self> {
        if self.is_zero() {
            return Some(*a);
        }
        if a.is_zero() {
            return Some(*self);
        }
        let (m1, m2, e) = self.aligned(a);
        Self::normalized(m1.saturating_add(m2), e)
    }

    pub fn sub(&self, a: &SafeFloat) -> Option<Self> {
        if self.is_zero() && a.is_zero() {
            return Some(Self::ZERO);
        } else if self.is_zero() {
            return None;
        }
        if a.is_zero() {
            return Some(*self);
        }
        let (m1, m2, e) = self.aligned(a);
        Self::normalized(m1.saturating_sub(m2), e)
    }

    /// `self * a / b` without intermediate loss.
    pub fn mul_div(&self, a: &SafeFloat, b: &SafeFloat) -> Option<Self> {
        if b.mantissa == 0 {
            return None;
        }
        let m = U256::from(self.mantissa)
            .checked_mul(U256::from(a.mantissa))
            .unwrap_or_default();
        let e = self
            .exponent
            .checked_add(a.exponent)?
            .checked_sub(b.exponent)?;
        Self::normalized(m / U256::from(b.mantissa), e)
    }

    /// Saturating conversion to an integer (floor).
    pub fn to_u64(&self) -> u64 {
        if self.exponent == 0 {
            return u64::try_from(self.mantissa).unwrap_or(u64::MAX);
        }
        let scale = cappow10(self.exponent.unsigned_abs());
        let q = if self.exponent > 0 {
            U256::from(self.mantissa).saturating_mul(scale)
        } else {
            U256::from(self.mantissa) / scale
        };
        if q > U256::from(u64::MAX) {
            u64::MAX
        } else {
            q.low_u64()
        }
    }

    /// `U64F64` bits (`floor(value * 2^64)`, saturating): how a legacy `Alpha` /
    /// `TotalHotkeyShares` entry holds this share. The inverse of `from_u64f64_bits`
    /// for integers and for any value with at most 64 binary fraction digits.
    pub fn to_u64f64_bits(&self) -> u128 {
        if self.is_zero() {
            return 0;
        }
        let m = U256::from(self.mantissa) << 64;
        let e = self.exponent.unsigned_abs();
        let q = if self.exponent >= 0 {
            if e > 40 {
                return u128::MAX;
            }
            m.saturating_mul(U256::from(10).pow(U256::from(e)))
        } else if e > 70 {
            U256::zero()
        } else {
            m / U256::from(10).pow(U256::from(e))
        };
        if q > U256::from(u128::MAX) {
            u128::MAX
        } else {
            q.low_u128()
        }
    }

    /// From `U64F64` bits (`bits / 2^64`), as the runtime converts legacy shares.
    pub fn from_u64f64_bits(bits: u128) -> Self {
        if bits == 0 {
            return Self::ZERO;
        }
        let int = (bits >> 64) as u64;
        let frac = (bits & 0xFFFF_FFFF_FFFF_FFFF) as u64;
        let safe_int = Self::new(int as u128, 0).unwrap_or_default();
        let num = Self::new(frac as u128, 0).unwrap_or_default();
        let two64 = Self::new(1u128 << 64, 0).unwrap_or_default();
        let f = num.div(&two64).unwrap_or_default();
        safe_int.add(&f).unwrap_or_default()
    }
}

/// A coldkey's share in a pool: a legacy `Alpha` entry (U64F64 bits) or an `AlphaV2` one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Share {
    Legacy(u128),
    V2(SafeFloat),
}

impl Share {
    pub fn value(&self) -> SafeFloat {
        match self {
            Share::Legacy(b) => SafeFloat::from_u64f64_bits(*b),
            Share::V2(s) => *s,
        }
    }
}

/// One hotkey's pool on one subnet.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Pool {
    /// `TotalHotkeyAlpha`.
    pub total_alpha: u64,
    /// `TotalHotkeyShares` (legacy U64F64 bits), if that entry still exists.
    pub legacy_denominator: Option<u128>,
    /// `TotalHotkeySharesV2` (absent when zero).
    pub denominator: SafeFloat,
    /// `Alpha` / `AlphaV2` entries by coldkey.
    pub shares: OrdMap<AccountId, Share>,
}

impl Pool {
    fn get_denominator(&self) -> SafeFloat {
        match self.legacy_denominator {
            Some(b) => SafeFloat::from_u64f64_bits(b),
            None => self.denominator,
        }
    }

    fn get_share(&self, coldkey: &AccountId) -> SafeFloat {
        self.shares
            .get(coldkey)
            .map(Share::value)
            .unwrap_or_default()
    }

    fn set_share(&mut self, coldkey: &AccountId, share: SafeFloat) {
        // Lazy migration: the legacy entry goes, a V2 entry is written unless zero.
        if share.is_zero() {
            self.shares.remove(coldkey);
        } else {
            self.shares.insert(*coldkey, Share::V2(share));
        }
    }

    fn set_denominator(&mut self, d: SafeFloat) {
        self.legacy_denominator = None;
        self.denominator = if d.is_zero() { SafeFloat::ZERO } else { d };
    }

    /// A coldkey's alpha: `total * share / denominator`, floored.
    pub fn value_of(&self, coldkey: &AccountId) -> u64 {
        let Some(share) = self.shares.get(coldkey) else {
            return 0;
        };
        let total = SafeFloat::new(self.total_alpha as u128, 0).unwrap_or_default();
        total
            .mul_div(&share.value(), &self.get_denominator())
            .unwrap_or_default()
            .to_u64()
    }

    /// Grows (or shrinks) the pool for every holder (dividends).
    pub fn update_value_for_all(&mut self, update: i64) {
        self.total_alpha = if update >= 0 {
            self.total_alpha.saturating_add(update as u64)
        } else {
            self.total_alpha.saturating_sub(update.unsigned_abs())
        };
    }

    /// Whether adding `update` would mint a non-zero share (the runtime's liquidity check).
    pub fn sim_update_value_for_one(&self, update: i64) -> bool {
        let d = self.get_denominator();
        if d.mantissa == 0 {
            return true;
        }
        !self.shares_per_update(update, &d).is_zero()
    }

    fn shares_per_update(&self, update: i64, d: &SafeFloat) -> SafeFloat {
        let sv = SafeFloat::new(self.total_alpha as u128, 0).unwrap_or_default();
        let u = SafeFloat::new(update.unsigned_abs() as u128, 0).unwrap_or_default();
        u.mul_div(d, &sv).unwrap_or_default()
    }

    /// Buys (`update > 0`) or sells shares for one coldkey.
    pub fn update_value_for_one(&mut self, coldkey: &AccountId, update: i64) {
        let current = self.get_share(coldkey);
        let d = self.get_denominator();
        if d.is_zero() {
            let u = SafeFloat::new(update.unsigned_abs() as u128, 0).unwrap_or_default();
            self.set_denominator(u);
            self.set_share(coldkey, u);
        } else {
            let spu = self.shares_per_update(update, &d);
            let (nd, ns) = if update > 0 {
                (
                    d.add(&spu).unwrap_or(d),
                    current.add(&spu).unwrap_or(current),
                )
            } else {
                (
                    d.sub(&spu).unwrap_or(d),
                    current.sub(&spu).unwrap_or(current),
                )
            };
            self.set_denominator(nd);
            self.set_share(coldkey, ns);
        }
        self.update_value_for_all(update);
    }

    /// `decrease_stake_for_hotkey_and_coldkey_on_subnet`: sells only if the coldkey holds enough.
    pub fn decrease_for_one(&mut self, coldkey: &AccountId, amount: u64) {
        if self.shares.contains_key(coldkey) && self.value_of(coldkey) >= amount {
            self.update_value_for_one(coldkey, -(amount as i64));
        }
    }

    /// Whether the pool has any storage left (all entries removed otherwise).
    pub fn is_empty(&self) -> bool {
        self.total_alpha == 0
            && self.shares.is_empty()
            && self.legacy_denominator.is_none()
            && self.denominator.is_zero()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ck(n: u8) -> AccountId {
        [n; 32]
    }

    #[test]
    fn first_staker_gets_everything_then_pro_rata() {
        let mut p = Pool::default();
        p.update_value_for_one(&ck(1), 1_000);
        assert_eq!(p.value_of(&ck(1)), 1_000);
        p.update_value_for_one(&ck(2), 3_000);
        assert_eq!(p.value_of(&ck(2)), 3_000);
        p.update_value_for_all(400);
        assert_eq!(p.value_of(&ck(1)), 1_100);
        assert_eq!(p.value_of(&ck(2)), 3_300);
        p.decrease_for_one(&ck(1), 1_100);
        assert_eq!(p.value_of(&ck(1)), 0);
        assert_eq!(p.total_alpha, 3_300);
        // Selling more than held is a no-op, as on chain.
        p.decrease_for_one(&ck(2), 5_000);
        assert_eq!(p.value_of(&ck(2)), 3_300);
    }

    #[test]
    fn legacy_entries_migrate_on_write_only() {
        let mut p = Pool {
            total_alpha: 3_000,
            legacy_denominator: Some(3u128 << 64),
            denominator: SafeFloat::ZERO,
            shares: OrdMap::new(),
        };
        p.shares.insert(ck(1), Share::Legacy(1u128 << 64));
        p.shares.insert(ck(2), Share::Legacy(2u128 << 64));
        assert_eq!(p.value_of(&ck(1)), 1_000);
        assert_eq!(p.value_of(&ck(2)), 2_000);
        p.update_value_for_one(&ck(1), 500);
        assert!(p.legacy_denominator.is_none());
        assert!(matches!(p.shares.get(&ck(1)), Some(Share::V2(_))));
        assert!(matches!(p.shares.get(&ck(2)), Some(Share::Legacy(_))));
        assert_eq!(p.value_of(&ck(1)), 1_500);
        assert_eq!(p.value_of(&ck(2)), 2_000);
    }

    #[test]
    fn safe_float_roundtrips() {
        assert_eq!(SafeFloat::from_u64(12345).to_u64(), 12345);
        let half = SafeFloat::from_u64f64_bits(1u128 << 63);
        assert_eq!(
            SafeFloat::from_u64(10)
                .mul_div(&half, &SafeFloat::from_u64(1))
                .unwrap()
                .to_u64(),
            5
        );
        assert!(SafeFloat::ZERO.sub(&SafeFloat::from_u64(1)).is_none());
    }
}
