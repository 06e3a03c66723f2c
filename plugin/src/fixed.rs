//! Fixed-point and integer helpers: 9-decimal fractions, exact division, integer sqrt.
//! Everything here is integer arithmetic, so every host computes the same bits.

/// 1.0 in the contract's fixed point (9 decimals).
pub const ONE: u64 = 1_000_000_000;

/// `a * b / c`, floored, without intermediate overflow (c > 0).
pub fn mul_div(a: u64, b: u64, c: u64) -> u128 {
    (a as u128 * b as u128) / c as u128
}

/// `a * b / c`, floored, for callers that know the result fits a u64 (c > 0). Takes the
/// u64 path when the product fits: u128 division is a slow library call on wasm32.
pub fn mul_div_u64(a: u64, b: u64, c: u64) -> u64 {
    match a.checked_mul(b) {
        Some(p) => p / c,
        None => ((a as u128 * b as u128) / c as u128) as u64,
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

/// `n / d` rounded to nearest, ties to even (Python's `round`), d > 0.
pub fn div_round_half_even(n: u128, d: u128) -> u128 {
    let q = n / d;
    let r = n % d;
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

    #[test]
    fn ratio_caps_at_one() {
        assert_eq!(ratio_capped(5, 10), ONE / 2);
        assert_eq!(ratio_capped(20, 10), ONE);
        assert_eq!(ratio_capped(u64::MAX - 1, u64::MAX), ONE - 1);
    }
}
