//! Subscriptions: new, all and finalized heads, and the runtime version (notified when a
//! new best block holds another runtime).
use std::sync::Arc;

use jsonrpsee::RpcModule;

use super::*;
use jsonrpsee::{PendingSubscriptionSink, SubscriptionMessage};
use tokio::sync::broadcast;

async fn pipe(
    pending: PendingSubscriptionSink,
    first: Vec<Json>,
    mut rx: broadcast::Receiver<Arc<Block>>,
) {
    let Ok(sink) = pending.accept().await else {
        return;
    };
    for j in first {
        let Ok(raw) = serde_json::value::to_raw_value(&j) else {
            return;
        };
        if sink.send(SubscriptionMessage::from(raw)).await.is_err() {
            return;
        }
    }
    loop {
        tokio::select! {
            _ = sink.closed() => return,
            r = rx.recv() => match r {
                Ok(b) => {
                    let Ok(raw) = serde_json::value::to_raw_value(&b.header.to_json()) else { return };
                    if sink.send(SubscriptionMessage::from(raw)).await.is_err() {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }
}

/// `state_subscribeRuntimeVersion`: the head's version, then one notification each time
/// a new best block's state holds another runtime (the block whose `set_code` upgrades
/// it, or a reorg onto a branch with another runtime), as a node's subscription does.
async fn runtime_versions(
    pending: PendingSubscriptionSink,
    head: Arc<Block>,
    mut rx: broadcast::Receiver<Arc<Block>>,
) {
    let Ok(sink) = pending.accept().await else {
        return;
    };
    let send = |b: &Block| serde_json::value::to_raw_value(&runtime_version_json(b));
    let Ok(raw) = send(&head) else { return };
    if sink.send(SubscriptionMessage::from(raw)).await.is_err() {
        return;
    }
    let mut spec = head.code.spec;
    loop {
        tokio::select! {
            _ = sink.closed() => return,
            r = rx.recv() => match r {
                Ok(b) => {
                    if b.code.spec == spec {
                        continue;
                    }
                    spec = b.code.spec;
                    let Ok(raw) = send(&b) else { return };
                    if sink.send(SubscriptionMessage::from(raw)).await.is_err() {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }
}

/// Registers the subscriptions.
pub(super) fn register(m: &mut RpcModule<Arc<Shared>>) -> Result<(), DevnetError> {
    m.register_subscription(
        "chain_subscribeNewHeads",
        "chain_newHead",
        "chain_unsubscribeNewHeads",
        |_, pending, s, _| async move {
            let (first, rx) = match s.chain.read() {
                Ok(c) => (vec![c.head().header.to_json()], s.best_tx.subscribe()),
                Err(_) => return,
            };
            pipe(pending, first, rx).await
        },
    )
    .map_err(reg)?;
    m.register_subscription(
        "chain_subscribeAllHeads",
        "chain_allHead",
        "chain_unsubscribeAllHeads",
        |_, pending, s, _| async move {
            let (first, rx) = match s.chain.read() {
                Ok(c) => (vec![c.head().header.to_json()], s.best_tx.subscribe()),
                Err(_) => return,
            };
            pipe(pending, first, rx).await
        },
    )
    .map_err(reg)?;
    m.register_subscription(
        "chain_subscribeFinalizedHeads",
        "chain_finalizedHead",
        "chain_unsubscribeFinalizedHeads",
        |_, pending, s, _| async move {
            let (first, rx) = match s.chain.read() {
                Ok(c) => {
                    let f = c.finalized_hash();
                    (
                        c.block(&f)
                            .map(|b| vec![b.header.to_json()])
                            .unwrap_or_default(),
                        s.finalized_tx.subscribe(),
                    )
                }
                Err(_) => return,
            };
            pipe(pending, first, rx).await
        },
    )
    .map_err(reg)?;
    m.register_subscription(
        "state_subscribeRuntimeVersion",
        "state_runtimeVersion",
        "state_unsubscribeRuntimeVersion",
        |_, pending, s, _| async move {
            let (head, rx) = match s.chain.read() {
                Ok(c) => (c.head(), s.best_tx.subscribe()),
                Err(_) => return,
            };
            runtime_versions(pending, head, rx).await
        },
    )
    .map_err(reg)?;

    Ok(())
}
