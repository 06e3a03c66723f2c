//! The monitor's live figures and state (`/metrics`, `/health`): owns the counters a
//! running monitor updates (blocks, heads, epochs and their time, failures, reconnects)
//! and what it is doing (starting, catching up, following, retrying, stopped).

use std::sync::atomic::{AtomicU64, Ordering};

/// Live figures of a running monitor (the service's `/metrics`).
#[derive(Debug, Default)]
pub struct MonitorMetrics {
    /// Blocks processed by this process.
    pub blocks: AtomicU64,
    /// The last block written.
    pub last_block: AtomicU64,
    /// The highest finalized head seen.
    pub finalized_head: AtomicU64,
    /// Epoch blocks processed and the time spent on them (reads and policy calls).
    pub epochs: AtomicU64,
    pub epoch_nanos: AtomicU64,
    /// Blocks where the policy in service failed and the built-in one processed it.
    pub policy_failures: AtomicU64,
    /// Connection errors that led to a reconnect.
    pub reconnects: AtomicU64,
    /// What the monitor is doing (a [`MonitorState`] as u8).
    pub state: std::sync::atomic::AtomicU8,
    /// When the node last reported the finalized head (ms since the Unix epoch; 0: never).
    pub head_seen_ms: AtomicU64,
    /// Errors the monitor hit (each retried transient error, and the last one).
    pub failures: AtomicU64,
    /// The latest error, until the monitor writes a block again.
    pub last_error: std::sync::Mutex<Option<String>>,
}

/// What a monitor is doing, as `/health` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MonitorState {
    /// Not started yet, or connecting for the first time.
    Starting = 0,
    /// Writing blocks between the checkpoint and the finalized head.
    CatchingUp = 1,
    /// At the finalized head, writing each block as it is finalized.
    Following = 2,
    /// Waiting to retry after an error (`last_error`).
    Retrying = 3,
    /// Ended: stopped on request or on an error that retrying cannot fix.
    Stopped = 4,
}

impl MonitorMetrics {
    pub fn state(&self) -> MonitorState {
        match self.state.load(Ordering::Relaxed) {
            1 => MonitorState::CatchingUp,
            2 => MonitorState::Following,
            3 => MonitorState::Retrying,
            4 => MonitorState::Stopped,
            _ => MonitorState::Starting,
        }
    }

    pub fn set_state(&self, s: MonitorState) {
        self.state.store(s as u8, Ordering::Relaxed);
    }

    /// The node reported `head` as finalized, now.
    pub fn saw_head(&self, head: u64) {
        self.finalized_head.fetch_max(head, Ordering::Relaxed);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        self.head_seen_ms.store(now, Ordering::Relaxed);
    }

    /// Records an error (counted; kept as the latest until a block is written again).
    pub fn failed(&self, error: &str) {
        self.failures.fetch_add(1, Ordering::Relaxed);
        *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(error.to_string());
    }

    /// A block was written: the latest error is over.
    pub fn wrote(&self) {
        if let Ok(mut e) = self.last_error.lock()
            && e.is_some()
        {
            *e = None;
        }
    }

    /// The latest error, if no block was written since.
    pub fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}
