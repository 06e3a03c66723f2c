//! The HTTP API (axum), bound to 127.0.0.1 by default: health, stats, miners, epochs,
//! multipliers, `POST /weights/apply`, and Prometheus `/metrics`. Bad requests get a 4xx
//! with a JSON error naming the problem; bodies over 1 MiB are refused.

mod metrics;

use crate::service::VestingSystem;
use axum::extract::{DefaultBodyLimit, Path, State, rejection::JsonRejection};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

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

/// The body of `POST /weights/apply`: the validator's weights by uid.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplyRequest {
    pub uids: Vec<u16>,
    pub weights: Vec<f64>,
    pub hotkeys: Vec<String>,
}

/// The router over a running system.
pub fn router(system: Arc<VestingSystem>) -> Router {
    Router::new()
        .route("/health", get(|| async { Json(json!({ "status": "ok" })) }))
        .route("/stats", get(stats))
        .route("/multipliers", get(multipliers))
        .route("/miners", get(miners))
        .route("/miners/{hotkey}", get(miner))
        .route("/epochs", get(epochs))
        .route("/weights/apply", post(apply))
        .route("/metrics", get(metrics::render))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .merge(
            Router::new()
                .route("/policy", get(policy_info))
                .route("/policy/activate", post(policy_activate))
                .route("/policy/rollback", post(policy_rollback))
                .layer(DefaultBodyLimit::max(MAX_POLICY)),
        )
        .with_state(system)
}

/// Largest policy component accepted by `POST /policy/activate`.
pub const MAX_POLICY: usize = 16 << 20;

fn authorize(s: &VestingSystem, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(token) = s.config().api_token.as_deref().filter(|t| !t.is_empty()) else {
        return Err(ApiError(
            StatusCode::FORBIDDEN,
            "policy changes are off: no api_token is configured".into(),
        ));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match given {
        Some(g) if g == token => Ok(()),
        _ => Err(ApiError(
            StatusCode::UNAUTHORIZED,
            "a valid `Authorization: Bearer <api_token>` header is required".into(),
        )),
    }
}

async fn policy_info(State(s): S) -> Response {
    let p = s.policy();
    Json(json!({ "policy": p.label(), "sha256": p.sha256_hex(), "info": p.info() })).into_response()
}

async fn policy_activate(
    State(s): S,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    authorize(&s, &headers)?;
    let system = s.clone();
    let (report, policy) = tokio::task::spawn_blocking(move || system.install(&body))
        .await
        .map_err(|e| internal(e.into()))?
        .map_err(internal)?;
    match policy {
        Some(p) => Ok(Json(
            json!({ "activated": p.label(), "sha256": p.sha256_hex(), "report": report }),
        )
        .into_response()),
        None => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "error": "the policy failed its checks", "report": report })),
        )
            .into_response()),
    }
}

async fn policy_rollback(State(s): S, headers: HeaderMap) -> Result<Response, ApiError> {
    authorize(&s, &headers)?;
    let p = s
        .rollback()
        .map_err(|e| ApiError(StatusCode::CONFLICT, format!("{e:#}")))?;
    Ok(Json(json!({ "activated": p.label(), "sha256": p.sha256_hex() })).into_response())
}

type S = State<Arc<VestingSystem>>;

async fn stats(State(s): S) -> Result<Response, ApiError> {
    Ok(Json(s.get_vesting_stats().map_err(internal)?).into_response())
}

async fn multipliers(State(s): S) -> Result<Response, ApiError> {
    Ok(Json(s.multipliers().map_err(internal)?).into_response())
}

async fn miners(State(s): S) -> Result<Response, ApiError> {
    Ok(Json(s.get_vesting_stats().map_err(internal)?.miners).into_response())
}

async fn miner(State(s): S, Path(hotkey): Path<String>) -> Result<Response, ApiError> {
    let stats = s.get_vesting_stats().map_err(internal)?;
    match stats.miners.into_iter().find(|m| m.hotkey == hotkey) {
        Some(m) => Ok(Json(m).into_response()),
        None => Err(ApiError(
            StatusCode::NOT_FOUND,
            format!("no miner with hotkey `{hotkey}` has a multiplier"),
        )),
    }
}

async fn epochs(State(s): S) -> Result<Response, ApiError> {
    let netuid = s.config().netuid;
    let store =
        crate::store::Store::open_read_only(&s.config().db_path).map_err(|e| internal(e.into()))?;
    Ok(Json(store.epochs(netuid).map_err(|e| internal(e.into()))?).into_response())
}

async fn apply(
    State(s): S,
    body: Result<Json<ApplyRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(req) =
        body.map_err(|e| ApiError(e.status(), format!("bad request body: {}", e.body_text())))?;
    let system = s.clone();
    let out = tokio::task::spawn_blocking(move || {
        system.apply_vesting_multipliers(&req.weights, &req.uids, &req.hotkeys)
    })
    .await
    .map_err(|e| internal(e.into()))?;
    match out {
        Ok(out) => Ok(Json(out).into_response()),
        Err(e) => match e.downcast_ref::<crate::policy::CallError>() {
            Some(c) if matches!(c.failure, crate::policy::Failure::Refused { .. }) => {
                Err(ApiError(StatusCode::UNPROCESSABLE_ENTITY, c.to_string()))
            }
            _ => Err(internal(e)),
        },
    }
}

/// Serves the API on `addr` until `shutdown` resolves.
pub async fn serve(
    system: Arc<VestingSystem>,
    addr: std::net::SocketAddr,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
    tracing::info!("HTTP API on http://{}", listener.local_addr()?);
    axum::serve(listener, router(system))
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}
