//! The service end to end: the real `vesting devnet` and `vesting run` processes, the HTTP
//! API over loopback (stats, multipliers, weights, errors, metrics), and the demo command.

use std::time::Duration;
use vesting_e2e::proc::{Service, free_port, http, http_raw, wait_for};
use vesting_e2e::vesting;

#[test]
fn run_serves_multipliers_and_weights_over_http() {
    let service = Service::start("run", None);
    let api = service.api;
    // Multipliers can appear before the first epoch (a registration between epochs writes
    // its uid's row), so wait for an epoch boundary to be stored, then read them.
    wait_for("the first epoch", Duration::from_secs(180), || {
        http(api, "GET", "/stats", "")
            .and_then(|(_, b)| serde_json::from_str::<serde_json::Value>(&b).ok())
            .and_then(|s| s["epochs"].as_u64())
            .is_some_and(|e| e >= 1)
            && http(api, "GET", "/metrics", "")
                .is_some_and(|(_, m)| !m.contains("vesting_epochs_processed_total 0\n"))
    });
    let multipliers: serde_json::Value = http(api, "GET", "/multipliers", "")
        .map(|(_, b)| serde_json::from_str(&b).unwrap_or_default())
        .unwrap();
    assert!(
        multipliers.as_array().is_some_and(|a| !a.is_empty()),
        "no multipliers after the first epoch: {multipliers}"
    );
    let rows = multipliers.as_array().unwrap();
    for m in rows {
        assert!(m["multiplier"].as_u64().unwrap() <= 1_500_000_000, "{m}");
    }
    let uids: Vec<u64> = rows.iter().map(|m| m["uid"].as_u64().unwrap()).collect();
    let hotkeys: Vec<&str> = rows.iter().map(|m| m["hotkey"].as_str().unwrap()).collect();
    let weights: Vec<f64> = uids.iter().map(|_| 1.0).collect();
    let body =
        serde_json::json!({ "uids": uids, "weights": weights, "hotkeys": hotkeys }).to_string();
    let (status, out) = http(api, "POST", "/weights/apply", &body).unwrap();
    assert_eq!(status, 200, "{out}");
    let out: serde_json::Value = serde_json::from_str(&out).unwrap();
    let sum: u64 = out["weights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_u64().unwrap())
        .sum();
    assert!(sum == 1_000_000_000 || sum == 0, "weights sum to {sum}");
    // Bad requests: a 4xx with a JSON error naming the problem.
    let (status, out) = http(
        api,
        "POST",
        "/weights/apply",
        r#"{"uids":[1,1],"weights":[1,1],"hotkeys":["a","b"]}"#,
    )
    .unwrap();
    assert_eq!(status, 422, "{out}");
    assert!(out.contains("uid 1 appears at positions 0 and 1"), "{out}");
    let (status, out) = http(api, "POST", "/weights/apply", r#"{"uids":[1]}"#).unwrap();
    assert!((400..500).contains(&status), "{status} {out}");
    assert!(out.contains("error") && out.contains("weights"), "{out}");
    let big = format!(
        r#"{{"uids":[{}],"weights":[],"hotkeys":[]}}"#,
        "1,".repeat(600_000) + "1"
    );
    let (status, _) = http(api, "POST", "/weights/apply", &big).unwrap();
    assert_eq!(status, 413, "an oversized body is refused");
    let (status, out) = http(api, "GET", "/miners/no-such-hotkey", "").unwrap();
    assert_eq!(status, 404, "{out}");
    let (status, stats) = http(api, "GET", "/stats", "").unwrap();
    assert_eq!(status, 200);
    let stats: serde_json::Value = serde_json::from_str(&stats).unwrap();
    assert!(
        stats["policy"].as_str().unwrap().starts_with("default@"),
        "{stats}"
    );
    assert!(stats["epochs"].as_u64().unwrap() >= 1, "{stats}");
    let (status, metrics) = http(api, "GET", "/metrics", "").unwrap();
    assert_eq!(status, 200);
    // Malformed and oversized bodies are refused before they reach the system.
    assert!(
        metrics.contains("vesting_apply_requests_total 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("vesting_apply_refused_total 1"),
        "{metrics}"
    );
    // The monitor's figures: blocks and epochs processed, time on epochs, lag, policy time.
    let value = |name: &str| -> f64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no {name} in {metrics}"))
            .parse()
            .unwrap()
    };
    assert!(value("vesting_blocks_processed_total") >= 1.0);
    assert!(value("vesting_epochs_processed_total") >= 1.0);
    assert!(value("vesting_epoch_processing_seconds_total") > 0.0);
    assert!(value("vesting_finalized_head") >= value("vesting_last_block"));
    assert!(value("vesting_lag_blocks") >= 0.0);
    assert!(value("vesting_policy_call_seconds_total") > 0.0);
    assert_eq!(value("vesting_ingest_policy_failures_total"), 0.0);
    drop(service);
}

#[test]
fn demo_prints_the_table_over_json_rpc() {
    let api = free_port();
    let (code, out, err) = vesting(&[
        "demo",
        "--days",
        "0.25",
        "--exit",
        "--api",
        &format!("127.0.0.1:{api}"),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("w before") && out.contains("w after"), "{out}");
    // 64 miners and 4 validators on subnet 1, one row each.
    let rows: Vec<&str> = out
        .lines()
        .filter(|l| {
            l.trim_start()
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit())
        })
        .collect();
    assert_eq!(rows.len(), 68, "{out}");
    let after: f64 = rows
        .iter()
        .map(|r| r.split_whitespace().last().unwrap().parse::<f64>().unwrap())
        .sum();
    // The table prints 4 decimals: each row may be off by half a unit of the last place.
    let tolerance = rows.len() as f64 * 0.5e-4;
    assert!(
        (after - 1.0).abs() <= tolerance,
        "weights after sum to {after}"
    );
    let multipliers: Vec<f64> = rows
        .iter()
        .map(|r| r.split_whitespace().nth(6).unwrap().parse().unwrap())
        .collect();
    assert!(
        multipliers.iter().all(|m| (0.0..=1.5).contains(m)),
        "{multipliers:?}"
    );
}

/// An HTTP request with a raw body and extra headers: (status, body).
#[test]
fn hot_swap_under_concurrent_apply_fails_no_request() {
    let service = Service::start("swap", Some("s3cret"));
    let api = service.api;
    wait_for("multipliers", Duration::from_secs(180), || {
        http(api, "GET", "/multipliers", "").is_some_and(|(_, b)| b.contains("\"uid\""))
    });
    let rows: serde_json::Value =
        serde_json::from_str(&http(api, "GET", "/multipliers", "").unwrap().1).unwrap();
    let rows = rows.as_array().unwrap();
    let body = serde_json::json!({
        "uids": rows.iter().map(|m| m["uid"].clone()).collect::<Vec<_>>(),
        "weights": rows.iter().map(|_| 1.0).collect::<Vec<_>>(),
        "hotkeys": rows.iter().map(|m| m["hotkey"].clone()).collect::<Vec<_>>(),
    })
    .to_string();

    // Mutations need the token.
    let classic = std::fs::read(vesting_e2e::CLASSIC_POLICY_WASM).unwrap();
    let (status, _) = http_raw(api, "POST", "/policy/activate", "", &classic).unwrap();
    assert_eq!(status, 401);
    // A component that fails its checks is refused with the reasons, and nothing changes.
    let (status, out) = http_raw(
        api,
        "POST",
        "/policy/activate",
        "Authorization: Bearer s3cret\r\n",
        b"\0asm\x01\0\0\0",
    )
    .unwrap();
    assert_eq!(status, 422, "{out}");
    assert!(out.contains("not a valid wasm component"), "{out}");

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let (stop, body) = (stop.clone(), body.clone());
            std::thread::spawn(move || {
                let (mut ok, mut failed) = (0u32, Vec::new());
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    match http(api, "POST", "/weights/apply", &body) {
                        Some((200, _)) => ok += 1,
                        other => failed.push(format!("{other:?}")),
                    }
                }
                (ok, failed)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let (status, out) = http_raw(
        api,
        "POST",
        "/policy/activate",
        "Authorization: Bearer s3cret\r\n",
        &classic,
    )
    .unwrap();
    assert_eq!(status, 200, "{out}");
    assert!(out.contains("classic@"), "{out}");
    std::thread::sleep(Duration::from_millis(500));
    let (status, info) = http(api, "GET", "/policy", "").unwrap();
    assert_eq!(status, 200);
    assert!(info.contains("classic@"), "{info}");
    let (status, out) = http_raw(
        api,
        "POST",
        "/policy/rollback",
        "Authorization: Bearer s3cret\r\n",
        b"",
    )
    .unwrap();
    assert_eq!(status, 200, "{out}");
    assert!(out.contains("default@"), "{out}");
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut total = 0;
    for c in clients {
        let (ok, failed) = c.join().unwrap();
        assert!(
            failed.is_empty(),
            "failed requests during the swap: {failed:?}"
        );
        total += ok;
    }
    assert!(total >= 20, "only {total} requests were made");
    drop(service);
}
