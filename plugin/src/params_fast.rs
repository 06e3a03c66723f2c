//! [`Params::parse`]'s fast path: a valid parameter list (every call's) checked against a
//! static copy of the schema ([`SCHEMA`]), without building [`crate::params::specs`] and its texts. Anything the schema
//! would refuse returns `None`, and `Params::parse` takes the schema's way, which names
//! what is wrong.

use crate::fixed::ONE;
use crate::params::{ConsumeOrder, HolderMode, MAX_MULTIPLIER_CAP, Params};
use crate::types::{Param, ParamValue};

/// A parameter value's kind (`ParamValue`'s variants).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Amount,
    Fixed,
    Count,
    Flag,
    Choice,
}

/// [`specs`] without its texts, for [`Params::parse`]'s fast path: (name, kind, min, max)
/// in spec order; the choices are those of `HOLDER_CHOICES` and `ORDER_CHOICES`. A test
/// holds it equal to [`specs`].
const SCHEMA: [(&str, Kind, u64, u64); 12] = [
    ("minimum_stake", Kind::Amount, 0, u64::MAX),
    ("retention_window_days", Kind::Count, 1, 36_500),
    ("retention_target", Kind::Fixed, 1, ONE),
    ("max_multiplier", Kind::Fixed, ONE, MAX_MULTIPLIER_CAP),
    ("vesting_duration_days", Kind::Count, 0, 36_500),
    ("vesting_interval_days", Kind::Count, 1, 36_500),
    ("min_vesting_amount", Kind::Amount, 0, u64::MAX),
    ("blocks_per_day", Kind::Count, 1, 1 << 32),
    ("holder", Kind::Choice, 0, 0),
    ("consume_order", Kind::Choice, 0, 0),
    ("vested_counts_as_held", Kind::Flag, 0, 0),
    (
        "unknown_miner_multiplier",
        Kind::Fixed,
        0,
        MAX_MULTIPLIER_CAP,
    ),
];

/// [`Params::parse`] of a valid list against [`SCHEMA`], without allocating; `None`
/// for anything [`crate::params::resolve`] or [`Params::from_resolved`] would refuse.
pub(crate) fn parse(given: &[Param]) -> Option<Params> {
    let mut p = Params::default();
    let mut seen = 0u32;
    for g in given {
        let i = SCHEMA.iter().position(|s| s.0 == g.name)?;
        if seen & (1 << i) != 0 {
            return None;
        }
        seen |= 1 << i;
        let (_, kind, lo, hi) = SCHEMA[i];
        match (&g.value, kind) {
            (ParamValue::Amount(n), Kind::Amount)
            | (ParamValue::Fixed(n), Kind::Fixed)
            | (ParamValue::Count(n), Kind::Count) => {
                if *n < lo || *n > hi {
                    return None;
                }
                *number_mut(&mut p, i)? = *n;
            }
            (ParamValue::Choice(c), Kind::Choice) if SCHEMA[i].0 == "holder" => {
                p.holder = match c.as_str() {
                    "coldkey" => HolderMode::Coldkey,
                    "hotkey" => HolderMode::Hotkey,
                    _ => return None,
                }
            }
            (ParamValue::Choice(c), Kind::Choice) if SCHEMA[i].0 == "consume_order" => {
                p.consume_order = match c.as_str() {
                    "manual-first" => ConsumeOrder::ManualFirst,
                    "newest-first" => ConsumeOrder::NewestFirst,
                    "oldest-first" => ConsumeOrder::OldestFirst,
                    _ => return None,
                }
            }
            (ParamValue::Flag(b), Kind::Flag) => p.vested_counts_as_held = *b,
            _ => return None,
        }
    }
    (p.unknown_miner_multiplier <= p.max_multiplier).then_some(p)
}

/// The numeric field of [`SCHEMA`]'s entry `i`.
fn number_mut(p: &mut Params, i: usize) -> Option<&mut u64> {
    Some(match SCHEMA[i].0 {
        "minimum_stake" => &mut p.minimum_stake,
        "retention_window_days" => &mut p.retention_window_days,
        "retention_target" => &mut p.retention_target,
        "max_multiplier" => &mut p.max_multiplier,
        "vesting_duration_days" => &mut p.vesting_duration_days,
        "vesting_interval_days" => &mut p.vesting_interval_days,
        "min_vesting_amount" => &mut p.min_vesting_amount,
        "blocks_per_day" => &mut p.blocks_per_day,
        "unknown_miner_multiplier" => &mut p.unknown_miner_multiplier,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::{HOLDER_CHOICES, ORDER_CHOICES, resolve, specs};
    use alloc::string::ToString;
    use alloc::vec;
    use alloc::vec::Vec;

    fn p(name: &str, value: ParamValue) -> Param {
        Param {
            name: name.to_string(),
            value,
        }
    }

    fn kind(v: &ParamValue) -> Kind {
        match v {
            ParamValue::Amount(_) => Kind::Amount,
            ParamValue::Fixed(_) => Kind::Fixed,
            ParamValue::Count(_) => Kind::Count,
            ParamValue::Flag(_) => Kind::Flag,
            ParamValue::Choice(_) => Kind::Choice,
        }
    }

    #[test]
    fn the_fast_schema_is_the_specs() {
        let specs = specs();
        assert_eq!(specs.len(), SCHEMA.len());
        for (s, &(name, k, lo, hi)) in specs.iter().zip(&SCHEMA) {
            assert_eq!(s.name, name);
            assert_eq!(kind(&s.default_value), k, "{name}");
            if k == Kind::Choice {
                let want: &[&str] = if name == "holder" {
                    &HOLDER_CHOICES
                } else {
                    &ORDER_CHOICES
                };
                assert_eq!(s.choices, want, "{name}");
            } else if k != Kind::Flag {
                assert_eq!((s.min, s.max), (Some(lo), Some(hi)), "{name}");
                let mut p = Params::default();
                assert!(
                    number_mut(&mut p, SCHEMA.iter().position(|x| x.0 == name).unwrap()).is_some()
                );
            }
        }
    }

    #[test]
    fn the_fast_parse_is_the_slow_one() {
        let slow =
            |given: &[Param]| resolve(&specs(), given).and_then(|l| Params::from_resolved(&l));
        let mut lists: Vec<Vec<Param>> = vec![Vec::new(), Params::default().to_list()];
        for s in specs() {
            let values = match s.default_value {
                ParamValue::Amount(_) => vec![ParamValue::Amount(0), ParamValue::Amount(7)],
                ParamValue::Fixed(_) | ParamValue::Count(_) => {
                    let (lo, hi) = (s.min.unwrap(), s.max.unwrap());
                    let mk = |n| match s.default_value {
                        ParamValue::Fixed(_) => ParamValue::Fixed(n),
                        _ => ParamValue::Count(n),
                    };
                    vec![
                        mk(lo),
                        mk(hi),
                        mk(lo.wrapping_sub(1)),
                        mk(hi.wrapping_add(1)),
                    ]
                }
                ParamValue::Flag(_) => vec![ParamValue::Flag(false), ParamValue::Flag(true)],
                ParamValue::Choice(_) => s
                    .choices
                    .iter()
                    .chain(&["nope".to_string()])
                    .map(|c| ParamValue::Choice(c.clone()))
                    .collect(),
            };
            for v in values {
                lists.push(vec![p(&s.name, v.clone())]);
                lists.push(vec![p(&s.name, ParamValue::Flag(true))]);
                lists.push(vec![p(&s.name, v.clone()), p(&s.name, v.clone())]);
                let mut all = Params::default().to_list();
                let at = all.iter().position(|q| q.name == s.name).unwrap();
                all[at].value = v;
                all.reverse();
                lists.push(all);
            }
        }
        lists.push(vec![p("nope", ParamValue::Count(1))]);
        lists.push(vec![
            p("max_multiplier", ParamValue::Fixed(ONE)),
            p("unknown_miner_multiplier", ParamValue::Fixed(ONE + 1)),
        ]);
        for given in &lists {
            assert_eq!(Params::parse(given), slow(given), "{given:?}");
            if let Some(fast) = parse(given) {
                assert_eq!(Ok(fast), slow(given), "{given:?}");
            }
        }
    }
}
