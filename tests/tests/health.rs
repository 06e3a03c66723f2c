//! Health that cannot lie, through the real `vesting run` against a devnet: the database
//! fills up (SQLite's `max_page_count` on the monitor's connection, through the test-only
//! `VESTING_TEST_DB_FAULT` file: no root, no mount). The failure is logged at once with
//! what to do and counted; `/health` answers 503 with the reason; `POST /weights/apply`
//! refuses stale multipliers unless the request allows them, and says how fresh they are.
//! When the fault clears, the monitor resumes at its checkpoint and `/health` answers 200.

use std::time::{Duration, Instant};
use vesting_e2e::ops::{Ops, Options, request};
use vesting_e2e::proc::wait_for;

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

/// A weights request for every miner with a multiplier (`query`: e.g. `?allow_stale=true`).
fn apply(ops: &Ops, query: &str) -> vesting_e2e::ops::Raw {
    let (_, rows) = ops.get("/multipliers");
    let rows = json(&rows);
    let rows = rows.as_array().expect("multipliers");
    let uids: Vec<u64> = rows.iter().map(|m| m["uid"].as_u64().unwrap()).collect();
    let hotkeys: Vec<&str> = rows.iter().map(|m| m["hotkey"].as_str().unwrap()).collect();
    let body = serde_json::json!({
        "uids": uids, "weights": vec![1.0; uids.len()], "hotkeys": hotkeys
    })
    .to_string();
    request(
        ops.api,
        &format!(
            "POST /weights/apply{query} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: \
             application/json\r\nContent-Length: {}\r\nConnection: close",
            body.len()
        ),
        body.as_bytes(),
    )
    .expect("an answer")
}

#[test]
fn a_full_disk_turns_health_503_and_back_to_200_when_it_clears() {
    let fault = std::env::temp_dir().join(format!("vesting-db-fault-{}", std::process::id()));
    // The database may grow 400 pages (about 25 s of the tiny scenario at 20 ms blocks)
    // past its size when the monitor opens it.
    std::fs::write(&fault, "+400").unwrap();
    let ops = Ops::start(
        "health-disk-full",
        Options {
            config: "block_time_ms = 20\nquery_interval_seconds = 1\nmax_lag_blocks = 250\n\
                     max_decision_age_seconds = 60\n",
            env: vec![("VESTING_TEST_DB_FAULT", fault.display().to_string())],
            ..Options::default()
        },
    );
    // Healthy, with multipliers.
    wait_for("healthy with a decision", Duration::from_secs(120), || {
        let (status, body) = ops.get("/health");
        status == 200 && json(&body)["decision_block"].is_u64()
    });
    let (_, h) = ops.get("/health");
    let h = json(&h);
    assert_eq!(h["status"], "ok", "{h}");
    assert!(
        h["monitor"] == "following" || h["monitor"] == "catching_up",
        "{h}"
    );
    assert!(
        h["lag_blocks"].is_u64() && h["decision_age_seconds"].is_u64(),
        "{h}"
    );
    let fresh = apply(&ops, "");
    assert_eq!(fresh.status, 200, "{}", fresh.body);
    assert_eq!(fresh.header("x-vesting-freshness"), Some("fresh"));
    assert!(fresh.header("x-vesting-decision-age-seconds").is_some());
    let out = json(&fresh.body);
    assert_eq!(out["freshness"]["status"], "ok", "{out}");
    assert!(out["weights"].is_array(), "{out}");

    // The disk fills: logged and counted at once, then 503 with the reason.
    let mut failed_at = Instant::now();
    wait_for(
        "the monitor's first failure",
        Duration::from_secs(180),
        || {
            failed_at = Instant::now();
            ops.metric("vesting_monitor_failures_total") > 0.0
        },
    );
    let mut body = serde_json::Value::Null;
    wait_for("/health to answer 503", Duration::from_secs(60), || {
        let (status, b) = ops.get("/health");
        body = json(&b);
        status == 503
    });
    let detected = failed_at.elapsed();
    eprintln!(
        "disk full: /health answered 503 {:.1} s after the first failure was counted \
         (max_lag_blocks = 250 at 20 ms blocks): {body}",
        detected.as_secs_f64()
    );
    assert_eq!(body["status"], "unavailable", "{body}");
    let reason = body["error"].as_str().expect("an error");
    assert!(reason.contains("disk is full"), "{body}");
    assert!(
        body["monitor_error"]
            .as_str()
            .is_some_and(|e| e.contains("disk is full")),
        "{body}"
    );
    assert!(
        body["monitor"] == "retrying" || body["monitor"] == "catching_up",
        "{body}"
    );
    let log = ops.log_text();
    let line = log
        .lines()
        .find(|l| l.contains("ERROR") && l.contains("disk is full"))
        .unwrap_or_else(|| panic!("no error line about the full disk in:\n{log}"));
    assert!(line.contains("free space"), "{line}");
    assert_eq!(ops.metric("vesting_healthy"), 0.0);
    assert!(ops.metric("vesting_monitor_restarts_total") >= 1.0);

    // Weights refuse stale multipliers unless the request allows them.
    let stale = apply(&ops, "");
    assert_eq!(stale.status, 503, "{}", stale.body);
    assert_eq!(stale.header("x-vesting-freshness"), Some("stale"));
    let refused = json(&stale.body);
    assert!(
        refused["error"]
            .as_str()
            .is_some_and(|e| e.contains("stale") && e.contains("allow_stale")),
        "{refused}"
    );
    let allowed = apply(&ops, "?allow_stale=true");
    assert_eq!(allowed.status, 200, "{}", allowed.body);
    assert_eq!(allowed.header("x-vesting-freshness"), Some("stale"));
    let out = json(&allowed.body);
    assert_eq!(out["freshness"]["status"], "unavailable", "{out}");
    assert!(out["weights"].is_array(), "{out}");
    assert!(ops.metric("vesting_apply_stale_refused_total") >= 1.0);
    let stuck_at = body["last_block"].as_u64().expect("a checkpoint");

    // The fault clears: the monitor resumes at its checkpoint, /health answers 200 again.
    std::fs::remove_file(&fault).unwrap();
    let cleared = Instant::now();
    let mut last = serde_json::Value::Null;
    wait_for("/health back to 200", Duration::from_secs(120), || {
        let (status, b) = ops.get("/health");
        last = json(&b);
        status == 200
    });
    eprintln!(
        "fault cleared: /health answered 200 again after {:.1} s: {last}",
        cleared.elapsed().as_secs_f64()
    );
    assert!(last["last_block"].as_u64().unwrap() > stuck_at, "{last}");
    assert!(last.get("monitor_error").is_none(), "{last}");
    assert_eq!(ops.metric("vesting_healthy"), 1.0);
    assert_eq!(apply(&ops, "").status, 200);
}

#[test]
fn a_node_gone_is_retried_logged_and_turns_health_503() {
    let mut ops = Ops::start(
        "health-node-gone",
        Options {
            config: "block_time_ms = 20\nmax_decision_age_seconds = 10\nmax_lag_blocks = 250\n",
            ..Options::default()
        },
    );
    wait_for("healthy with a decision", Duration::from_secs(120), || {
        let (status, body) = ops.get("/health");
        status == 200 && json(&body)["decision_block"].is_u64()
    });
    ops.stop_devnet();
    let gone = Instant::now();
    let mut body = serde_json::Value::Null;
    wait_for("/health to answer 503", Duration::from_secs(120), || {
        let (status, b) = ops.get("/health");
        body = json(&b);
        status == 503
    });
    eprintln!(
        "node gone: /health answered 503 {:.1} s after the node was killed \
         (max_decision_age_seconds = 10 at 20 ms blocks): {body}",
        gone.elapsed().as_secs_f64()
    );
    assert_eq!(body["monitor"], "retrying", "{body}");
    assert!(body["monitor_error"].is_string(), "{body}");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("max_decision_age_seconds")),
        "{body}"
    );
    assert!(ops.metric("vesting_monitor_failures_total") >= 2.0);
    wait_for(
        "an error line about the node",
        Duration::from_secs(30),
        || {
            ops.log_text()
                .lines()
                .any(|l| l.contains("ERROR") && l.contains("check that the node is up"))
        },
    );
    // The service itself keeps answering.
    assert_eq!(ops.get("/multipliers").0, 200);
}
