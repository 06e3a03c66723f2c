//! Transaction submission as a node's author RPC serves it
//! (`substrate/client/rpc-api/src/author/mod.rs`, `substrate/client/rpc/src/author/mod.rs`):
//! `author_submitExtrinsic` (the extrinsic's hash), `author_submitAndWatchExtrinsic` /
//! `author_unwatchExtrinsic` (notifications `author_extrinsicUpdate`: `"ready"`, then
//! `{"inBlock": hash}` and `{"finalized": hash}`, or `"invalid"` when its block left it
//! out; `TransactionStatus` in `substrate/client/transaction-pool/api/src/lib.rs`,
//! serialized camelCase with `inBlock` / `finalized` as the bare block hash) and
//! `author_pendingExtrinsics` (the pool). Refusals carry the node's codes (`crate::tx::TxError`).
use std::sync::Arc;

use jsonrpsee::{PendingSubscriptionSink, RpcModule, SubscriptionMessage};
use tokio::sync::broadcast;

use super::*;
use crate::tx::TxError;

fn tx_err(e: &TxError) -> ErrorObjectOwned {
    let (code, msg, data) = e.rpc_parts();
    ErrorObject::owned(code, msg, data)
}

fn xt_arg(p: &Params) -> RpcResult<Vec<u8>> {
    match arg(&positional(p)?, 0) {
        Json::String(x) => parse_hex(x, "extrinsic"),
        _ => Err(invalid_params("extrinsic must be a hex string")),
    }
}

/// Validates and pools `xt`; without a block timer, produces the block holding it at once.
fn submit(s: &Shared, xt: &[u8]) -> RpcResult<Hash> {
    let upd = {
        let mut c = s
            .chain
            .write()
            .map_err(|_| client_err("chain lock poisoned"))?;
        let hash = c.submit_extrinsic(xt).map_err(|e| tx_err(&e))?;
        let upd = if s.instant {
            Some(c.produce(1).map_err(client_err)?)
        } else {
            None
        };
        (hash, upd)
    };
    if let Some(u) = upd.1 {
        s.publish(u);
    }
    Ok(upd.0)
}

async fn send(sink: &jsonrpsee::SubscriptionSink, j: Json) -> bool {
    match serde_json::value::to_raw_value(&j) {
        Ok(raw) => sink.send(SubscriptionMessage::from(raw)).await.is_ok(),
        Err(_) => false,
    }
}

/// The status stream of one watched transaction, until `finalized` or `invalid`.
async fn watch(
    pending: PendingSubscriptionSink,
    s: Arc<Shared>,
    xt: Vec<u8>,
    mut best: broadcast::Receiver<Arc<Block>>,
    mut fin: broadcast::Receiver<Arc<Block>>,
) {
    let tx = crate::hashing::blake2_256(&xt);
    if let Err(e) = submit(&s, &xt) {
        pending.reject(e).await;
        return;
    }
    let Ok(sink) = pending.accept().await else {
        return;
    };
    if !send(&sink, json!("ready")).await {
        return;
    }
    let mut in_block: Option<Hash> = None;
    loop {
        tokio::select! {
            _ = sink.closed() => return,
            r = best.recv(), if in_block.is_none() => match r {
                Ok(b) => {
                    if b.dropped.iter().any(|(h, _)| *h == tx) {
                        let _ = send(&sink, json!("invalid")).await;
                        return;
                    }
                    if b.extrinsics.iter().any(|x| crate::hashing::blake2_256(x) == tx) {
                        in_block = Some(b.hash);
                        if !send(&sink, json!({ "inBlock": hex0x(&b.hash) })).await {
                            return;
                        }
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return,
            },
            r = fin.recv() => match r {
                Ok(b) => {
                    if Some(b.hash) == in_block {
                        let _ = send(&sink, json!({ "finalized": hex0x(&b.hash) })).await;
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return,
            },
        }
    }
}

/// Registers the author methods.
pub(super) fn register(m: &mut RpcModule<Arc<Shared>>) -> Result<(), DevnetError> {
    m.register_method("author_submitExtrinsic", |p, s, _| -> RpcResult<String> {
        let xt = xt_arg(&p)?;
        Ok(hex0x(&submit(s, &xt)?))
    })
    .map_err(reg)?;
    m.register_method(
        "author_pendingExtrinsics",
        |_, s, _| -> RpcResult<Vec<String>> {
            Ok(read(s)?.pool().iter().map(|t| hex0x(&t.bytes)).collect())
        },
    )
    .map_err(reg)?;
    m.register_subscription(
        "author_submitAndWatchExtrinsic",
        "author_extrinsicUpdate",
        "author_unwatchExtrinsic",
        |p, pending, s, _| async move {
            let xt = match xt_arg(&p) {
                Ok(x) => x,
                Err(e) => {
                    pending.reject(e).await;
                    return;
                }
            };
            // Subscribed before the submission, so no block holding it is missed.
            let (best, fin) = (s.best_tx.subscribe(), s.finalized_tx.subscribe());
            watch(pending, (*s).clone(), xt, best, fin).await
        },
    )
    .map_err(reg)?;
    Ok(())
}
