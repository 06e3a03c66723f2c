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
        .route("/explain/{hotkey}", get(explain))
        .route("/epochs", get(epochs))
        .route("/weights/apply", post(apply))
        .route("/metrics", get(metrics::render))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .merge(
            Router::new()
                .route("/policy", get(policy_info))
                .route("/policies", get(policies))
                .route("/policy/install", post(policy_install))
                .route("/policy/activate", post(policy_activate))
                .route("/policy/rollback", post(policy_rollback))
                .route("/policy/shadow", get(shadow_runs).post(policy_shadow))
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

async fn policy_info(State(s): S) -> Result<Response, ApiError> {
    let p = s.policy();
    let (_, state) = s.policies().map_err(internal)?;
    Ok(Json(json!({
        "policy": p.label(),
        "sha256": p.sha256_hex(),
        "info": p.info(),
        "state": state,
        // What the service calls the policy with (each policy fills in its defaults).
        "params": s.params(),
    }))
    .into_response())
}

async fn policies(State(s): S) -> Result<Response, ApiError> {
    let (policies, state) = s.policies().map_err(internal)?;
    let log = s.policy_log(50).map_err(internal)?;
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

async fn policy_install(
    State(s): S,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    authorize(&s, &headers)?;
    install(s, body, false).await
}

/// `POST /policy/activate`: a wasm body is installed and activated at once; a JSON body
/// `{"policy": "<sha256|prefix|name>", "at": "now" | "next-epoch"}` activates a stored one.
async fn policy_activate(
    State(s): S,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    authorize(&s, &headers)?;
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
    headers: HeaderMap,
    body: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<Response, ApiError> {
    authorize(&s, &headers)?;
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
    let state = s
        .shadow(key.as_deref())
        .map_err(|e| ApiError(StatusCode::CONFLICT, format!("{e:#}")))?;
    Ok(Json(json!({ "state": state })).into_response())
}

async fn shadow_runs(State(s): S) -> Result<Response, ApiError> {
    let runs = s.shadow_runs(20).map_err(internal)?;
    let runs: Vec<_> = runs
        .into_iter()
        .map(|(run, diffs)| json!({ "run": run, "miners": diffs }))
        .collect();
    Ok(Json(runs).into_response())
}

async fn explain(State(s): S, Path(hotkey): Path<String>) -> Result<Response, ApiError> {
    match s.explain(&hotkey) {
        Ok(e) => Ok(Json(e).into_response()),
        Err(e) => Err(ApiError(StatusCode::NOT_FOUND, format!("{e:#}"))),
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
