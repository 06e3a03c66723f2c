//! The default vesting policy: reward attribution, the vesting ledger, holding metrics,
//! multipliers and weights, as pure deterministic functions of their inputs.
//!
//! On wasm32 the crate is `no_std` so that its wasm32-wasip2 component imports nothing but the
//! contract (`wit/vesting.wit`): a host grants it no capabilities. The same crate builds
//! natively, so hosts and tests can compare the component with native code bit for bit.
//! Its economics are documented in `plugin/README.md`.
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;
// Lets the exported `export!` macro name this crate the same way inside and outside it.
extern crate self as vesting_policy_default;

wit_bindgen::generate!({
    path: "../wit",
    world: "vesting-policy",
    additional_derives: [serde::Serialize, serde::Deserialize, PartialEq, Clone],
    pub_export_macro: true,
    default_bindings_module: "vesting_policy_default",
});

pub mod accounts;
pub mod attribution;
pub mod fixed;
pub mod holdings;
pub mod ledger;
pub mod multipliers;
pub mod params;
mod params_fast;
#[cfg(target_arch = "wasm32")]
mod runtime;
pub mod tranches;
pub mod weights;

pub use bittensor::vesting::types;
pub use exports::bittensor::vesting::policy::Guest;
pub use params::Params;

use alloc::string::String;
use alloc::vec::Vec;
use types::*;

/// The contract this crate implements.
pub const CONTRACT: &str = "bittensor:vesting@0.2.0";

/// A typed error for the contract's `policy-error`.
pub fn error(code: ErrorCode, message: impl Into<String>) -> PolicyError {
    PolicyError {
        code,
        message: message.into(),
    }
}

/// The default policy, as the component exports it.
pub struct DefaultPolicy;

impl Guest for DefaultPolicy {
    fn info() -> PolicyInfo {
        PolicyInfo {
            name: String::from("default"),
            version: String::from(env!("CARGO_PKG_VERSION")),
            contract: String::from(CONTRACT),
            description: String::from(
                "Exact attribution with residue; vesting ledger with bucketed tranches, \
                 manual stake consumed first; vested sales do not count as selling; \
                 m = 1 + sqrt(pf * df) * (max - 1).",
            ),
            params: params::specs(),
        }
    }

    fn resolve_params(params: Vec<Param>) -> Result<Vec<Param>, PolicyError> {
        Params::parse(&params).map(|p| p.to_list())
    }

    fn attribute(
        params: Vec<Param>,
        input: AttributionInput,
    ) -> Result<Vec<PositionAttribution>, PolicyError> {
        attribution::attribute(&Params::parse(&params)?, &input)
    }

    fn ledger_step(params: Vec<Param>, input: LedgerInput) -> Result<LedgerOutput, PolicyError> {
        ledger::step(&Params::parse(&params)?, input)
    }

    fn holdings(params: Vec<Param>, input: HoldingsInput) -> Result<Vec<Holding>, PolicyError> {
        holdings::holdings(&Params::parse(&params)?, &input)
    }

    fn multipliers(
        params: Vec<Param>,
        input: MultipliersInput,
    ) -> Result<Vec<MinerMultiplier>, PolicyError> {
        multipliers::multipliers(&Params::parse(&params)?, &input)
    }

    fn apply_weights(
        params: Vec<Param>,
        input: WeightsInput,
    ) -> Result<WeightsOutput, PolicyError> {
        weights::apply(&Params::parse(&params)?, &input)
    }
}

#[cfg(all(target_arch = "wasm32", feature = "export"))]
export!(DefaultPolicy);

#[cfg(test)]
mod tests;
