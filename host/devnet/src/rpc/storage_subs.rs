//! `state_subscribeStorage` / `state_unsubscribeStorage` (notification `state_storage`), as
//! `subscribe_storage` in `substrate/client/rpc/src/state/state_full.rs`: a first
//! `StorageChangeSet` with every key at the best block (null when absent), then one per
//! new best block in which a subscribed key's value changed, holding only those keys.
//! The devnet compares each new best block with the values last sent, so a reorg notifies
//! the keys whose value differs on the new branch.
use std::sync::Arc;

use jsonrpsee::{PendingSubscriptionSink, RpcModule, SubscriptionMessage};
use tokio::sync::broadcast;

use super::*;

type Values = Vec<Option<Vec<u8>>>;

/// The keys' values at `block` (its state laid out by the runtime that executed it).
fn values_at(s: &Shared, block: &Block, keys: &[Vec<u8>]) -> RpcResult<Values> {
    let chain = read(s)?;
    let state = chain.state_at(&block.hash).map_err(client_err)?;
    let view = StorageView {
        md: &block.runtime.md,
        state: &state,
        block,
    };
    keys.iter().map(|k| get(&view, k, s.strict)).collect()
}

fn change_set(block: &Block, keys: &[Vec<u8>], vals: &[(usize, &Option<Vec<u8>>)]) -> Json {
    json!({
        "block": hex0x(&block.hash),
        "changes": vals
            .iter()
            .map(|(i, v)| json!([hex0x(&keys[*i]), v.as_ref().map(|b| hex0x(b))]))
            .collect::<Vec<_>>(),
    })
}

async fn send(sink: &jsonrpsee::SubscriptionSink, j: &Json) -> bool {
    match serde_json::value::to_raw_value(j) {
        Ok(raw) => sink.send(SubscriptionMessage::from(raw)).await.is_ok(),
        Err(_) => false,
    }
}

async fn subscribe(p: Params<'static>, pending: PendingSubscriptionSink, s: Arc<Shared>) {
    let keys: Vec<Vec<u8>> = match positional(&p).and_then(|args| match arg(&args, 0) {
        Json::Null => Err(invalid_params(
            "state_subscribeStorage without keys (every change in the state) is not served \
             by the devnet; pass the keys",
        )),
        v => {
            let keys: Vec<String> = serde_json::from_value(v.clone())
                .map_err(|e| invalid_params(format!("keys: {e}")))?;
            keys.iter().map(|k| parse_hex(k, "storage key")).collect()
        }
    }) {
        Ok(k) => k,
        Err(e) => {
            pending.reject(e).await;
            return;
        }
    };
    let head_rx = s
        .chain
        .read()
        .map(|c| (c.head(), s.best_tx.subscribe()))
        .map_err(|_| ());
    let (head, mut rx) = match head_rx {
        Ok(x) => x,
        Err(_) => {
            pending.reject(client_err("chain lock poisoned")).await;
            return;
        }
    };
    let mut last = match values_at(&s, &head, &keys) {
        Ok(v) => v,
        Err(e) => {
            pending.reject(e).await;
            return;
        }
    };
    let Ok(sink) = pending.accept().await else {
        return;
    };
    let all: Vec<_> = last.iter().enumerate().collect();
    if !send(&sink, &change_set(&head, &keys, &all)).await {
        return;
    }
    loop {
        tokio::select! {
            _ = sink.closed() => return,
            r = rx.recv() => match r {
                Ok(b) => {
                    // A pruned or vanished block ends nothing: the next one is compared.
                    let Ok(now) = values_at(&s, &b, &keys) else { continue };
                    let changed: Vec<_> = now
                        .iter()
                        .enumerate()
                        .filter(|(i, v)| last[*i] != **v)
                        .collect();
                    if !changed.is_empty() && !send(&sink, &change_set(&b, &keys, &changed)).await {
                        return;
                    }
                    last = now;
                }
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }
}

/// Registers the storage subscription.
pub(super) fn register(m: &mut RpcModule<Arc<Shared>>) -> Result<(), DevnetError> {
    m.register_subscription(
        "state_subscribeStorage",
        "state_storage",
        "state_unsubscribeStorage",
        |p, pending, s, _| subscribe(p, pending, (*s).clone()),
    )
    .map_err(reg)?;
    Ok(())
}
