//! The vesting service: owns the lifecycle of a running system (`VestingSystem`): the
//! policy in service, the background monitor, and answering weight requests from the
//! store's latest multipliers. The CLI and the HTTP API sit on top of it.

mod config;
pub mod dashboard_data;
pub mod durations;
pub mod explain;
pub mod stats;
mod supervisor;
mod system;
pub mod wiring;

pub use config::{VestingConfig, nano};
pub use stats::{MinerStats, VestingStats};
pub use system::{Health, HttpMetrics, Metrics, VestingSystem};

#[cfg(test)]
mod tests;
