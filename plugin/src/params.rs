//! The policy's parameters: their schema (names, kinds, defaults, bounds) and the
//! checked, resolved form every function works from.

use crate::error;
use crate::fixed::ONE;
use crate::types::{ErrorCode, Param, ParamSpec, ParamValue, PolicyError};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

/// Whose stake is pooled into one ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HolderMode {
    /// A coldkey over all its hotkeys on the subnet (moves between them are not selling).
    Coldkey,
    /// Each hotkey on its own.
    Hotkey,
}

/// In which order an outflow consumes a holder's tranches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsumeOrder {
    /// Manual stake first (newest first), then earned stake newest first.
    ManualFirst,
    /// All tranches newest first (the seeds' last version).
    NewestFirst,
    /// All tranches oldest first (FIFO).
    OldestFirst,
}

/// Resolved parameters. Amounts in rao; fractions in fixed point (9 decimals).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Params {
    pub minimum_stake: u64,
    pub retention_window_days: u64,
    pub retention_target: u64,
    pub max_multiplier: u64,
    pub vesting_duration_days: u64,
    pub vesting_interval_days: u64,
    pub min_vesting_amount: u64,
    pub blocks_per_day: u64,
    pub holder: HolderMode,
    pub consume_order: ConsumeOrder,
    pub vested_counts_as_held: bool,
    pub unknown_miner_multiplier: u64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            minimum_stake: 300_000_000,
            retention_window_days: 30,
            retention_target: 900_000_000,
            max_multiplier: 1_500_000_000,
            vesting_duration_days: 30,
            vesting_interval_days: 1,
            min_vesting_amount: 100_000_000,
            blocks_per_day: 7_200,
            holder: HolderMode::Coldkey,
            consume_order: ConsumeOrder::ManualFirst,
            vested_counts_as_held: true,
            unknown_miner_multiplier: 0,
        }
    }
}

pub(crate) const HOLDER_CHOICES: [&str; 2] = ["coldkey", "hotkey"];
pub(crate) const ORDER_CHOICES: [&str; 3] = ["manual-first", "newest-first", "oldest-first"];

/// The largest multiplier a policy may use (keeps weight maths within u128).
pub const MAX_MULTIPLIER_CAP: u64 = 100 * ONE;

fn spec(name: &str, description: &str, value: ParamValue, min: u64, max: u64) -> ParamSpec {
    ParamSpec {
        name: name.to_string(),
        description: description.to_string(),
        default_value: value,
        min: Some(min),
        max: Some(max),
        choices: Vec::new(),
    }
}

fn choice_spec(name: &str, description: &str, value: &str, choices: &[&str]) -> ParamSpec {
    ParamSpec {
        name: name.to_string(),
        description: description.to_string(),
        default_value: ParamValue::Choice(value.to_string()),
        min: None,
        max: None,
        choices: choices.iter().map(|c| c.to_string()).collect(),
    }
}

/// The schema of the default policy's parameters, defaults included.
pub fn specs() -> Vec<ParamSpec> {
    let d = Params::default();
    let days = 36_500;
    vec![
        spec(
            "minimum_stake",
            "A miner whose holder holds less alpha (rao) gets multiplier 0.",
            ParamValue::Amount(d.minimum_stake),
            0,
            u64::MAX,
        ),
        spec(
            "retention_window_days",
            "Window over which earnings and holding are measured.",
            ParamValue::Count(d.retention_window_days),
            1,
            days,
        ),
        spec(
            "retention_target",
            "Held fraction that earns the full held factor.",
            ParamValue::Fixed(d.retention_target),
            1,
            ONE,
        ),
        spec(
            "max_multiplier",
            "The multiplier of a miner that holds everything for the whole window.",
            ParamValue::Fixed(d.max_multiplier),
            ONE,
            MAX_MULTIPLIER_CAP,
        ),
        spec(
            "vesting_duration_days",
            "Time over which an earned amount vests.",
            ParamValue::Count(d.vesting_duration_days),
            0,
            days,
        ),
        spec(
            "vesting_interval_days",
            "Time between vesting payments; also the tranche bucket.",
            ParamValue::Count(d.vesting_interval_days),
            1,
            days,
        ),
        spec(
            "min_vesting_amount",
            "Earnings smaller than this (rao) vest at once.",
            ParamValue::Amount(d.min_vesting_amount),
            0,
            u64::MAX,
        ),
        spec(
            "blocks_per_day",
            "Blocks in a day (7200 at 12 s blocks).",
            ParamValue::Count(d.blocks_per_day),
            1,
            1 << 32,
        ),
        choice_spec(
            "holder",
            "Whose stake forms one ledger.",
            "coldkey",
            &HOLDER_CHOICES,
        ),
        choice_spec(
            "consume_order",
            "Which tranches an outflow consumes first.",
            "manual-first",
            &ORDER_CHOICES,
        ),
        ParamSpec {
            name: "vested_counts_as_held".to_string(),
            description: "Selling earned stake after it vested does not lower the held fraction."
                .to_string(),
            default_value: ParamValue::Flag(d.vested_counts_as_held),
            min: None,
            max: None,
            choices: Vec::new(),
        },
        spec(
            "unknown_miner_multiplier",
            "Multiplier of a uid with no multiplier for its current hotkey.",
            ParamValue::Fixed(d.unknown_miner_multiplier),
            0,
            MAX_MULTIPLIER_CAP,
        ),
    ]
}

fn bad(message: String) -> PolicyError {
    error(ErrorCode::InvalidParameter, message)
}

fn kind_name(v: &ParamValue) -> &'static str {
    match v {
        ParamValue::Amount(_) => "amount",
        ParamValue::Fixed(_) => "fixed",
        ParamValue::Count(_) => "count",
        ParamValue::Flag(_) => "flag",
        ParamValue::Choice(_) => "choice",
    }
}

/// Checks `value` against `spec`: same kind, within bounds, one of the choices.
pub fn check(spec: &ParamSpec, value: &ParamValue) -> Result<(), PolicyError> {
    if core::mem::discriminant(value) != core::mem::discriminant(&spec.default_value) {
        return Err(bad(format!(
            "parameter `{}` takes a {} value, got a {} value",
            spec.name,
            kind_name(&spec.default_value),
            kind_name(value)
        )));
    }
    match value {
        ParamValue::Amount(n) | ParamValue::Fixed(n) | ParamValue::Count(n) => {
            let (lo, hi) = (spec.min.unwrap_or(0), spec.max.unwrap_or(u64::MAX));
            if *n < lo || *n > hi {
                return Err(bad(format!(
                    "parameter `{}` is {n}, outside its range [{lo}, {hi}]",
                    spec.name
                )));
            }
        }
        ParamValue::Choice(c) if !spec.choices.iter().any(|x| x == c) => {
            return Err(bad(format!(
                "parameter `{}` is `{c}`, not one of: {}",
                spec.name,
                spec.choices.join(", ")
            )));
        }
        _ => {}
    }
    Ok(())
}

/// Resolves `given` against `specs`: every given name must be known and appear once,
/// every value must pass [`check`]; missing ones take their defaults. Returns one value
/// per spec, in spec order.
pub fn resolve(specs: &[ParamSpec], given: &[Param]) -> Result<Vec<Param>, PolicyError> {
    for (i, p) in given.iter().enumerate() {
        if given[..i].iter().any(|q| q.name == p.name) {
            return Err(bad(format!("parameter `{}` is given twice", p.name)));
        }
        let Some(spec) = specs.iter().find(|s| s.name == p.name) else {
            let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
            return Err(bad(format!(
                "unknown parameter `{}` (known: {})",
                p.name,
                names.join(", ")
            )));
        };
        check(spec, &p.value)?;
    }
    Ok(specs
        .iter()
        .map(|s| Param {
            name: s.name.clone(),
            value: given
                .iter()
                .find(|p| p.name == s.name)
                .map_or_else(|| s.default_value.clone(), |p| p.value.clone()),
        })
        .collect())
}

fn number(list: &[Param], name: &str) -> u64 {
    match list.iter().find(|p| p.name == name).map(|p| &p.value) {
        Some(ParamValue::Amount(n) | ParamValue::Fixed(n) | ParamValue::Count(n)) => *n,
        _ => 0,
    }
}

fn text<'a>(list: &'a [Param], name: &str) -> &'a str {
    match list.iter().find(|p| p.name == name).map(|p| &p.value) {
        Some(ParamValue::Choice(c)) => c,
        _ => "",
    }
}

fn flag(list: &[Param], name: &str) -> bool {
    matches!(
        list.iter().find(|p| p.name == name).map(|p| &p.value),
        Some(ParamValue::Flag(true))
    )
}

impl Params {
    /// Checks and resolves a parameter list against the default policy's schema.
    pub fn parse(given: &[Param]) -> Result<Params, PolicyError> {
        // Valid lists (every call's) skip building the schema; anything else takes the
        // schema's way, which names what is wrong.
        match crate::params_fast::parse(given) {
            Some(p) => Ok(p),
            None => Self::from_resolved(&resolve(&specs(), given)?),
        }
    }

    /// Builds `Params` from a list already resolved against a schema that holds at least
    /// the seed parameters; parameters the schema lacks keep their defaults.
    pub fn from_resolved(list: &[Param]) -> Result<Params, PolicyError> {
        let d = Params::default();
        let has = |name: &str| list.iter().any(|p| p.name == name);
        let num = |name: &str, default: u64| {
            if has(name) {
                number(list, name)
            } else {
                default
            }
        };
        let p = Params {
            minimum_stake: num("minimum_stake", d.minimum_stake),
            retention_window_days: num("retention_window_days", d.retention_window_days),
            retention_target: num("retention_target", d.retention_target),
            max_multiplier: num("max_multiplier", d.max_multiplier),
            vesting_duration_days: num("vesting_duration_days", d.vesting_duration_days),
            vesting_interval_days: num("vesting_interval_days", d.vesting_interval_days),
            min_vesting_amount: num("min_vesting_amount", d.min_vesting_amount),
            blocks_per_day: num("blocks_per_day", d.blocks_per_day),
            holder: match text(list, "holder") {
                "hotkey" => HolderMode::Hotkey,
                _ => d.holder,
            },
            consume_order: match text(list, "consume_order") {
                "newest-first" => ConsumeOrder::NewestFirst,
                "oldest-first" => ConsumeOrder::OldestFirst,
                "manual-first" => ConsumeOrder::ManualFirst,
                _ => d.consume_order,
            },
            vested_counts_as_held: if has("vested_counts_as_held") {
                flag(list, "vested_counts_as_held")
            } else {
                d.vested_counts_as_held
            },
            unknown_miner_multiplier: num("unknown_miner_multiplier", d.unknown_miner_multiplier),
        };
        if p.unknown_miner_multiplier > p.max_multiplier {
            return Err(bad(format!(
                "unknown_miner_multiplier ({}) exceeds max_multiplier ({})",
                p.unknown_miner_multiplier, p.max_multiplier
            )));
        }
        Ok(p)
    }

    /// The parameters as a resolved list in schema order.
    pub fn to_list(&self) -> Vec<Param> {
        let value = |name: &str| -> ParamValue {
            match name {
                "minimum_stake" => ParamValue::Amount(self.minimum_stake),
                "retention_window_days" => ParamValue::Count(self.retention_window_days),
                "retention_target" => ParamValue::Fixed(self.retention_target),
                "max_multiplier" => ParamValue::Fixed(self.max_multiplier),
                "vesting_duration_days" => ParamValue::Count(self.vesting_duration_days),
                "vesting_interval_days" => ParamValue::Count(self.vesting_interval_days),
                "min_vesting_amount" => ParamValue::Amount(self.min_vesting_amount),
                "blocks_per_day" => ParamValue::Count(self.blocks_per_day),
                "holder" => ParamValue::Choice(
                    HOLDER_CHOICES[(self.holder == HolderMode::Hotkey) as usize].to_string(),
                ),
                "consume_order" => ParamValue::Choice(
                    ORDER_CHOICES[match self.consume_order {
                        ConsumeOrder::ManualFirst => 0,
                        ConsumeOrder::NewestFirst => 1,
                        ConsumeOrder::OldestFirst => 2,
                    }]
                    .to_string(),
                ),
                "vested_counts_as_held" => ParamValue::Flag(self.vested_counts_as_held),
                _ => ParamValue::Fixed(self.unknown_miner_multiplier),
            }
        };
        specs()
            .into_iter()
            .map(|s| Param {
                value: value(&s.name),
                name: s.name,
            })
            .collect()
    }

    /// The retention window in blocks.
    pub fn window_blocks(&self) -> u64 {
        self.retention_window_days
            .saturating_mul(self.blocks_per_day)
    }

    /// Blocks between vesting payments (at least 1).
    pub fn interval_blocks(&self) -> u64 {
        self.vesting_interval_days
            .saturating_mul(self.blocks_per_day)
            .max(1)
    }

    /// Number of vesting payments of a schedule: ceil(duration / interval), at least 1.
    pub fn payments(&self) -> u64 {
        self.vesting_duration_days
            .div_ceil(self.vesting_interval_days.max(1))
            .max(1)
    }

    /// The ledger a (hotkey, coldkey) position belongs to.
    pub fn holder_of(&self, hotkey: u32, coldkey: u32) -> u32 {
        match self.holder {
            HolderMode::Coldkey => coldkey,
            HolderMode::Hotkey => hotkey,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(name: &str, value: ParamValue) -> Param {
        Param {
            name: name.to_string(),
            value,
        }
    }

    #[test]
    fn defaults_are_the_seeds() {
        let params = Params::parse(&[]).unwrap();
        assert_eq!(params, Params::default());
        assert_eq!(params.minimum_stake, 300_000_000);
        assert_eq!(params.max_multiplier, 1_500_000_000);
        assert_eq!(params.payments(), 30);
        assert_eq!(params.window_blocks(), 216_000);
    }

    #[test]
    fn round_trips_through_a_list() {
        let params = Params {
            holder: HolderMode::Hotkey,
            consume_order: ConsumeOrder::OldestFirst,
            vested_counts_as_held: false,
            ..Params::default()
        };
        assert_eq!(Params::parse(&params.to_list()).unwrap(), params);
    }

    #[test]
    fn refuses_unknown_wrong_kind_out_of_range_and_twice() {
        let cases = [
            (
                vec![p("nope", ParamValue::Count(1))],
                "unknown parameter `nope`",
            ),
            (
                vec![p("max_multiplier", ParamValue::Count(2))],
                "takes a fixed value",
            ),
            (
                vec![p("max_multiplier", ParamValue::Fixed(ONE - 1))],
                "outside its range",
            ),
            (
                vec![p("holder", ParamValue::Choice("uid".into()))],
                "not one of",
            ),
            (
                vec![
                    p("blocks_per_day", ParamValue::Count(5)),
                    p("blocks_per_day", ParamValue::Count(5)),
                ],
                "given twice",
            ),
            (
                vec![p("unknown_miner_multiplier", ParamValue::Fixed(2 * ONE))],
                "exceeds max_multiplier",
            ),
        ];
        for (given, needle) in cases {
            let e = Params::parse(&given).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidParameter);
            assert!(e.message.contains(needle), "{} lacks {needle}", e.message);
        }
    }
}
