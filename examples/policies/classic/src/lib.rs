//! An example policy: the Python system's last version, built from the default policy's
//! building blocks to show that a different policy drops into the host with no rebuild.
//!
//! It differs from the default policy in three ways:
//! - attribution counts any net gain of a position as earned (no residue on the plus side);
//! - outflows consume tranches newest first, manual or earned alike;
//! - the held fraction is remaining earned / earned (selling vested stake counts as selling).
//!
//! Holder mode, consumption order and vesting-sales rule are fixed; the seeds' seven
//! parameters (and blocks_per_day) remain configurable.
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;
use vesting_policy_default::attribution::{EarnedCap, attribute_with};
use vesting_policy_default::params::{
    ConsumeOrder, HolderMode, Params, resolve, specs as default_specs,
};
use vesting_policy_default::types::*;
use vesting_policy_default::{CONTRACT, Guest, holdings, ledger, multipliers, weights};

const OWN: &[&str] = &[
    "minimum_stake",
    "retention_window_days",
    "retention_target",
    "max_multiplier",
    "vesting_duration_days",
    "vesting_interval_days",
    "min_vesting_amount",
    "blocks_per_day",
];

/// The classic policy's schema: the seed parameters of the default schema.
pub fn specs() -> Vec<ParamSpec> {
    default_specs()
        .into_iter()
        .filter(|s| OWN.contains(&s.name.as_str()))
        .collect()
}

fn params(given: &[Param]) -> Result<Params, PolicyError> {
    let mut p = Params::from_resolved(&resolve(&specs(), given)?)?;
    p.holder = HolderMode::Coldkey;
    p.consume_order = ConsumeOrder::NewestFirst;
    p.vested_counts_as_held = false;
    Ok(p)
}

pub struct ClassicPolicy;

impl Guest for ClassicPolicy {
    fn info() -> PolicyInfo {
        PolicyInfo {
            name: String::from("classic"),
            version: String::from(env!("CARGO_PKG_VERSION")),
            contract: String::from(CONTRACT),
            description: String::from(
                "The seeds' last version: newest-first tranches, held = remaining / earned.",
            ),
            params: specs(),
        }
    }

    fn resolve_params(given: Vec<Param>) -> Result<Vec<Param>, PolicyError> {
        params(&given)?;
        resolve(&specs(), &given)
    }

    fn attribute(
        p: Vec<Param>,
        input: AttributionInput,
    ) -> Result<Vec<PositionAttribution>, PolicyError> {
        attribute_with(&params(&p)?, &input, EarnedCap::AnyGain)
    }

    fn ledger_step(p: Vec<Param>, input: LedgerInput) -> Result<LedgerOutput, PolicyError> {
        ledger::step(&params(&p)?, input)
    }

    fn holdings(p: Vec<Param>, input: HoldingsInput) -> Result<Vec<Holding>, PolicyError> {
        holdings::holdings(&params(&p)?, &input)
    }

    fn multipliers(
        p: Vec<Param>,
        input: MultipliersInput,
    ) -> Result<Vec<MinerMultiplier>, PolicyError> {
        multipliers::multipliers(&params(&p)?, &input)
    }

    fn apply_weights(p: Vec<Param>, input: WeightsInput) -> Result<WeightsOutput, PolicyError> {
        weights::apply(&params(&p)?, &input)
    }
}

#[cfg(target_arch = "wasm32")]
vesting_policy_default::export!(ClassicPolicy);
