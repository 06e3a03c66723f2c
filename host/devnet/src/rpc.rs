//! The JSON-RPC surface (jsonrpsee, WebSocket and HTTP on one port): the legacy Substrate
//! methods with the shapes subxt's legacy backend, polkadot-js and py-substrate-interface
//! expect, and the `devnet_*` control methods.

use std::sync::{Arc, RwLock};

use jsonrpsee::types::{ErrorObject, ErrorObjectOwned, Params};
use jsonrpsee::{PendingSubscriptionSink, RpcModule, SubscriptionMessage};
use serde::Deserialize;
use serde_json::{Value as Json, json};
use tokio::sync::broadcast;

use crate::chain::{Block, Chain, ChainUpdate, Hash, hex0x};
use crate::error::DevnetError;
use crate::model::{Action, NetUid, TruthKind, parse_account};
use crate::storage::StorageView;

/// State shared by the RPC handlers and the block timer.
pub struct Shared {
    pub chain: RwLock<Chain>,
    pub best_tx: broadcast::Sender<Arc<Block>>,
    pub finalized_tx: broadcast::Sender<Arc<Block>>,
    /// Whether control actions produce a block at once (no block timer).
    pub instant: bool,
    pub chain_name: String,
}

impl Shared {
    /// Publishes what a chain call produced to the subscribers.
    pub fn publish(&self, upd: ChainUpdate) {
        for b in upd.best {
            let _ = self.best_tx.send(b);
        }
        for b in upd.finalized {
            let _ = self.finalized_tx.send(b);
        }
    }

    /// Produces `n` blocks and publishes them.
    pub fn advance(&self, n: u64) -> Result<(), DevnetError> {
        let upd = self.chain.write().map_err(poisoned)?.produce(n)?;
        self.publish(upd);
        Ok(())
    }
}

fn poisoned<T>(_: T) -> DevnetError {
    DevnetError::Server("chain lock poisoned by an earlier panic".into())
}

type RpcResult<T> = Result<T, ErrorObjectOwned>;

fn client_err(e: impl std::fmt::Display) -> ErrorObjectOwned {
    ErrorObject::owned(4003, format!("Client error: {e}"), None::<()>)
}

fn api_err(e: impl std::fmt::Display) -> ErrorObjectOwned {
    ErrorObject::owned(
        4003,
        format!("Client error: Api called for an unknown Block: {e}"),
        None::<()>,
    )
}

fn invalid_params(msg: impl Into<String>) -> ErrorObjectOwned {
    ErrorObject::owned(
        -32602,
        format!("Invalid params: {}", msg.into()),
        None::<()>,
    )
}

fn control_err(e: impl std::fmt::Display) -> ErrorObjectOwned {
    ErrorObject::owned(-32000, e.to_string(), None::<()>)
}

fn parse_hex(s: &str, what: &str) -> RpcResult<Vec<u8>> {
    let h = s
        .strip_prefix("0x")
        .ok_or_else(|| invalid_params(format!("{what} must start with 0x")))?;
    hex::decode(h).map_err(|e| invalid_params(format!("{what} is not hex: {e}")))
}

fn parse_hash(v: &Json, what: &str) -> RpcResult<Option<Hash>> {
    match v {
        Json::Null => Ok(None),
        Json::String(s) => {
            let b = parse_hex(s, what)?;
            let h: Hash = b
                .try_into()
                .map_err(|_| invalid_params(format!("{what} must be 32 bytes")))?;
            Ok(Some(h))
        }
        _ => Err(invalid_params(format!(
            "{what} must be a 0x hex string or null"
        ))),
    }
}

/// Positional params as a vector of JSON values (an absent list is empty).
fn positional(p: &Params) -> RpcResult<Vec<Json>> {
    if p.is_object() {
        return Err(invalid_params("expected positional parameters"));
    }
    let v: Option<Vec<Json>> = p.parse().map_err(|e| invalid_params(e.to_string()))?;
    Ok(v.unwrap_or_default())
}

fn arg(v: &[Json], i: usize) -> &Json {
    v.get(i).unwrap_or(&Json::Null)
}

/// The runtime version a block's state holds, as `state_getRuntimeVersion` returns it.
fn runtime_version_json(b: &Block) -> Json {
    let rv = &b.code.md.runtime_version;
    json!({
        "specName": rv.spec_name,
        "implName": rv.impl_name,
        "authoringVersion": rv.authoring_version,
        "specVersion": rv.spec_version,
        "implVersion": rv.impl_version,
        "apis": rv.apis.iter().map(|(id, v)| json!([hex0x(id), v])).collect::<Vec<_>>(),
        "transactionVersion": rv.transaction_version,
        "systemVersion": rv.system_version,
        "stateVersion": rv.system_version,
    })
}

fn read<'a>(s: &'a Shared) -> RpcResult<std::sync::RwLockReadGuard<'a, Chain>> {
    s.chain
        .read()
        .map_err(|_| client_err("chain lock poisoned"))
}

fn block_number_arg(v: &Json) -> RpcResult<Option<u64>> {
    match v {
        Json::Null => Ok(None),
        Json::Number(n) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| invalid_params("block number must be unsigned")),
        Json::String(s) => {
            let r = match s.strip_prefix("0x") {
                Some(h) => u64::from_str_radix(h, 16),
                None => s.parse(),
            };
            r.map(Some)
                .map_err(|_| invalid_params(format!("block number {s:?} is not a number")))
        }
        _ => Err(invalid_params(
            "block number must be a number, hex string or null",
        )),
    }
}

/// Runs `f` on a block's state and view: errors as a node gives them for unknown or
/// pruned blocks.
fn with_state<T>(
    s: &Shared,
    at: &Json,
    api: bool,
    f: impl FnOnce(&StorageView) -> Result<T, DevnetError>,
) -> RpcResult<T> {
    let chain = read(s)?;
    let at = parse_hash(at, "block hash")?;
    let block = chain.resolve(at).map_err(client_err)?;
    let state = chain
        .state_at(&block.hash)
        .map_err(|e| if api { api_err(e) } else { client_err(e) })?;
    // Storage is laid out by the runtime that executed the block (in the block that
    // upgrades, its state is still the old runtime's layout).
    let view = StorageView {
        md: &block.runtime.md,
        state: &state,
        block: &block,
    };
    f(&view).map_err(|e| if api { api_err(e) } else { client_err(e) })
}

/// A storage value: the runtime's own items (`crate::runtime_storage`), else the model's.
fn get(v: &StorageView, key: &[u8]) -> Result<Option<Vec<u8>>, DevnetError> {
    crate::runtime_storage::get(v, key).unwrap_or_else(|| v.get(key))
}

/// The methods listed by `rpc_methods`.
const METHODS: &[&str] = &[
    "rpc_methods",
    "system_chain",
    "system_name",
    "system_version",
    "system_properties",
    "system_health",
    "system_chainType",
    "chain_getBlockHash",
    "chain_getHeader",
    "chain_getBlock",
    "chain_getFinalizedHead",
    "chain_getFinalisedHead",
    "chain_subscribeNewHeads",
    "chain_unsubscribeNewHeads",
    "chain_subscribeFinalizedHeads",
    "chain_unsubscribeFinalizedHeads",
    "chain_subscribeAllHeads",
    "chain_unsubscribeAllHeads",
    "state_getRuntimeVersion",
    "chain_getRuntimeVersion",
    "state_subscribeRuntimeVersion",
    "state_unsubscribeRuntimeVersion",
    "state_getMetadata",
    "state_getStorage",
    "state_getStorageAt",
    "state_getKeysPaged",
    "state_queryStorageAt",
    "state_call",
    "devnet_advance",
    "devnet_submit",
    "devnet_addStake",
    "devnet_removeStake",
    "devnet_unstakeAll",
    "devnet_moveStake",
    "devnet_transferStake",
    "devnet_swapStake",
    "devnet_recycleAlpha",
    "devnet_burnAlpha",
    "devnet_rootClaim",
    "devnet_register",
    "devnet_setAutoStake",
    "devnet_setScores",
    "devnet_skipEpochs",
    "devnet_reorg",
    "devnet_groundTruth",
    "devnet_stake",
    "devnet_status",
    "devnet_account",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceParams {
    #[serde(default = "one")]
    blocks: u64,
}

fn one() -> u64 {
    1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReorgParams {
    depth: u64,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TruthParams {
    #[serde(default)]
    from: Option<u64>,
    #[serde(default)]
    to: Option<u64>,
    #[serde(default)]
    netuid: Option<NetUid>,
    #[serde(default)]
    hotkey: Option<String>,
    #[serde(default)]
    coldkey: Option<String>,
    #[serde(default)]
    kind: Option<TruthKind>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StakeParams {
    hotkey: String,
    coldkey: String,
    netuid: NetUid,
    #[serde(default)]
    at: Option<String>,
}

fn object_params<T: for<'de> Deserialize<'de>>(p: &Params) -> RpcResult<T> {
    let v: Json = if p.as_str().is_none() {
        json!({})
    } else if p.is_object() {
        p.parse().map_err(|e| invalid_params(e.to_string()))?
    } else {
        let mut seq: Vec<Json> = p.parse().map_err(|e| invalid_params(e.to_string()))?;
        if seq.is_empty() {
            json!({})
        } else {
            seq.remove(0)
        }
    };
    serde_json::from_value(v).map_err(|e| invalid_params(e.to_string()))
}

fn status(c: &Chain) -> Json {
    let head = c.head();
    json!({
        "head": head.number,
        "hash": hex0x(&head.hash),
        "finalized": c.finalized_number(),
        "finalizedHash": hex0x(&c.finalized_hash()),
        "genesisHash": hex0x(&c.genesis_hash()),
        "branch": head.branch,
        "rejected": c.rejected.len(),
    })
}

/// Submits an action: checked, queued, and (without a block timer) included in a new block.
fn submit(s: &Shared, action: Action) -> RpcResult<Json> {
    let upd = {
        let mut c = s
            .chain
            .write()
            .map_err(|_| control_err("chain lock poisoned"))?;
        c.queue(action).map_err(control_err)?;
        if s.instant {
            let before = c.rejected.len();
            let upd = c.produce(1).map_err(control_err)?;
            if c.rejected.len() > before {
                let e = c.rejected.last().map(|r| r.2.clone()).unwrap_or_default();
                s.publish(upd);
                return Err(control_err(format!("action failed in its block: {e}")));
            }
            Some(upd)
        } else {
            None
        }
    };
    let included = upd.is_some();
    if let Some(u) = upd {
        s.publish(u);
    }
    let c = read(s)?;
    let mut st = status(&c);
    st["included"] = json!(included);
    Ok(st)
}

fn action_with_kind(p: &Params, kind: &str) -> RpcResult<Action> {
    let mut v: Json = object_params(p)?;
    let obj = v
        .as_object_mut()
        .ok_or_else(|| invalid_params("expected an object"))?;
    obj.insert("kind".into(), json!(kind));
    serde_json::from_value(v).map_err(|e| invalid_params(e.to_string()))
}

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

/// Builds the RPC module over the shared chain.
pub fn module(shared: Arc<Shared>) -> Result<RpcModule<Arc<Shared>>, DevnetError> {
    let mut m = RpcModule::new(shared);
    let reg = |e: jsonrpsee::core::RegisterMethodError| DevnetError::Server(e.to_string());

    m.register_method(
        "rpc_methods",
        |_, _, _| json!({ "version": 1, "methods": METHODS }),
    )
    .map_err(reg)?;
    m.register_method("system_chain", |_, s, _| s.chain_name.clone())
        .map_err(reg)?;
    m.register_method("system_name", |_, _, _| "Subtensor Node (vesting devnet)")
        .map_err(reg)?;
    m.register_method("system_version", |_, _, _| env!("CARGO_PKG_VERSION"))
        .map_err(reg)?;
    m.register_method("system_chainType", |_, _, _| "Development")
        .map_err(reg)?;
    m.register_method(
        "system_properties",
        |_, _, _| json!({ "ss58Format": 42, "tokenDecimals": 9, "tokenSymbol": "TAO" }),
    )
    .map_err(reg)?;
    m.register_method(
        "system_health",
        |_, _, _| json!({ "peers": 0, "isSyncing": false, "shouldHavePeers": false }),
    )
    .map_err(reg)?;

    m.register_method("chain_getBlockHash", |p, s, _| -> RpcResult<Json> {
        let args = positional(&p)?;
        let c = read(s)?;
        let one = |v: &Json| -> RpcResult<Json> {
            Ok(match block_number_arg(v)? {
                None => json!(hex0x(&c.head().hash)),
                Some(n) => c.hash_at(n).map(|h| json!(hex0x(&h))).unwrap_or(Json::Null),
            })
        };
        match arg(&args, 0) {
            Json::Array(list) => Ok(Json::Array(
                list.iter().map(one).collect::<RpcResult<Vec<_>>>()?,
            )),
            v => one(v),
        }
    })
    .map_err(reg)?;
    m.register_method("chain_getHeader", |p, s, _| -> RpcResult<Json> {
        let args = positional(&p)?;
        let at = parse_hash(arg(&args, 0), "block hash")?;
        let c = read(s)?;
        Ok(c.resolve(at)
            .map(|b| b.header.to_json())
            .unwrap_or(Json::Null))
    })
    .map_err(reg)?;
    m.register_method("chain_getBlock", |p, s, _| -> RpcResult<Json> {
        let args = positional(&p)?;
        let at = parse_hash(arg(&args, 0), "block hash")?;
        let c = read(s)?;
        Ok(c.resolve(at).map(|b| b.to_json()).unwrap_or(Json::Null))
    })
    .map_err(reg)?;
    for name in ["chain_getFinalizedHead", "chain_getFinalisedHead"] {
        m.register_method(name, |_, s, _| -> RpcResult<String> {
            Ok(hex0x(&read(s)?.finalized_hash()))
        })
        .map_err(reg)?;
    }
    for name in ["state_getRuntimeVersion", "chain_getRuntimeVersion"] {
        m.register_method(name, |p, s, _| -> RpcResult<Json> {
            let args = positional(&p)?;
            with_state(s, arg(&args, 0), true, |v| {
                Ok(runtime_version_json(v.block))
            })
        })
        .map_err(reg)?;
    }
    m.register_method("state_getMetadata", |p, s, _| -> RpcResult<String> {
        let args = positional(&p)?;
        with_state(s, arg(&args, 0), true, |v| {
            Ok(hex0x(v.block.code.md.encoded(14).unwrap_or_default()))
        })
    })
    .map_err(reg)?;
    for name in ["state_getStorage", "state_getStorageAt"] {
        m.register_method(name, |p, s, _| -> RpcResult<Json> {
            let args = positional(&p)?;
            let key = match arg(&args, 0) {
                Json::String(k) => parse_hex(k, "storage key")?,
                _ => return Err(invalid_params("storage key must be a 0x hex string")),
            };
            with_state(s, arg(&args, 1), false, |v| {
                Ok(get(v, &key)?
                    .map(|b| json!(hex0x(&b)))
                    .unwrap_or(Json::Null))
            })
        })
        .map_err(reg)?;
    }
    m.register_method("state_getKeysPaged", |p, s, _| -> RpcResult<Vec<String>> {
        let args = positional(&p)?;
        let prefix = match arg(&args, 0) {
            Json::String(k) => parse_hex(k, "prefix")?,
            Json::Null => vec![],
            _ => return Err(invalid_params("prefix must be a 0x hex string")),
        };
        let count = arg(&args, 1)
            .as_u64()
            .ok_or_else(|| invalid_params("count must be a number"))?;
        if count > 1000 {
            return Err(ErrorObject::owned(
                4002,
                "count exceeds maximum value. value: 1000",
                None::<()>,
            ));
        }
        let start = match arg(&args, 2) {
            Json::String(k) => Some(parse_hex(k, "start key")?),
            _ => None,
        };
        with_state(s, arg(&args, 3), false, |v| {
            let mut all = v.keys(&prefix)?;
            all.extend(crate::runtime_storage::keys(v, &prefix)?);
            all.sort();
            Ok(all
                .into_iter()
                .filter(|k| start.as_ref().is_none_or(|st| k > st))
                .take(count as usize)
                .map(|k| hex0x(&k))
                .collect())
        })
    })
    .map_err(reg)?;
    m.register_method("state_queryStorageAt", |p, s, _| -> RpcResult<Json> {
        let args = positional(&p)?;
        let keys: Vec<String> = serde_json::from_value(arg(&args, 0).clone())
            .map_err(|e| invalid_params(format!("keys: {e}")))?;
        let keys = keys
            .iter()
            .map(|k| parse_hex(k, "storage key"))
            .collect::<RpcResult<Vec<_>>>()?;
        with_state(s, arg(&args, 1), false, |v| {
            let mut changes = vec![];
            for k in &keys {
                changes.push(json!([hex0x(k), get(v, k)?.map(|b| hex0x(&b))]));
            }
            Ok(json!([{ "block": hex0x(&v.block.hash), "changes": changes }]))
        })
    })
    .map_err(reg)?;
    m.register_method("state_call", |p, s, _| -> RpcResult<String> {
        let args = positional(&p)?;
        let method = arg(&args, 0)
            .as_str()
            .ok_or_else(|| invalid_params("method name must be a string"))?;
        let data = match arg(&args, 1) {
            Json::String(d) => parse_hex(d, "call data")?,
            Json::Null => vec![],
            _ => return Err(invalid_params("call data must be a 0x hex string")),
        };
        with_state(s, arg(&args, 2), true, |v| {
            crate::runtime_api::call(&v.block.code.md, v.state, method, &data).map(|b| hex0x(&b))
        })
        .map_err(|e| {
            if e.message().contains("Api called for an unknown Block")
                && !e.message().contains("State already")
                && !e.message().contains("UnknownBlock")
            {
                ErrorObject::owned(
                    4003,
                    e.message().replace("Api called for an unknown Block: ", ""),
                    None::<()>,
                )
            } else {
                e
            }
        })
    })
    .map_err(reg)?;

    // Subscriptions.
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

    // Control methods.
    m.register_method("devnet_advance", |p, s, _| -> RpcResult<Json> {
        let a: AdvanceParams = object_params(&p)?;
        if a.blocks > 1_000_000 {
            return Err(invalid_params("blocks must be at most 1000000"));
        }
        s.advance(a.blocks).map_err(control_err)?;
        Ok(status(&*read(s)?))
    })
    .map_err(reg)?;
    m.register_method("devnet_reorg", |p, s, _| -> RpcResult<Json> {
        let a: ReorgParams = object_params(&p)?;
        let upd = s
            .chain
            .write()
            .map_err(|_| control_err("lock"))?
            .reorg(a.depth)
            .map_err(control_err)?;
        s.publish(upd);
        Ok(status(&*read(s)?))
    })
    .map_err(reg)?;
    m.register_method("devnet_status", |_, s, _| -> RpcResult<Json> {
        Ok(status(&*read(s)?))
    })
    .map_err(reg)?;
    m.register_method("devnet_account", |p, _, _| -> RpcResult<String> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct A {
            name: String,
        }
        let a: A = object_params(&p)?;
        parse_account(&a.name)
            .map(|x| hex0x(&x))
            .map_err(invalid_params)
    })
    .map_err(reg)?;
    m.register_method("devnet_submit", |p, s, _| -> RpcResult<Json> {
        let a: Action = object_params(&p)?;
        submit(s, a)
    })
    .map_err(reg)?;
    for (name, kind) in [
        ("devnet_addStake", "add_stake"),
        ("devnet_removeStake", "remove_stake"),
        ("devnet_unstakeAll", "unstake_all"),
        ("devnet_moveStake", "move_stake"),
        ("devnet_transferStake", "transfer_stake"),
        ("devnet_swapStake", "swap_stake"),
        ("devnet_recycleAlpha", "recycle_alpha"),
        ("devnet_burnAlpha", "burn_alpha"),
        ("devnet_rootClaim", "root_claim"),
        ("devnet_register", "register"),
        ("devnet_setAutoStake", "set_auto_stake"),
        ("devnet_setScores", "set_scores"),
        ("devnet_skipEpochs", "skip_epochs"),
    ] {
        m.register_method(name, move |p, s, _| -> RpcResult<Json> {
            submit(s, action_with_kind(&p, kind)?)
        })
        .map_err(reg)?;
    }
    m.register_method("devnet_groundTruth", |p, s, _| -> RpcResult<Json> {
        let t: TruthParams = object_params(&p)?;
        let c = read(s)?;
        let from = t.from.unwrap_or(c.genesis_number());
        let to = t.to.unwrap_or(c.head().number);
        if to.saturating_sub(from) > 1_000_000 {
            return Err(invalid_params("from..to spans more than 1000000 blocks"));
        }
        let hot = t
            .hotkey
            .as_deref()
            .map(parse_account)
            .transpose()
            .map_err(invalid_params)?;
        let cold = t
            .coldkey
            .as_deref()
            .map(parse_account)
            .transpose()
            .map_err(invalid_params)?;
        let entries: Vec<_> = c
            .ground_truth(from, to)
            .into_iter()
            .filter(|e| t.netuid.is_none_or(|n| n == e.netuid))
            .filter(|e| hot.is_none_or(|h| h == e.hotkey))
            .filter(|e| cold.is_none_or(|k| k == e.coldkey))
            .filter(|e| t.kind.is_none_or(|k| k == e.kind))
            .collect();
        Ok(json!({ "from": from, "to": to, "entries": entries }))
    })
    .map_err(reg)?;
    m.register_method("devnet_stake", |p, s, _| -> RpcResult<Json> {
        let a: StakeParams = object_params(&p)?;
        let hot = parse_account(&a.hotkey).map_err(invalid_params)?;
        let cold = parse_account(&a.coldkey).map_err(invalid_params)?;
        let at = a.at.map(Json::String).unwrap_or(Json::Null);
        with_state(s, &at, false, |v| {
            Ok(json!(v.state.stake(&hot, &cold, a.netuid)))
        })
    })
    .map_err(reg)?;
    Ok(m)
}
