//! Prometheus text exposition of the service's counters and the policy's usage.

use super::S;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use std::fmt::Write;
use std::sync::atomic::Ordering;

pub async fn render(State(s): S) -> impl IntoResponse {
    let m = s.metrics();
    let policy = s.policy();
    let (fuel, calls) = policy.usage();
    let stats = s.get_vesting_stats().ok();
    let mut out = String::new();
    let mut line = |name: &str, help: &str, kind: &str, value: String| {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
        );
    };
    line(
        "vesting_last_block",
        "Last finalized block written to the store.",
        "gauge",
        stats
            .as_ref()
            .and_then(|s| s.last_block)
            .unwrap_or(0)
            .to_string(),
    );
    line(
        "vesting_epochs_total",
        "Epoch boundaries recorded.",
        "counter",
        stats.as_ref().map_or(0, |s| s.epochs).to_string(),
    );
    line(
        "vesting_apply_requests_total",
        "Weight requests answered.",
        "counter",
        m.apply_requests.load(Ordering::Relaxed).to_string(),
    );
    line(
        "vesting_apply_refused_total",
        "Weight requests refused for bad input.",
        "counter",
        m.apply_refused.load(Ordering::Relaxed).to_string(),
    );
    line(
        "vesting_apply_seconds_total",
        "Time spent answering weight requests.",
        "counter",
        format!("{:.6}", m.apply_nanos.load(Ordering::Relaxed) as f64 / 1e9),
    );
    line(
        "vesting_policy_failures_total",
        "Calls where the policy in service failed.",
        "counter",
        m.policy_failures.load(Ordering::Relaxed).to_string(),
    );
    let mon = &m.monitor;
    let (head, last) = (
        mon.finalized_head.load(Ordering::Relaxed),
        mon.last_block.load(Ordering::Relaxed),
    );
    line(
        "vesting_blocks_processed_total",
        "Blocks the monitor processed since the service started.",
        "counter",
        mon.blocks.load(Ordering::Relaxed).to_string(),
    );
    line(
        "vesting_finalized_head",
        "The highest finalized block the node reported.",
        "gauge",
        head.to_string(),
    );
    line(
        "vesting_lag_blocks",
        "Finalized blocks not yet processed.",
        "gauge",
        head.saturating_sub(last).to_string(),
    );
    line(
        "vesting_epochs_processed_total",
        "Epoch blocks the monitor processed since the service started.",
        "counter",
        mon.epochs.load(Ordering::Relaxed).to_string(),
    );
    line(
        "vesting_epoch_processing_seconds_total",
        "Time spent on epoch blocks (chain reads and policy calls).",
        "counter",
        format!(
            "{:.6}",
            mon.epoch_nanos.load(Ordering::Relaxed) as f64 / 1e9
        ),
    );
    line(
        "vesting_ingest_policy_failures_total",
        "Blocks the policy in service failed on (the built-in policy processed them).",
        "counter",
        mon.policy_failures.load(Ordering::Relaxed).to_string(),
    );
    line(
        "vesting_reconnects_total",
        "Reconnects to the node after connection errors.",
        "counter",
        mon.reconnects.load(Ordering::Relaxed).to_string(),
    );
    line(
        "vesting_policy_call_seconds_total",
        "Time spent in calls of the policy in service.",
        "counter",
        format!("{:.6}", policy.call_time().as_secs_f64()),
    );
    line(
        "vesting_policy_calls_total",
        "Calls of the policy in service.",
        "counter",
        calls.to_string(),
    );
    line(
        "vesting_policy_fuel_total",
        "Fuel burnt by the policy in service.",
        "counter",
        fuel.to_string(),
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out)
}
