//! `/health`'s answer: how fresh the multipliers are (the monitor's state, its lag behind
//! the finalized head, the latest decision's age, each against its bound) and whether the
//! service is fit to answer weight requests.

use super::VestingSystem;
use crate::ingest::monitor::MonitorState;
use serde::Serialize;
use std::sync::atomic::Ordering;

/// How fresh the multipliers are, and whether the service is fit to answer: what
/// `/health` reports and `POST /weights/apply` carries.
#[derive(Clone, Debug, Serialize)]
pub struct Health {
    /// "ok", or "unavailable" (then `reason` says why).
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// starting, catching_up, following, retrying or stopped.
    pub monitor: MonitorState,
    /// The monitor's latest error, until it writes a block again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monitor_error: Option<String>,
    /// Errors the monitor hit since the service started.
    pub monitor_failures: u64,
    /// The last finalized block written to the store.
    pub last_block: Option<u64>,
    /// The highest finalized block the node reported.
    pub finalized_head: Option<u64>,
    /// Seconds since the node last reported its finalized head.
    pub head_seen_seconds_ago: Option<u64>,
    /// Finalized blocks not yet written.
    pub lag_blocks: Option<u64>,
    /// The block of the latest epoch decision (the multipliers in use).
    pub decision_block: Option<u64>,
    /// Its age: blocks up to the finalized head times `block_time_ms`, plus the time since
    /// the node reported that head.
    pub decision_age_seconds: Option<u64>,
    pub max_lag_blocks: u64,
    pub max_decision_age_seconds: u64,
}

impl Health {
    pub fn ok(&self) -> bool {
        self.reason.is_none()
    }
}

impl VestingSystem {
    /// How fresh the multipliers are and whether the service is fit to answer weight
    /// requests: the monitor's state, its lag behind the finalized head, the age of the
    /// latest epoch decision, each against its bound. Reads the store (blocking).
    pub fn health(&self) -> anyhow::Result<Health> {
        let m = &self.metrics.monitor;
        let cfg = &self.config;
        let running = self.monitor_running();
        let state = if running {
            m.state()
        } else {
            MonitorState::Stopped
        };
        let last_block = self.read(|s| s.checkpoint())?.map(|c| c.block);
        let decision_block = self.latest()?.first().map(|r| r.block);
        let head = Some(m.finalized_head.load(Ordering::Relaxed)).filter(|h| *h > 0);
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let seen_ms = m.head_seen_ms.load(Ordering::Relaxed);
        let seen_ago = head.map(|_| now_ms.saturating_sub(seen_ms) / 1000);
        let lag = head.map(|h| h.saturating_sub(last_block.unwrap_or(0)));
        let decision_age = match (head, decision_block) {
            (Some(h), Some(d)) => Some(
                h.saturating_sub(d).saturating_mul(cfg.block_time_ms) / 1000
                    + seen_ago.unwrap_or(0),
            ),
            _ => None,
        };
        let error = m.last_error();
        let with_error = |r: String| match &error {
            Some(e) => format!("{r}; the monitor's latest error: {e}"),
            None => r,
        };
        let reason = if !running {
            Some(match (&error, self.background_started()) {
                (_, false) => "the monitor is not running (use_background_thread is off)".into(),
                (Some(e), true) => format!("the monitor stopped: {e}"),
                (None, true) => "the monitor stopped".into(),
            })
        } else if head.is_none() {
            Some(with_error(
                "the monitor has not heard of the node's finalized head yet".into(),
            ))
        } else if let Some(l) = lag.filter(|l| *l > cfg.max_lag_blocks) {
            Some(with_error(format!(
                "the store is {l} finalized blocks behind the node (max_lag_blocks = {})",
                cfg.max_lag_blocks
            )))
        } else if let Some(a) = decision_age.filter(|a| *a > cfg.max_decision_age_seconds) {
            Some(with_error(format!(
                "the latest epoch decision (block #{}) is {a} s old (max_decision_age_seconds = {})",
                decision_block.unwrap_or(0),
                cfg.max_decision_age_seconds
            )))
        } else if decision_block.is_none()
            && self.started.elapsed().as_secs() > cfg.max_decision_age_seconds
        {
            Some(with_error(format!(
                "no epoch decision was recorded in the {} s since the service started \
                 (max_decision_age_seconds = {})",
                self.started.elapsed().as_secs(),
                cfg.max_decision_age_seconds
            )))
        } else {
            None
        };
        Ok(Health {
            status: if reason.is_none() {
                "ok"
            } else {
                "unavailable"
            },
            reason,
            monitor: state,
            monitor_error: error,
            monitor_failures: m.failures.load(Ordering::Relaxed),
            last_block,
            finalized_head: head,
            head_seen_seconds_ago: seen_ago,
            lag_blocks: lag,
            decision_block,
            decision_age_seconds: decision_age,
            max_lag_blocks: cfg.max_lag_blocks,
            max_decision_age_seconds: cfg.max_decision_age_seconds,
        })
    }
}
