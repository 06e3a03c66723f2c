//! The JSON-RPC connection: subxt's jsonrpsee client wrapped so every request is
//! counted (by method), for the RPC-per-block figures and tests.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use subxt::rpcs::Error as RpcError;
use subxt::rpcs::client::RpcClient;
use subxt::rpcs::client::{
    JsonrpseeRpcClient, RawRpcFuture, RawRpcSubscription, RawValue, RpcClientT, jsonrpsee_client,
};

use super::ChainError;

/// Requests made through a connection (shared across reconnects).
#[derive(Debug, Default)]
pub struct RpcStats {
    calls: AtomicU64,
    by_method: Mutex<BTreeMap<String, u64>>,
}

impl RpcStats {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Requests and subscriptions made so far.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Requests by method name.
    pub fn by_method(&self) -> BTreeMap<String, u64> {
        self.by_method.lock().map(|m| m.clone()).unwrap_or_default()
    }

    fn count(&self, method: &str) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut m) = self.by_method.lock() {
            *m.entry(method.to_string()).or_default() += 1;
        }
    }
}

struct Counting {
    inner: JsonrpseeRpcClient,
    stats: Arc<RpcStats>,
}

impl RpcClientT for Counting {
    fn request_raw<'a>(
        &'a self,
        method: &'a str,
        params: Option<Box<RawValue>>,
    ) -> RawRpcFuture<'a, Box<RawValue>> {
        self.stats.count(method);
        self.inner.request_raw(method, params)
    }

    fn subscribe_raw<'a>(
        &'a self,
        sub: &'a str,
        params: Option<Box<RawValue>>,
        unsub: &'a str,
    ) -> RawRpcFuture<'a, RawRpcSubscription> {
        self.stats.count(sub);
        self.inner.subscribe_raw(sub, params, unsub)
    }
}

/// Opens a counted connection to `url`.
pub async fn connect(url: &str, stats: Arc<RpcStats>) -> Result<RpcClient, ChainError> {
    let inner = jsonrpsee_client(url)
        .await
        .map_err(|e| ChainError::Connection {
            url: url.to_string(),
            message: e.to_string(),
        })?;
    Ok(RpcClient::new(Counting { inner, stats }))
}

/// Classifies an RPC error: transport failures are transient, node answers are not.
pub fn classify(url: &str, method: &str, e: RpcError) -> ChainError {
    match e {
        RpcError::User(u) => ChainError::Rpc {
            method: method.to_string(),
            message: format!("{} (code {})", u.message, u.code),
        },
        RpcError::Deserialization(d) => ChainError::Rpc {
            method: method.to_string(),
            message: format!("unexpected response: {d}"),
        },
        other => ChainError::Connection {
            url: url.to_string(),
            message: format!("{method}: {other}"),
        },
    }
}
