//! The policy runtime: owns loading a policy component, checking it against the contract,
//! running it under fuel and memory limits in a fresh store per call, and turning every
//! failure (trap, limit, typed refusal) into an error that names the policy and the
//! function. It never lets a policy crash or hang the host.

mod bindings;
mod builtin;
pub mod check;
pub mod contract;
pub mod decision;
mod engine;
mod error;
pub mod invariants;
mod loaded;
pub mod sample;
pub mod vectors;

pub use bindings::*;
pub use builtin::{CONTRACT_VECTORS, DEFAULT_POLICY_WASM};
pub use engine::{Limits, PolicyEngine, default_cache_dir};
pub use error::{CallError, Failure, LoadError};
pub use loaded::Policy;

/// The contract new policies implement (the host also runs `bittensor:vesting@0.1.0`).
pub const CONTRACT: &str = "bittensor:vesting@0.2.0";
/// 1.0 in the contract's fixed point.
pub const ONE: u64 = 1_000_000_000;

#[cfg(test)]
mod tests;
