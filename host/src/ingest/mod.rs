//! The ingest: owns turning finalized blocks into stored history. A block's events become
//! stake flows ([`classify`]); epoch blocks are detected exactly and attributed through the
//! policy; every block is written with the checkpoint in one transaction ([`processor`]);
//! [`monitor`] follows finalized heads, reconnects with backoff and resumes from the
//! checkpoint; `backfill` catches up with reads pipelined ahead of the processing
//! (`prefetch` starts each block's state reads from its events); `apply` takes one block
//! into the monitor's state; [`polling`] paces the monitor by the next epoch when it polls
//! instead of subscribing.

mod apply;
mod backfill;
pub mod classify;
mod emission;
pub mod epoch_rule;
pub mod monitor;
pub mod polling;
mod prefetch;
pub mod processor;
pub mod shadow;
mod status;
mod window;

pub use monitor::{
    Monitor, MonitorConfig, MonitorMetrics, MonitorTask, Progress, StartAt, StopHandle, Timings,
};
pub use polling::Follow;
pub use processor::{Context, Tracker};

use crate::chain::ChainError;
use crate::policy::CallError;
use crate::store::StoreError;

/// Why ingesting stopped.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Chain(#[from] ChainError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("policy: {0}")]
    Policy(#[from] CallError),
    #[error("epoch detection: {0}")]
    Epoch(String),
    #[error("store content: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Config(String),
}

impl IngestError {
    /// Whether reconnecting and resuming can succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            IngestError::Chain(e) => e.is_transient(),
            // Another writer held the database past the busy timeout.
            IngestError::Store(StoreError::Sqlite {
                source: rusqlite::Error::SqliteFailure(e, _),
                ..
            }) => matches!(
                e.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests;
