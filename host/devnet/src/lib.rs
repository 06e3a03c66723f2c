//! vesting-devnet: a simulated local Subtensor (Bittensor) chain. It serves finney
//! metadata (V14, V15 and V16) of runtimes 393, 424 and 459, upgrading at scripted blocks
//! (`runtime`), over the legacy Substrate JSON-RPC, with
//! a deterministic chain model of subnets, neurons, share-pool stake, epochs and
//! emission, forks and pruning, scenario files, and control methods that expose the
//! ground truth of every position's earnings.
//!
//! Start one with [`start`] (tests, `vesting demo`) or [`run`] (`vesting devnet`).

pub mod accounts;
pub mod api_info;
pub mod chain;
pub mod encode;
pub mod error;
pub mod events;
pub mod extrinsic;
pub mod hashing;
pub mod metadata;
pub mod model;
pub mod modelled;
pub mod neuron_scores;
pub mod neuron_storage;
pub mod rpc;
pub mod runtime;
pub mod runtime_api;
pub mod runtime_storage;
pub mod scenario;
mod scenario_driver;
mod scenario_genesis;
mod scenario_mech;
mod scenario_runtime;
mod scenario_spec;
#[cfg(test)]
mod scenario_tests;
mod scenario_validate;
#[cfg(test)]
mod served_tests;
mod server;
mod spec459;
#[cfg(test)]
mod spec459_tests;
pub mod storage;
pub mod tx;
#[cfg(test)]
mod upgrades_tests;

pub use chain::{Chain, Pruning};
pub use error::DevnetError;
pub use model::{Action, ChainState, TruthEntry, TruthKind, named_account};
pub use scenario::Scenario;
pub use server::{DevnetArgs, DevnetConfig, DevnetHandle, build_chain, run, start};
