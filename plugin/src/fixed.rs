//! Fixed-point and integer helpers: 9-decimal fractions, exact division, integer sqrt.
//! Everything here is integer arithmetic, so every host computes the same bits.

/// 1.0 in the contract's fixed point (9 decimals).
pub const ONE: u64 = 1_000_000_000;

/// `a * b / c`, floored, without intermediate overflow (c > 0).
pub fn mul_div(a: u64, b: u64, c: u64) -> u128 {
    div_rem(mul_wide(a, b), c as u128).0
}

/// `a * b` as a u128; a single u64 multiplication when the product fits (a library call
/// for the full 64x64 product on wasm32 is avoided).
#[inline]
pub fn mul_wide(a: u64, b: u64) -> u128 {
    if a.leading_zeros() + b.leading_zeros() >= 64 {
        (a * b) as u128
    } else {
        a as u128 * b as u128
    }
}

/// `(n / d, n % d)`, floored, d > 0: exactly the u128 operators' results.
///
/// u128 division is a slow library routine on wasm32, so: u64 operands take u64 division;
/// otherwise, when the quotient is below 2^52, an f64 estimate of it (off by at most a
/// few units) is corrected with exact u128 multiplications and subtractions.
pub fn div_rem(n: u128, d: u128) -> (u128, u128) {
    if (n | d) >> 64 == 0 {
        let (n, d) = (n as u64, d as u64);
        return ((n / d) as u128, (n % d) as u128);
    }
    if n < d {
        return (0, n);
    }
    let est = to_f64(n) / to_f64(d);
    // Estimates this small have a relative error of a few 2^-53: the correction below
    // takes a few steps at most, and is exact whatever the estimate.
    if est < 4_503_599_627_370_496.0 && n >> 126 == 0 {
        let mut q = est as u64 as u128;
        if let Some(mut p) = q.checked_mul(d) {
            while p > n {
                q -= 1;
                p -= d;
            }
            let mut r = n - p;
            while r >= d {
                q += 1;
                r -= d;
            }
            return (q, r);
        }
    }
    (n / d, n % d)
}

/// An approximation of `n` (within a few units in the last place; only for estimates).
#[inline]
fn to_f64(n: u128) -> f64 {
    ((n >> 64) as u64 as f64) * 18_446_744_073_709_551_616.0 + (n as u64 as f64)
}

/// `a * b / c`, floored, for callers that know the result fits a u64 (c > 0). Takes the
/// u64 path when the product fits: u128 division is a slow library call on wasm32.
pub fn mul_div_u64(a: u64, b: u64, c: u64) -> u64 {
    // Leading zeros, not `checked_mul`: a 64-bit overflow check is a library call there.
    if a.leading_zeros() + b.leading_zeros() >= 64 {
        a * b / c
    } else {
        div_rem(a as u128 * b as u128, c as u128).0 as u64
    }
}

/// `a / b` as a fixed-point fraction, floored, capped at 1.0 (b > 0).
pub fn ratio_capped(a: u64, b: u64) -> u64 {
    if a >= b {
        ONE
    } else {
        // a < b, so the result is < ONE and fits.
        mul_div_u64(a, ONE, b)
    }
}

/// Floor of the square root of `n`.
pub fn isqrt(n: u128) -> u128 {
    if n < 2 {
        return n;
    }
    if n >> 64 == 0 {
        return isqrt_u64(n as u64) as u128;
    }
    // Newton's method from an over-estimate; converges monotonically from above.
    // n < 2^(log2 n + 1), so 2^ceil((log2 n + 1) / 2) >= sqrt(n).
    let mut x = 1u128 << (n.ilog2() + 1).div_ceil(2);
    loop {
        let y = (x + n / x) / 2;
        if y >= x {
            return x;
        }
        x = y;
    }
}

/// Floor of the square root of `n`, in u64 arithmetic (the same Newton iteration).
fn isqrt_u64(n: u64) -> u64 {
    if n < 2 {
        return n;
    }
    // x <= 2^32 and n / x <= n, so x + n / x fits a u64 unless n is near u64::MAX: use
    // u128 for the sum's carry there.
    let mut x = 1u64 << (n.ilog2() + 1).div_ceil(2);
    loop {
        let y = ((x as u128 + (n / x) as u128) / 2) as u64;
        if y >= x {
            return x;
        }
        x = y;
    }
}

/// `n / d` rounded to nearest, ties to even (Python's `round`), d > 0.
pub fn div_round_half_even(n: u128, d: u128) -> u128 {
    let (q, r) = div_rem(n, d);
    let twice = r * 2;
    if twice > d || (twice == d && q % 2 == 1) {
        q + 1
    } else {
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isqrt_is_the_floor_of_the_root() {
        for n in 0u128..10_000 {
            let r = isqrt(n);
            assert!(r * r <= n && (r + 1) * (r + 1) > n, "isqrt({n}) = {r}");
        }
        assert_eq!(isqrt(ONE as u128 * ONE as u128), ONE as u128);
        assert_eq!(isqrt(u128::MAX), u64::MAX as u128);
    }

    #[test]
    fn round_half_even_matches_python() {
        // Python: round(0.5) = 0, round(1.5) = 2, round(2.5) = 2, round(2.6) = 3
        assert_eq!(div_round_half_even(1, 2), 0);
        assert_eq!(div_round_half_even(3, 2), 2);
        assert_eq!(div_round_half_even(5, 2), 2);
        assert_eq!(div_round_half_even(26, 10), 3);
        assert_eq!(div_round_half_even(24, 10), 2);
    }

    #[test]
    fn mul_div_u64_takes_either_path_exactly() {
        assert_eq!(mul_div_u64(10, 3, 4), 7);
        assert_eq!(mul_div_u64(u64::MAX, 30, 30), u64::MAX);
        assert_eq!(
            mul_div_u64(u64::MAX, 7, 30),
            (u64::MAX as u128 * 7 / 30) as u64
        );
    }

    proptest::proptest! {
        #[test]
        fn div_rem_is_the_u128_operators(
            n in proptest::prelude::any::<u128>(),
            d in 1u128..,
            shift in 0u32..128,
            small in 1u64..,
        ) {
            for (n, d) in [(n, d), (n >> shift, d >> (shift / 2)), (n >> shift, small as u128)] {
                if d > 0 {
                    proptest::prop_assert_eq!(div_rem(n, d), (n / d, n % d));
                }
            }
        }

        #[test]
        fn mul_wide_and_isqrt_are_exact(a in proptest::prelude::any::<u64>(), s in 0u32..64) {
            let b = a >> s;
            proptest::prop_assert_eq!(mul_wide(a, b), a as u128 * b as u128);
            let n = a as u128;
            let r = isqrt(n);
            proptest::prop_assert!(r * r <= n && (r + 1) * (r + 1) > n);
        }
    }

    #[test]
    fn div_rem_edges() {
        let cases = [
            (u128::MAX, 1),
            (u128::MAX, 3),
            (u128::MAX, u128::MAX),
            (u128::MAX - 1, u128::MAX),
            (1u128 << 100, (1u128 << 64) + 1),
            ((1u128 << 110) - 1, 1_000_000_007),
            (u64::MAX as u128 * ONE as u128, u64::MAX as u128),
        ];
        for (n, d) in cases {
            assert_eq!(div_rem(n, d), (n / d, n % d), "{n} / {d}");
        }
        assert_eq!(isqrt(u64::MAX as u128), u32::MAX as u128);
    }

    #[test]
    fn ratio_caps_at_one() {
        assert_eq!(ratio_capped(5, 10), ONE / 2);
        assert_eq!(ratio_capped(20, 10), ONE);
        assert_eq!(ratio_capped(u64::MAX - 1, u64::MAX), ONE - 1);
    }
}
