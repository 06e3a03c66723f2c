//! Policies that break the contract's rules, for the host's tests: built with feature
//! `spin` (never returns), `hog` (allocates without bound) or `invalid` (weights that
//! do not sum to 1.0, multipliers above the maximum). Everything else is the default
//! policy.
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

use alloc::vec::Vec;
use vesting_policy_default::types::*;
use vesting_policy_default::{DefaultPolicy, Guest};

/// What the misbehaving functions do instead of their work.
fn misbehave() {
    if cfg!(feature = "spin") {
        let mut x: u64 = 1;
        loop {
            x = core::hint::black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1));
        }
    }
    if cfg!(feature = "hog") {
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            hoard.push(alloc::vec![7u8; 1 << 20]);
            core::hint::black_box(&hoard);
        }
    }
}

pub struct Misbehaving;

impl Guest for Misbehaving {
    fn info() -> PolicyInfo {
        let mut info = DefaultPolicy::info();
        info.name = alloc::string::String::from("misbehaving");
        info
    }
    fn resolve_params(p: Vec<Param>) -> Result<Vec<Param>, PolicyError> {
        DefaultPolicy::resolve_params(p)
    }
    fn attribute(
        p: Vec<Param>,
        i: AttributionInput,
    ) -> Result<Vec<PositionAttribution>, PolicyError> {
        DefaultPolicy::attribute(p, i)
    }
    fn ledger_step(p: Vec<Param>, i: LedgerInput) -> Result<LedgerOutput, PolicyError> {
        DefaultPolicy::ledger_step(p, i)
    }
    fn holdings(p: Vec<Param>, i: HoldingsInput) -> Result<Vec<Holding>, PolicyError> {
        DefaultPolicy::holdings(p, i)
    }
    fn multipliers(
        p: Vec<Param>,
        i: MultipliersInput,
    ) -> Result<Vec<MinerMultiplier>, PolicyError> {
        misbehave();
        let mut out = DefaultPolicy::multipliers(p, i)?;
        if cfg!(feature = "invalid") {
            for m in &mut out {
                m.multiplier = u64::MAX;
            }
        }
        Ok(out)
    }
    fn apply_weights(p: Vec<Param>, i: WeightsInput) -> Result<WeightsOutput, PolicyError> {
        // Typed refusals of bad input still work, so only the dry run can tell.
        let mut out = DefaultPolicy::apply_weights(p, i)?;
        if out.weights.len() > 2 {
            misbehave();
            if cfg!(feature = "invalid") {
                out.weights[0] = out.weights[0].wrapping_add(12_345);
            }
        }
        Ok(out)
    }
}

#[cfg(target_arch = "wasm32")]
vesting_policy_default::export!(Misbehaving);
