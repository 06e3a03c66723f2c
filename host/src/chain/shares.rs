//! Share-pool maths as the runtime does it: a coldkey's alpha on (hotkey, netuid) is
//! `TotalHotkeyAlpha * share / denominator`, floored, in `SafeFloat` arithmetic, where
//! `share` is the legacy `Alpha` (U64F64) entry if present else `AlphaV2`, and the
//! denominator `TotalHotkeyShares` (U64F64) if present else `TotalHotkeySharesV2`.

use primitive_types::U256;

const SAFE_FLOAT_MAX: u128 = 1_000_000_000_000_000_000_000;
const SAFE_FLOAT_MAX_EXP: i64 = 21;

/// `mantissa * 10^exponent`, normalized so `SAFE_FLOAT_MAX / 10 < mantissa <= SAFE_FLOAT_MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
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

    /// A value as stored (`AlphaV2`, `TotalHotkeySharesV2`), normalized.
    pub fn new(mantissa: u128, exponent: i64) -> Option<Self> {
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

    fn div(&self, a: &SafeFloat) -> Option<Self> {
        let m1 = U256::from(self.mantissa).checked_mul(U256::from(SAFE_FLOAT_MAX))?;
        let e = (self.exponent as i128) - (a.exponent as i128) - (SAFE_FLOAT_MAX_EXP as i128);
        let m = m1.checked_div(U256::from(a.mantissa))?;
        Self::normalized(m, i64::try_from(e).ok()?)
    }

    fn add(&self, a: &SafeFloat) -> Option<Self> {
        if self.mantissa == 0 {
            return Some(*a);
        }
        if a.mantissa == 0 {
            return Some(*self);
        }
        let (m1, m2, e) = if self.exponent >= a.exponent {
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
        };
        Self::normalized(m1.saturating_add(m2), e)
    }

    fn mul_div(&self, a: &SafeFloat, b: &SafeFloat) -> Option<Self> {
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

    fn to_u64(self) -> u64 {
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

    /// From legacy `U64F64` bits (`bits / 2^64`), as the runtime converts them.
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

/// A share or denominator as read from storage: the legacy entry wins when present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shares {
    Legacy(u128),
    V2(SafeFloat),
}

impl Shares {
    fn value(&self) -> SafeFloat {
        match self {
            Shares::Legacy(b) => SafeFloat::from_u64f64_bits(*b),
            Shares::V2(s) => *s,
        }
    }
}

/// A coldkey's alpha: `floor(total * share / denominator)`; 0 without a share.
pub fn alpha_of(total: u64, share: Option<Shares>, denominator: Option<Shares>) -> u64 {
    let (Some(share), Some(denominator)) = (share, denominator) else {
        return 0;
    };
    let total = SafeFloat::new(total as u128, 0).unwrap_or_default();
    total
        .mul_div(&share.value(), &denominator.value())
        .unwrap_or_default()
        .to_u64()
}

/// A coldkey's alpha as runtimes before the SafeFloat pools valued it (spec < 424, the
/// `share-pool` crate in U64F64: `SharePool::get_value`): the value per share
/// `total / denominator` first, truncated to 64 fraction bits, then times the share,
/// floored; `total * share / denominator` if the value per share overflows. It can read
/// one rao less than [`alpha_of`] on the same entries. Legacy (U64F64) entries only.
pub fn alpha_of_u64f64(total: u64, share: u128, denominator: u128) -> u64 {
    let mul = |a: u128, b: u128| -> u128 {
        let p = (U256::from(a) * U256::from(b)) >> 64;
        if p > U256::from(u128::MAX) {
            u128::MAX
        } else {
            p.low_u128()
        }
    };
    let div = |a: u128, b: u128| -> Option<u128> {
        if b == 0 {
            return None;
        }
        let q = (U256::from(a) << 64) / U256::from(b);
        (q <= U256::from(u128::MAX)).then(|| q.low_u128())
    };
    let shared = (total as u128) << 64;
    let value = match div(shared, denominator) {
        Some(per_share) => mul(per_share, share),
        None => div(mul(shared, share), denominator).unwrap_or(0),
    };
    u64::try_from(value >> 64).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_393_values_the_share_after_the_value_per_share() {
        // 3 of 9 shares of 3 alpha: 1/3 truncated to 64 bits, times 3, is below 1.
        let (s, d) = (3u128 << 64, 9u128 << 64);
        assert_eq!(alpha_of_u64f64(3, s, d), 0);
        assert_eq!(
            alpha_of(3, Some(Shares::Legacy(s)), Some(Shares::Legacy(d))),
            1
        );
        // Exact ratios agree.
        assert_eq!(alpha_of_u64f64(3_000, 1u128 << 64, 3u128 << 64), 1_000);
        assert_eq!(alpha_of_u64f64(3_000, 0, 3u128 << 64), 0);
        // No denominator: nothing (checked_div fails both ways).
        assert_eq!(alpha_of_u64f64(3_000, 1u128 << 64, 0), 0);
    }

    #[test]
    fn legacy_and_v2_shares() {
        // Legacy: 1 of 3 shares of 3000 alpha.
        let v = alpha_of(
            3_000,
            Some(Shares::Legacy(1u128 << 64)),
            Some(Shares::Legacy(3u128 << 64)),
        );
        assert_eq!(v, 1_000);
        // V2: 250 of 1000 shares of 4000 alpha (exponents normalize).
        let s = SafeFloat::new(250, 0).unwrap();
        let d = SafeFloat::new(1_000, 0).unwrap();
        assert_eq!(
            alpha_of(4_000, Some(Shares::V2(s)), Some(Shares::V2(d))),
            1_000
        );
        // No share: nothing; a mixed legacy share over a V2 denominator still counts.
        assert_eq!(alpha_of(4_000, None, Some(Shares::V2(d))), 0);
        assert_eq!(
            alpha_of(
                4_000,
                Some(Shares::Legacy(500u128 << 64)),
                Some(Shares::V2(d))
            ),
            2_000
        );
        // Floors: 1/3 of 1000.
        assert_eq!(
            alpha_of(
                1_000,
                Some(Shares::V2(SafeFloat::new(1, 0).unwrap())),
                Some(Shares::V2(SafeFloat::new(3, 0).unwrap()))
            ),
            333
        );
    }
}
