//! Prometheus text exposition of the service's counters and the policy's usage.

use super::S;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use std::fmt::Write;
use std::sync::atomic::Ordering;

pub async fn render(State(s): S) -> impl IntoResponse {
    let system = s.clone();
    let (stats, health) = tokio::task::spawn_blocking(move || {
        (system.get_vesting_stats().ok(), system.health().ok())
    })
    .await
    .unwrap_or((None, None));
    let m = s.metrics();
    let policy = s.policy();
    let (fuel, calls) = policy.usage();
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
    line(
        "vesting_healthy",
        "1 when /health answers 200 (monitor running, within max_lag_blocks and max_decision_age_seconds), else 0.",
        "gauge",
        u8::from(health.as_ref().is_some_and(|h| h.ok())).to_string(),
    );
    line(
        "vesting_monitor_state",
        "The monitor: 0 starting, 1 catching up, 2 following, 3 retrying after an error, 4 stopped.",
        "gauge",
        (mon.state() as u8).to_string(),
    );
    line(
        "vesting_monitor_failures_total",
        "Errors the monitor hit (each is logged at error or warn level and retried when it can pass).",
        "counter",
        mon.failures.load(Ordering::Relaxed).to_string(),
    );
    line(
        "vesting_monitor_restarts_total",
        "Monitors started again after an error that can pass (disk full, read-only or locked database, I/O).",
        "counter",
        m.monitor_restarts.load(Ordering::Relaxed).to_string(),
    );
    line(
        "vesting_decision_age_seconds",
        "Age of the latest epoch decision (the multipliers in use); -1 when there is none.",
        "gauge",
        health
            .as_ref()
            .and_then(|h| h.decision_age_seconds)
            .map_or("-1".into(), |a| a.to_string()),
    );
    line(
        "vesting_head_seen_seconds",
        "Seconds since the node last reported its finalized head; -1 before it ever did.",
        "gauge",
        health
            .as_ref()
            .and_then(|h| h.head_seen_seconds_ago)
            .map_or("-1".into(), |a| a.to_string()),
    );
    line(
        "vesting_apply_stale_refused_total",
        "Weight requests refused (503) because the multipliers were stale.",
        "counter",
        m.apply_stale_refused.load(Ordering::Relaxed).to_string(),
    );
    let http = &m.http;
    line(
        "vesting_http_connections",
        "HTTP connections open.",
        "gauge",
        http.connections.load(Ordering::Relaxed).to_string(),
    );
    line(
        "vesting_http_connections_evicted_total",
        "Idle HTTP connections closed to make room at api_max_connections.",
        "counter",
        http.evicted.load(Ordering::Relaxed).to_string(),
    );
    line(
        "vesting_http_connections_refused_total",
        "HTTP connections closed at once: api_max_connections were open, each with a request in progress.",
        "counter",
        http.refused.load(Ordering::Relaxed).to_string(),
    );
    line(
        "vesting_http_requests_shed_total",
        "Requests answered 503 at once: api_max_requests were in progress.",
        "counter",
        http.shed.load(Ordering::Relaxed).to_string(),
    );
    line(
        "vesting_http_requests_in_progress",
        "Requests holding one of the api_max_requests slots now (this one included).",
        "gauge",
        http.in_progress.load(Ordering::Relaxed).to_string(),
    );
    line(
        "vesting_http_request_timeouts_total",
        "Requests answered 408: not read and answered within the request timeout.",
        "counter",
        http.timeouts.load(Ordering::Relaxed).to_string(),
    );
    http.durations.render(
        "vesting_http_request_duration_seconds",
        "Time per HTTP request by route, measured in the server (from routing to the answer's headers).",
        &mut out,
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out)
}
