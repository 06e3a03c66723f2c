//! The router in process (no socket, no chain): the server's own request-duration
//! histogram counts requests by route and appears in `/metrics`.

use super::router;
use crate::service::{VestingConfig, VestingSystem};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use std::sync::Arc;
use tower::ServiceExt;

async fn get(app: &axum::Router, method: &str, uri: &str, body: &str) -> (StatusCode, String) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 24)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_durations_appear_in_metrics_by_route() {
    let dir = std::env::temp_dir().join(format!(
        "vesting-api-durations-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let system = Arc::new(
        VestingSystem::new(VestingConfig {
            netuid: 1,
            chain_endpoint: Some("ws://127.0.0.1:9".into()),
            db_path: dir.join("v.db"),
            ..VestingConfig::default()
        })
        .unwrap(),
    );
    let app = router(system.clone());
    for _ in 0..3 {
        get(&app, "GET", "/stats", "").await;
    }
    // An apply with no multipliers yet, and a malformed one: answered either way, timed.
    get(
        &app,
        "POST",
        "/weights/apply",
        r#"{"uids":[0],"weights":[1.0],"hotkeys":["x"]}"#,
    )
    .await;
    let (status, _) = get(&app, "POST", "/weights/apply", "{").await;
    assert!(status.is_client_error(), "{status}");
    get(&app, "GET", "/no/such/route", "").await;
    let (status, m) = get(&app, "GET", "/metrics", "").await;
    assert_eq!(status, StatusCode::OK);
    let name = "vesting_http_request_duration_seconds";
    assert!(m.contains(&format!("# TYPE {name} histogram")), "{m}");
    let value = |series: &str| -> f64 {
        m.lines()
            .find_map(|l| l.strip_prefix(&format!("{series} ")))
            .unwrap_or_else(|| panic!("no {series} in {m}"))
            .parse()
            .unwrap()
    };
    assert_eq!(value(&format!("{name}_count{{route=\"/stats\"}}")), 3.0);
    assert_eq!(
        value(&format!("{name}_bucket{{route=\"/stats\",le=\"+Inf\"}}")),
        3.0
    );
    assert_eq!(
        value(&format!("{name}_count{{route=\"/weights/apply\"}}")),
        2.0
    );
    assert!(value(&format!("{name}_sum{{route=\"/weights/apply\"}}")) > 0.0);
    assert_eq!(value(&format!("{name}_count{{route=\"unmatched\"}}")), 1.0);
    // Buckets are cumulative: never fewer at a larger bound.
    let buckets: Vec<f64> = m
        .lines()
        .filter(|l| l.starts_with(&format!("{name}_bucket{{route=\"/stats\"")))
        .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(buckets.len(), crate::service::durations::BUCKETS.len() + 1);
    assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{buckets:?}");
    // The `/metrics` request being answered is counted once it is answered.
    let (_, again) = get(&app, "GET", "/metrics", "").await;
    assert!(
        again.contains(&format!("{name}_count{{route=\"/metrics\"}} 1")),
        "{again}"
    );
    drop(app);
    drop(system);
    let _ = std::fs::remove_dir_all(&dir);
}
