//! The operator's dashboard: `GET /` (one HTML page), `GET /assets/{name}` (its script and
//! style, and the vendored uPlot charting library with its licence) and `GET
//! /dashboard/data` (everything the page draws, in one JSON read: see
//! `service::dashboard_data`). The files live in `dashboard/` and are embedded in the
//! binary (`include_bytes!`): no build step, nothing fetched from another origin (the page
//! is served with a same-origin Content-Security-Policy). The page refreshes every few
//! seconds; each chart marks what it drew (`data-series`, `data-points`) for the browser
//! test (`tests/tests/dashboard.rs`).

use super::{ApiError, S, blocking, internal};
use crate::service::dashboard_data::DASHBOARD_EPOCHS;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// An embedded file: name under `/assets/`, content type, bytes.
type Asset = (&'static str, &'static str, &'static [u8]);

const INDEX: &[u8] = include_bytes!("dashboard/index.html");

/// Everything under `/assets/`.
pub const ASSETS: &[Asset] = &[
    (
        "dashboard.js",
        "text/javascript; charset=utf-8",
        include_bytes!("dashboard/dashboard.js"),
    ),
    (
        "dashboard.css",
        "text/css; charset=utf-8",
        include_bytes!("dashboard/dashboard.css"),
    ),
    (
        "uPlot.iife.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("dashboard/vendor/uPlot.iife.min.js"),
    ),
    (
        "uPlot.min.css",
        "text/css; charset=utf-8",
        include_bytes!("dashboard/vendor/uPlot.min.css"),
    ),
    (
        "uPlot.LICENSE.txt",
        "text/plain; charset=utf-8",
        include_bytes!("dashboard/vendor/uPlot.LICENSE"),
    ),
];

/// Same origin only: the page loads nothing from elsewhere (uPlot sets inline styles).
const CSP: &str = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
                   frame-ancestors 'none'";

fn file(content_type: &'static str, bytes: &'static [u8]) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            // Small files: revalidated on every load, so an upgraded binary serves its own.
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CONTENT_SECURITY_POLICY, CSP),
        ],
        bytes,
    )
        .into_response()
}

/// `GET /`: the dashboard page.
pub async fn index() -> Response {
    file("text/html; charset=utf-8", INDEX)
}

/// `GET /assets/{name}`: an embedded file, or 404.
pub async fn asset(Path(name): Path<String>) -> Result<Response, ApiError> {
    ASSETS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, t, b)| file(t, b))
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no such asset: {name}")))
}

/// `GET /dashboard/data`: the series the page draws (the latest epochs' multipliers per
/// miner, flows per epoch, holders, policy and shadow run, health).
pub async fn data(State(s): S) -> Result<Response, ApiError> {
    let d = blocking(&s, |s| s.dashboard_data(DASHBOARD_EPOCHS).map_err(internal)).await?;
    Ok(Json(d).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(b: &[u8]) -> &str {
        std::str::from_utf8(b).unwrap()
    }

    /// Every `/assets/...` the page and its script name is embedded.
    #[test]
    fn the_page_names_only_embedded_assets() {
        let page = text(INDEX);
        let named: Vec<&str> = page
            .split("/assets/")
            .skip(1)
            .map(|s| s.split(['"', '\'']).next().unwrap())
            .collect();
        assert!(named.len() >= 4, "{named:?}");
        for n in named {
            assert!(
                ASSETS.iter().any(|(a, _, _)| *a == n),
                "{n} is not embedded"
            );
        }
    }

    /// No CDN, no other origin: the page and its script reference nothing absolute.
    #[test]
    fn nothing_is_loaded_from_another_origin() {
        let ours = [INDEX, ASSETS[0].2, ASSETS[1].2];
        for f in ours {
            let t = text(f);
            for bad in ["http://", "https://", "//cdn", "src=\"//", "href=\"//"] {
                assert!(!t.contains(bad), "{bad} in an embedded file");
            }
        }
    }

    /// The chart containers the script fills are the page's charts.
    #[test]
    fn every_chart_the_script_draws_has_a_container() {
        let ids = |t: &'static str, prefix: &'static str| -> Vec<String> {
            let mut v: Vec<String> = t
                .split(prefix)
                .skip(1)
                .map(|s| format!("chart-{}", s.split('"').next().unwrap()))
                .collect();
            v.sort();
            v.dedup();
            v
        };
        let (page, script) = (text(INDEX), text(ASSETS[0].2));
        let drawn = ids(script, "\"chart-");
        assert_eq!(drawn.len(), 6, "{drawn:?}");
        assert_eq!(drawn, ids(page, "id=\"chart-"));
    }

    async fn get(app: &axum::Router, uri: &str) -> (StatusCode, String, String) {
        use tower::ServiceExt;
        let req = axum::http::Request::get(uri)
            .body(axum::body::Body::empty())
            .unwrap();
        let res = app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let ty = res.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .to_string();
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 24)
            .await
            .unwrap();
        (status, ty, String::from_utf8_lossy(&bytes).into_owned())
    }

    /// The router serves the page, its files and the data (empty before the first block).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_router_serves_the_page_its_files_and_its_data() {
        use crate::service::{VestingConfig, VestingSystem};
        let dir = std::env::temp_dir().join(format!(
            "vesting-dashboard-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let system = std::sync::Arc::new(
            VestingSystem::new(VestingConfig {
                netuid: 1,
                chain_endpoint: Some("ws://127.0.0.1:9".into()),
                db_path: dir.join("v.db"),
                ..VestingConfig::default()
            })
            .unwrap(),
        );
        let app = super::super::router(system.clone());
        let (status, ty, page) = get(&app, "/").await;
        assert_eq!(
            (status, ty.as_str()),
            (StatusCode::OK, "text/html; charset=utf-8")
        );
        assert!(page.contains("chart-history"), "{page}");
        for (name, want, bytes) in ASSETS {
            let (status, ty, body) = get(&app, &format!("/assets/{name}")).await;
            assert_eq!((status, ty.as_str()), (StatusCode::OK, *want), "{name}");
            assert_eq!(body.len(), bytes.len(), "{name}");
        }
        let (status, ty, body) = get(&app, "/assets/../Cargo.toml").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert!(ty.starts_with("application/json"), "{ty}");
        let (status, _, body) = get(&app, "/dashboard/data").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let d: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(d["netuid"], 1);
        assert_eq!(d["miners"], serde_json::json!([]));
        assert_eq!(d["shadow"], serde_json::Value::Null);
        assert!(
            d["policy"]["label"]
                .as_str()
                .unwrap()
                .starts_with("default@"),
            "{d}"
        );
        assert!(d["health"]["status"].is_string(), "{d}");
        drop(app);
        drop(system);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
