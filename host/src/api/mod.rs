//! The HTTP API (axum), bound to 127.0.0.1 by default: health, stats, miners, epochs,
//! multipliers, `POST /weights/apply`, Prometheus `/metrics`, and the dashboard at `/`
//! (`dashboard.rs`). Every error status has a JSON body `{"error": ...}`; bodies over 1 MiB
//! are refused (policy components: 16 MiB, and only after the bearer token was checked).
//! Store and lock work runs on blocking threads (`spawn_blocking`), never on the async
//! workers. `server.rs` holds the connections (timeouts, a cap), `guard.rs` the middleware
//! (token, limits, JSON errors).

mod dashboard;
mod guard;
mod metrics;
mod server;

use crate::service::{Health, VestingSystem};
use axum::extract::{DefaultBodyLimit, Path, State, rejection::JsonRejection};
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

pub use server::serve;

/// Largest request body accepted.
pub const MAX_BODY: usize = 1 << 20;

/// A JSON error response.
pub struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

fn internal(e: anyhow::Error) -> ApiError {
    ApiError(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}"))
}

/// Runs `f` on a blocking thread (store reads, locks, policy calls): the async workers stay
/// free for other requests.
async fn blocking<T: Send + 'static>(
    s: &Arc<VestingSystem>,
    f: impl FnOnce(&VestingSystem) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let s = s.clone();
    tokio::task::spawn_blocking(move || f(&s))
        .await
        .map_err(|e| internal(e.into()))?
}

/// The body of `POST /weights/apply`: the validator's weights by uid.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplyRequest {
    pub uids: Vec<u16>,
    pub weights: Vec<f64>,
    pub hotkeys: Vec<String>,
}

/// The router over a running system. Outside in: JSON bodies for every error status,
/// URI and header limits (414, 431), then `/health` and the dashboard's files (never shed)
/// beside the rest, which is shed at `api_max_requests` requests in progress (503) and
/// answered within the request timeout (408); the policy changes check the bearer token
/// before their body is read.
pub fn router(system: Arc<VestingSystem>) -> Router {
    let cfg = system.config();
    let timeout = Duration::from_secs(cfg.api_request_timeout_seconds.max(1));
    let reads = Router::new()
        .route("/stats", get(stats))
        .route("/multipliers", get(multipliers))
        .route("/miners", get(miners))
        .route("/miners/{hotkey}", get(miner))
        .route("/explain/{hotkey}", get(explain))
        .route("/epochs", get(epochs))
        .route("/weights/apply", post(apply))
        .route("/metrics", get(metrics::render))
        .route("/policy", get(policy_info))
        .route("/policies", get(policies))
        .route("/dashboard/data", get(dashboard::data))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        // A body declared far over the limit is refused before it is read; one a little
        // over it is read up to the limit first (so a client that writes its whole body
        // before reading still gets the 413).
        .layer(tower_http::limit::RequestBodyLimitLayer::new(2 * MAX_BODY))
        .layer(guard::timeout(timeout));
    // Policy changes compile and check a component: ten times the request timeout.
    let changes = Router::new()
        .route("/policy/install", post(policy_install))
        .route("/policy/activate", post(policy_activate))
        .route("/policy/rollback", post(policy_rollback))
        .route("/policy/shadow", get(shadow_runs).post(policy_shadow))
        .layer(DefaultBodyLimit::max(MAX_POLICY))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(MAX_POLICY))
        // Outside the body limits: a request without the token is refused before a byte
        // of its body is read.
        .layer(axum::middleware::from_fn_with_state(
            system.clone(),
            guard::require_token,
        ))
        .layer(guard::timeout(timeout * 10));
    Router::new()
        .merge(reads)
        .merge(changes)
        .layer(
            tower::ServiceBuilder::new()
                .layer(axum::error_handling::HandleErrorLayer::new(
                    guard::overloaded,
                ))
                .load_shed()
                .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
                    cfg.api_max_requests.max(1),
                ))
                .layer(axum::middleware::from_fn_with_state(
                    system.clone(),
                    guard::in_progress,
                )),
        )
        .route("/health", get(health))
        // The dashboard's page and embedded files: no store reads, never shed.
        .route("/", get(dashboard::index))
        .route("/assets/{name}", get(dashboard::asset))
        .fallback(not_found)
        .layer(axum::middleware::from_fn(guard::head_limits))
        .layer(axum::middleware::map_response_with_state(
            system.clone(),
            guard::json_errors,
        ))
        // Outermost: the time includes shedding, limits and the JSON error bodies.
        .layer(axum::middleware::from_fn_with_state(
            system.clone(),
            guard::time_requests,
        ))
        .with_state(system)
}

/// Largest policy component accepted by `POST /policy/activate`.
pub const MAX_POLICY: usize = 16 << 20;

async fn not_found(uri: Uri) -> ApiError {
    ApiError(
        StatusCode::NOT_FOUND,
        format!("no such endpoint: {}", uri.path()),
    )
}

/// `GET /health`: 200 when the monitor is running and the multipliers are within the
/// bounds (`max_lag_blocks`, `max_decision_age_seconds`), else 503 with the reason; the
/// monitor's state, lag and the latest decision's age either way.
async fn health(State(s): S) -> Result<Response, ApiError> {
    let h = blocking(&s, |s| s.health().map_err(internal)).await?;
    let status = if h.ok() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let mut body = serde_json::to_value(&h).map_err(|e| internal(e.into()))?;
    if let Some(r) = &h.reason {
        body["error"] = json!(r);
    }
    // How busy the API is: requests holding a slot, of `api_max_requests`.
    body["api"] = json!({
        "requests_in_progress": s.metrics().http.in_progress.load(std::sync::atomic::Ordering::Relaxed),
        "max_requests": s.config().api_max_requests,
    });
    Ok((status, Json(body)).into_response())
}

async fn policy_info(State(s): S) -> Result<Response, ApiError> {
    let body = blocking(&s, |s| {
        let p = s.policy();
        let (_, state) = s.policies().map_err(internal)?;
        let params = s.param_state().map_err(internal)?;
        Ok(json!({
            "policy": p.label(),
            "sha256": p.sha256_hex(),
            "info": p.info(),
            "state": state,
            // What the service calls the policy with (each policy fills in its defaults).
            "params": s.params(),
            // What the store records as in force (None before the first epoch) and a
            // change waiting for the next epoch block.
            "params_in_force": params.in_force,
            "params_pending": params.pending,
        }))
    })
    .await?;
    Ok(Json(body).into_response())
}

async fn policies(State(s): S) -> Result<Response, ApiError> {
    let ((policies, state), log) = blocking(&s, |s| {
        Ok((
            s.policies().map_err(internal)?,
            s.policy_log(50).map_err(internal)?,
        ))
    })
    .await?;
    Ok(Json(json!({ "policies": policies, "state": state, "log": log })).into_response())
}

/// A wasm component starts with these bytes.
const WASM_MAGIC: &[u8] = b"\0asm";

/// Installs (every check) and, with `activate`, puts the policy in service at once.
async fn install(
    s: Arc<VestingSystem>,
    body: axum::body::Bytes,
    activate: bool,
) -> Result<Response, ApiError> {
    let (report, policy) = tokio::task::spawn_blocking(move || {
        if activate {
            s.install_and_activate(&body)
        } else {
            s.install(&body)
        }
    })
    .await
    .map_err(|e| internal(e.into()))?
    .map_err(internal)?;
    match policy {
        Some(p) => Ok(Json(json!({
            if activate { "activated" } else { "installed" }: p.label(),
            "sha256": p.sha256_hex(),
            "report": report
        }))
        .into_response()),
        None => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "error": "the policy failed its checks", "report": report })),
        )
            .into_response()),
    }
}

/// `POST /policy/install` (the token was checked by `guard::require_token`).
async fn policy_install(State(s): S, body: axum::body::Bytes) -> Result<Response, ApiError> {
    install(s, body, false).await
}

/// `POST /policy/activate`: a wasm body is installed and activated at once; a JSON body
/// `{"policy": "<sha256|prefix|name>", "at": "now" | "next-epoch"}` activates a stored one.
async fn policy_activate(State(s): S, body: axum::body::Bytes) -> Result<Response, ApiError> {
    if body.starts_with(WASM_MAGIC) {
        return install(s, body, true).await;
    }
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Req {
        policy: String,
        #[serde(default)]
        at: Option<String>,
    }
    let req: Req = serde_json::from_slice(&body).map_err(|e| {
        ApiError(
            StatusCode::BAD_REQUEST,
            format!("body must be a policy .wasm or {{\"policy\": \"<sha256|name>\", \"at\": \"now\"|\"next-epoch\"}}: {e}"),
        )
    })?;
    let at_next_epoch = match req.at.as_deref() {
        None | Some("now") => false,
        Some("next-epoch") => true,
        Some(other) => {
            return Err(ApiError(
                StatusCode::BAD_REQUEST,
                format!("`at` must be \"now\" or \"next-epoch\", not {other:?}"),
            ));
        }
    };
    let system = s.clone();
    let state = tokio::task::spawn_blocking(move || system.activate(&req.policy, at_next_epoch))
        .await
        .map_err(|e| internal(e.into()))?
        .map_err(|e| ApiError(StatusCode::CONFLICT, format!("{e:#}")))?;
    Ok(Json(json!({ "state": state, "active": s.policy().label() })).into_response())
}

/// `POST /policy/shadow` `{"policy": "<sha256|prefix|name>"}` or `{"policy": null}` to stop.
async fn policy_shadow(
    State(s): S,
    body: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(v) =
        body.map_err(|e| ApiError(e.status(), format!("bad request body: {}", e.body_text())))?;
    let key = match v.get("policy") {
        Some(serde_json::Value::String(k)) => Some(k.clone()),
        Some(serde_json::Value::Null) => None,
        _ => {
            return Err(ApiError(
                StatusCode::BAD_REQUEST,
                "body must be {\"policy\": \"<sha256|name>\"} or {\"policy\": null}".into(),
            ));
        }
    };
    let state = blocking(&s, move |s| {
        s.shadow(key.as_deref())
            .map_err(|e| ApiError(StatusCode::CONFLICT, format!("{e:#}")))
    })
    .await?;
    Ok(Json(json!({ "state": state })).into_response())
}

async fn shadow_runs(State(s): S) -> Result<Response, ApiError> {
    let runs = blocking(&s, |s| s.shadow_runs(20).map_err(internal)).await?;
    let runs: Vec<_> = runs
        .into_iter()
        .map(|(run, diffs)| json!({ "run": run, "miners": diffs }))
        .collect();
    Ok(Json(runs).into_response())
}

async fn explain(State(s): S, Path(hotkey): Path<String>) -> Result<Response, ApiError> {
    let e = blocking(&s, move |s| {
        s.explain(&hotkey)
            .map_err(|e| ApiError(StatusCode::NOT_FOUND, format!("{e:#}")))
    })
    .await?;
    Ok(Json(e).into_response())
}

async fn policy_rollback(State(s): S) -> Result<Response, ApiError> {
    let p = blocking(&s, |s| {
        s.rollback()
            .map_err(|e| ApiError(StatusCode::CONFLICT, format!("{e:#}")))
    })
    .await?;
    Ok(Json(json!({ "activated": p.label(), "sha256": p.sha256_hex() })).into_response())
}

type S = State<Arc<VestingSystem>>;

async fn stats(State(s): S) -> Result<Response, ApiError> {
    let stats = blocking(&s, |s| s.get_vesting_stats().map_err(internal)).await?;
    Ok(Json(stats).into_response())
}

async fn multipliers(State(s): S) -> Result<Response, ApiError> {
    let rows = blocking(&s, |s| s.multipliers().map_err(internal)).await?;
    Ok(Json(rows).into_response())
}

async fn miners(State(s): S) -> Result<Response, ApiError> {
    let stats = blocking(&s, |s| s.get_vesting_stats().map_err(internal)).await?;
    Ok(Json(stats.miners).into_response())
}

async fn miner(State(s): S, Path(hotkey): Path<String>) -> Result<Response, ApiError> {
    let stats = blocking(&s, |s| s.get_vesting_stats().map_err(internal)).await?;
    match stats.miners.into_iter().find(|m| m.hotkey == hotkey) {
        Some(m) => Ok(Json(m).into_response()),
        None => Err(ApiError(
            StatusCode::NOT_FOUND,
            format!("no miner with hotkey `{hotkey}` has a multiplier"),
        )),
    }
}

async fn epochs(State(s): S) -> Result<Response, ApiError> {
    let epochs = blocking(&s, |s| {
        let store = crate::store::Store::open_read_only(&s.config().db_path)
            .map_err(|e| internal(e.into()))?;
        store
            .epochs(s.config().netuid)
            .map_err(|e| internal(e.into()))
    })
    .await?;
    Ok(Json(epochs).into_response())
}

/// Whether a query string allows stale answers: `allow_stale`, `allow_stale=true` or `=1`.
fn allows_stale(uri: &Uri) -> bool {
    uri.query().is_some_and(|q| {
        q.split('&')
            .any(|kv| matches!(kv, "allow_stale" | "allow_stale=true" | "allow_stale=1"))
    })
}

/// The headers that say how fresh the multipliers of an answer are.
fn freshness_headers(r: &mut Response, h: &Health) {
    let headers = r.headers_mut();
    headers.insert(
        "x-vesting-freshness",
        HeaderValue::from_static(if h.ok() { "fresh" } else { "stale" }),
    );
    for (name, value) in [
        ("x-vesting-decision-age-seconds", h.decision_age_seconds),
        ("x-vesting-decision-block", h.decision_block),
        ("x-vesting-lag-blocks", h.lag_blocks),
    ] {
        if let Some(v) = value {
            headers.insert(name, HeaderValue::from(v));
        }
    }
}

/// `POST /weights/apply[?allow_stale=true]`: the weights times the latest multipliers,
/// with how fresh they are (`freshness` and the `X-Vesting-Freshness` header); refused
/// (503) when they are stale (see `/health`) unless the request allows stale answers.
async fn apply(
    State(s): S,
    uri: Uri,
    body: Result<Json<ApplyRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(req) =
        body.map_err(|e| ApiError(e.status(), format!("bad request body: {}", e.body_text())))?;
    let allow_stale = allows_stale(&uri);
    let (health, out) = blocking(&s, move |system| {
        let health = system.health().map_err(internal)?;
        if !health.ok() && !allow_stale {
            system
                .metrics()
                .apply_stale_refused
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return Ok((health, None));
        }
        let out = system.apply_vesting_multipliers(&req.weights, &req.uids, &req.hotkeys);
        Ok((health, Some(out)))
    })
    .await?;
    let fresh = serde_json::to_value(&health).map_err(|e| internal(e.into()))?;
    let mut response = match out {
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({
                "error": format!(
                    "the multipliers are stale: {}; retry later, or add ?allow_stale=true \
                     to accept them",
                    health.reason.as_deref().unwrap_or("see /health")
                ),
                "freshness": fresh,
            })),
        )
            .into_response(),
        Some(Ok(out)) => {
            let mut v = serde_json::to_value(&out).map_err(|e| internal(e.into()))?;
            v["freshness"] = fresh;
            Json(v).into_response()
        }
        Some(Err(e)) => match e.downcast_ref::<crate::policy::CallError>() {
            Some(c) if matches!(c.failure, crate::policy::Failure::Refused { .. }) => {
                ApiError(StatusCode::UNPROCESSABLE_ENTITY, c.to_string()).into_response()
            }
            _ => internal(e).into_response(),
        },
    };
    freshness_headers(&mut response, &health);
    Ok(response)
}

#[cfg(test)]
mod tests;
