//! The JSON-RPC surface (jsonrpsee, WebSocket and HTTP on one port): the legacy Substrate
//! methods with the shapes subxt's legacy backend, polkadot-js and py-substrate-interface
//! expect, and the `devnet_*` control methods.

mod author;
#[cfg(test)]
mod author_tests;
mod control;
mod node;
mod storage_subs;
mod subscriptions;
mod substrate;
#[cfg(test)]
mod tests;

use std::sync::{Arc, RwLock};

use jsonrpsee::RpcModule;
use jsonrpsee::types::{ErrorObject, ErrorObjectOwned, Params};
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
    /// `--strict`: a storage item or runtime API the devnet does not model answers with
    /// an error naming it (`crate::modelled`) instead of null (read as the default).
    pub strict: bool,
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

/// Hex with or without `0x`, as a node's `Bytes` / `StorageKey` / hash parameters
/// (`impl-serde` `from_hex`) accept it.
fn parse_hex(s: &str, what: &str) -> RpcResult<Vec<u8>> {
    let h = s.strip_prefix("0x").unwrap_or(s);
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

/// As `with_state`, for a body that answers JSON-RPC errors itself.
fn with_view<T>(
    s: &Shared,
    at: &Json,
    f: impl FnOnce(&StorageView) -> RpcResult<T>,
) -> RpcResult<T> {
    let chain = read(s)?;
    let at = parse_hash(at, "block hash")?;
    let block = chain.resolve(at).map_err(client_err)?;
    let state = chain.state_at(&block.hash).map_err(client_err)?;
    let view = StorageView {
        md: &block.runtime.md,
        state: &state,
        block: &block,
    };
    f(&view)
}

/// A storage value: the runtime's own items (`crate::runtime_storage`), else the model's.
/// With `strict`, a key inside an item the devnet does not model is an error naming it
/// (`crate::modelled`).
fn get(v: &StorageView, key: &[u8], strict: bool) -> RpcResult<Option<Vec<u8>>> {
    if let Some(r) = crate::runtime_storage::get(v, key) {
        return r.map_err(client_err);
    }
    if strict && let Some(item) = crate::modelled::unmodelled_storage(v.md, key) {
        return Err(unmodelled_err(&item));
    }
    v.get(key).map_err(client_err)
}

/// The error `--strict` answers for a storage item or runtime API the devnet does not
/// model (code `crate::modelled::UNMODELLED_CODE`, the name in `data.unmodelled`).
fn unmodelled_err(what: &str) -> ErrorObjectOwned {
    ErrorObject::owned(
        crate::modelled::UNMODELLED_CODE,
        format!(
            "devnet --strict: {what} is not modelled by this devnet (a node would read it \
             from its state; null would hand the client the metadata default)"
        ),
        Some(json!({ "unmodelled": what })),
    )
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
    "system_peers",
    "system_reservedPeers",
    "system_localListenAddresses",
    "system_nodeRoles",
    "system_syncState",
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
    "state_queryStorage",
    "state_getStorageHash",
    "state_getStorageSize",
    "state_subscribeStorage",
    "state_unsubscribeStorage",
    "state_call",
    "system_accountNextIndex",
    "payment_queryInfo",
    "payment_queryFeeDetails",
    "author_pendingExtrinsics",
    "author_submitExtrinsic",
    "author_submitAndWatchExtrinsic",
    "author_unwatchExtrinsic",
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

fn reg(e: jsonrpsee::core::RegisterMethodError) -> DevnetError {
    DevnetError::Server(e.to_string())
}

/// Builds the RPC module over the shared chain.
pub fn module(shared: Arc<Shared>) -> Result<RpcModule<Arc<Shared>>, DevnetError> {
    let mut m = RpcModule::new(shared);
    substrate::register(&mut m)?;
    subscriptions::register(&mut m)?;
    storage_subs::register(&mut m)?;
    node::register(&mut m)?;
    author::register(&mut m)?;
    control::register(&mut m)?;
    node::register_aliases(&mut m)?;
    Ok(m)
}
