//! A connection to a node over the legacy Substrate JSON-RPC (subxt's RPC client, counted):
//! finalized heads, block hashes in batches, one `System.Events` read per block, batched
//! storage reads (`state_queryStorageAt`, `state_getKeysPaged`), and the metadata of the
//! runtime each block runs (fetched again after `System.CodeUpdated`). A client can share
//! a [`ReadMemo`]: state reads at a block hash are answered once for every caller that asks
//! the same (a read ahead of the processing and the processing's own read of it).

use std::sync::Arc;

use futures::future::try_join_all;
use serde::Deserialize;
use serde_json::Value as Json;
use subxt::config::substrate::SubstrateHeader;
use subxt::ext::codec::{Decode, Encode};
use subxt::rpcs::client::{RpcClient, RpcSubscription, rpc_params};
use subxt::utils::H256;

use super::metadata::ChainMeta;
use super::rpc::{RpcStats, classify, connect};
use super::{ChainError, Hash};

/// Keys per `state_queryStorageAt` request (nodes cap request and response sizes).
pub const STORAGE_BATCH: usize = 512;
/// Keys per `state_getKeysPaged` page (the node's maximum).
const KEYS_PAGE: u32 = 1000;

/// A block header as the legacy RPC returns it.
pub type Header = SubstrateHeader<H256>;

/// The hash of a header: blake2_256 of its SCALE encoding.
pub fn header_hash(h: &Header) -> Hash {
    sp_crypto_hashing::blake2_256(&h.encode())
}

/// `0x` + lower-case hex.
pub fn hex0x(b: &[u8]) -> String {
    format!("0x{}", hex::encode(b))
}

/// Parses a `0x` hex hash.
pub fn parse_hash(s: &str) -> Result<Hash, ChainError> {
    let b =
        hex::decode(s.trim_start_matches("0x")).map_err(|e| ChainError::decode("block hash", e))?;
    b.try_into()
        .map_err(|_| ChainError::decode("block hash", format!("{s} is not 32 bytes")))
}

fn parse_hex(s: &str, what: &str) -> Result<Vec<u8>, ChainError> {
    hex::decode(s.trim_start_matches("0x")).map_err(|e| ChainError::decode(what, e))
}

/// State reads shared between the clients that hold it, by block and request: the first
/// caller sends the request, later ones (also while it is in flight) get its answer. State
/// at a block hash never changes, so a memoised answer is exact. Entries stay until
/// [`ReadMemo::forget_before`] drops those of older blocks; a failed read is not kept.
#[derive(Default)]
pub struct ReadMemo {
    cells: std::sync::Mutex<MemoCells>,
    /// Reads asked for that an earlier caller had already started (or answered).
    shared: std::sync::atomic::AtomicU64,
}

type MemoCells = std::collections::BTreeMap<(u64, String), Arc<tokio::sync::OnceCell<Json>>>;

impl ReadMemo {
    pub fn new() -> Arc<Self> {
        Arc::new(ReadMemo::default())
    }

    fn cell(&self, number: u64, key: String) -> Arc<tokio::sync::OnceCell<Json>> {
        let mut cells = self.cells.lock().unwrap_or_else(|e| e.into_inner());
        match cells.entry((number, key)) {
            std::collections::btree_map::Entry::Occupied(e) => {
                self.shared
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                e.get().clone()
            }
            std::collections::btree_map::Entry::Vacant(e) => e.insert(Default::default()).clone(),
        }
    }

    /// Reads asked for that an earlier caller had already started: with a read-ahead,
    /// the reads the processing found under way or answered.
    pub fn shared(&self) -> u64 {
        self.shared.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Drops the reads at blocks before `number`.
    pub fn forget_before(&self, number: u64) {
        let mut cells = self.cells.lock().unwrap_or_else(|e| e.into_inner());
        let keep = cells.split_off(&(number, String::new()));
        *cells = keep;
    }

    /// Reads held.
    pub fn len(&self) -> usize {
        self.cells.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A connection to one node.
#[derive(Clone)]
pub struct ChainClient {
    url: String,
    rpc: RpcClient,
    stats: Arc<RpcStats>,
    genesis: Hash,
    memo: Option<Arc<ReadMemo>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RuntimeVersion {
    spec_version: u32,
}

#[derive(Deserialize)]
struct StorageChangeSet {
    changes: Vec<(String, Option<String>)>,
}

impl ChainClient {
    /// Connects and reads the genesis hash.
    pub async fn connect(url: &str, stats: Arc<RpcStats>) -> Result<Self, ChainError> {
        let rpc = connect(url, stats.clone()).await?;
        let mut c = ChainClient {
            url: url.to_string(),
            rpc,
            stats,
            genesis: [0; 32],
            memo: None,
        };
        let g = c
            .block_hashes(0, 0)
            .await?
            .pop()
            .flatten()
            .ok_or_else(|| ChainError::Rpc {
                method: "chain_getBlockHash".into(),
                message: "the node has no genesis block".into(),
            })?;
        c.genesis = g;
        Ok(c)
    }

    /// The same connection, its state reads shared through `memo`.
    pub fn with_memo(&self, memo: Arc<ReadMemo>) -> Self {
        ChainClient {
            memo: Some(memo),
            ..self.clone()
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn stats(&self) -> &Arc<RpcStats> {
        &self.stats
    }

    pub fn genesis(&self) -> Hash {
        self.genesis
    }

    /// The raw RPC client (for methods this module does not wrap, e.g. a devnet's control methods).
    pub fn rpc(&self) -> &RpcClient {
        &self.rpc
    }

    async fn request<T: serde::de::DeserializeOwned>(
        &self,
        method: &str,
        params: subxt::rpcs::client::RpcParams,
    ) -> Result<T, ChainError> {
        self.rpc
            .request(method, params)
            .await
            .map_err(|e| classify(&self.url, method, e))
    }

    /// A state read at block `number`: through the memo when there is one (`key` names
    /// the request: method, parameters and the block hash).
    async fn state_request<T: serde::de::DeserializeOwned>(
        &self,
        number: u64,
        method: &str,
        key: impl FnOnce() -> String,
        params: subxt::rpcs::client::RpcParams,
    ) -> Result<T, ChainError> {
        let Some(memo) = &self.memo else {
            return self
                .request(method, params)
                .await
                .map_err(|e| self.state_err(number, e));
        };
        let cell = memo.cell(number, format!("{method} {}", key()));
        let v = cell
            .get_or_try_init(|| async {
                self.request::<Json>(method, params)
                    .await
                    .map_err(|e| self.state_err(number, e))
            })
            .await?;
        serde_json::from_value(v.clone()).map_err(|e| ChainError::decode(method, e))
    }

    /// Maps a state read error at a block to Pruned when the node discarded the state.
    fn state_err(&self, block: u64, e: ChainError) -> ChainError {
        match e {
            ChainError::Rpc { message, .. }
                if message.contains("State already discarded")
                    || message.contains("UnknownBlock")
                    || message.contains("not found in the database")
                    || message.contains("pruned") =>
            {
                ChainError::Pruned {
                    url: self.url.clone(),
                    block,
                    message,
                }
            }
            e => e,
        }
    }

    /// The latest finalized block: (number, hash).
    pub async fn finalized_head(&self) -> Result<(u64, Hash), ChainError> {
        let h: String = self
            .request("chain_getFinalizedHead", rpc_params![])
            .await?;
        let header = self.header(&parse_hash(&h)?).await?;
        Ok((header.number, parse_hash(&h)?))
    }

    /// A header by hash.
    pub async fn header(&self, hash: &Hash) -> Result<Header, ChainError> {
        let h: Option<Header> = self
            .request("chain_getHeader", rpc_params![hex0x(hash)])
            .await?;
        h.ok_or_else(|| ChainError::Rpc {
            method: "chain_getHeader".into(),
            message: format!("no header for {}", hex0x(hash)),
        })
    }

    /// Canonical hashes of blocks `from..=to` in one request (None past the head).
    pub async fn block_hashes(&self, from: u64, to: u64) -> Result<Vec<Option<Hash>>, ChainError> {
        let numbers: Vec<u64> = (from..=to).collect();
        let v: Json = self
            .request("chain_getBlockHash", rpc_params![numbers])
            .await?;
        let list = match v {
            Json::Array(l) => l,
            single => vec![single],
        };
        list.iter()
            .map(|h| match h {
                Json::String(s) => parse_hash(s).map(Some),
                _ => Ok(None),
            })
            .collect()
    }

    /// `System.Events` bytes of a block: the one read per block. (The key is the same in
    /// every runtime: twox128("System") ++ twox128("Events").)
    pub async fn events(&self, number: u64, hash: &Hash) -> Result<Vec<u8>, ChainError> {
        let mut key = sp_crypto_hashing::twox_128(b"System").to_vec();
        key.extend_from_slice(&sp_crypto_hashing::twox_128(b"Events"));
        let v: Option<String> = self
            .request("state_getStorage", rpc_params![hex0x(&key), hex0x(hash)])
            .await
            .map_err(|e| self.state_err(number, e))?;
        v.map(|s| parse_hex(&s, "System.Events"))
            .transpose()
            .map(Option::unwrap_or_default)
    }

    /// Values of `keys` at a block, in order, with as few requests as the batch size allows
    /// (sent concurrently).
    pub async fn storage_at(
        &self,
        keys: &[Vec<u8>],
        number: u64,
        hash: &Hash,
    ) -> Result<Vec<Option<Vec<u8>>>, ChainError> {
        let at = hex0x(hash);
        let reqs = keys.chunks(STORAGE_BATCH).map(|chunk| {
            let hex: Vec<String> = chunk.iter().map(|k| hex0x(k)).collect();
            let at = at.clone();
            async move {
                let sets: Vec<StorageChangeSet> = self
                    .state_request(
                        number,
                        "state_queryStorageAt",
                        || format!("{at} {}", hex.join(",")),
                        rpc_params![hex.clone(), at.clone()],
                    )
                    .await?;
                let mut by_key = std::collections::HashMap::new();
                for set in sets {
                    for (k, v) in set.changes {
                        by_key.insert(k, v);
                    }
                }
                hex.iter()
                    .map(|k| {
                        by_key
                            .get(k)
                            .cloned()
                            .flatten()
                            .map(|v| parse_hex(&v, "storage value"))
                            .transpose()
                    })
                    .collect::<Result<Vec<_>, _>>()
            }
        });
        Ok(try_join_all(reqs).await?.into_iter().flatten().collect())
    }

    /// Every key under `prefix` at a block (paged).
    pub async fn keys(
        &self,
        prefix: &[u8],
        number: u64,
        hash: &Hash,
    ) -> Result<Vec<Vec<u8>>, ChainError> {
        let mut out = vec![];
        let mut start: Option<String> = None;
        loop {
            let page: Vec<String> = self
                .state_request(
                    number,
                    "state_getKeysPaged",
                    || format!("{} {} {KEYS_PAGE} {start:?}", hex0x(hash), hex0x(prefix)),
                    rpc_params![hex0x(prefix), KEYS_PAGE, start.clone(), hex0x(hash)],
                )
                .await?;
            let n = page.len();
            start = page.last().cloned();
            for k in page {
                out.push(parse_hex(&k, "storage key")?);
            }
            if n < KEYS_PAGE as usize {
                return Ok(out);
            }
        }
    }

    /// The runtime version (spec) at a block.
    pub async fn spec_version(&self, number: u64, hash: &Hash) -> Result<u32, ChainError> {
        let v: RuntimeVersion = self
            .request("state_getRuntimeVersion", rpc_params![hex0x(hash)])
            .await
            .map_err(|e| self.state_err(number, e))?;
        Ok(v.spec_version)
    }

    /// The metadata of the runtime at a block: V15 through `Metadata_metadata_at_version`,
    /// else what `state_getMetadata` serves (V14).
    pub async fn metadata(&self, number: u64, hash: &Hash) -> Result<ChainMeta, ChainError> {
        let spec = self.spec_version(number, hash).await?;
        let at = hex0x(hash);
        let v15: Result<String, _> = self
            .request(
                "state_call",
                rpc_params![
                    "Metadata_metadata_at_version",
                    hex0x(&15u32.encode()),
                    at.clone()
                ],
            )
            .await;
        if let Ok(hexed) = v15 {
            let raw = parse_hex(&hexed, "Metadata_metadata_at_version")?;
            if let Ok(Some(bytes)) = Option::<Vec<u8>>::decode(&mut &raw[..]) {
                return ChainMeta::from_bytes(&bytes, spec);
            }
        }
        let hexed: String = self
            .request("state_getMetadata", rpc_params![at])
            .await
            .map_err(|e| self.state_err(number, e))?;
        ChainMeta::from_bytes(&parse_hex(&hexed, "state_getMetadata")?, spec)
    }

    /// Finalized headers as the node announces them.
    pub async fn subscribe_finalized(&self) -> Result<RpcSubscription<Header>, ChainError> {
        self.rpc
            .subscribe(
                "chain_subscribeFinalizedHeads",
                rpc_params![],
                "chain_unsubscribeFinalizedHeads",
            )
            .await
            .map_err(|e| classify(&self.url, "chain_subscribeFinalizedHeads", e))
    }
}
