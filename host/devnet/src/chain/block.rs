//! One block: its header (real parent hashes, digest), body, events and ground truth, and
//! the runtimes that executed it and that its post-state holds.

use std::sync::{Arc, OnceLock};

use codec::{Decode, Encode};
use serde_json::{Value as Json, json};

use crate::encode::{UpgradeEvent, encode_events};
use crate::error::{DevnetError, Result};
use crate::hashing::blake2_256;
use crate::metadata::ChainMetadata;
use crate::model::{Action, EventRecord, Phase, TruthEntry};
use crate::runtime::RuntimeProfile;

/// A 32-byte block hash.
pub type Hash = [u8; 32];

/// A Substrate digest item (the subset a Subtensor block header carries).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum DigestItem {
    #[codec(index = 0)]
    Other(Vec<u8>),
    #[codec(index = 4)]
    Consensus([u8; 4], Vec<u8>),
    #[codec(index = 5)]
    Seal([u8; 4], Vec<u8>),
    #[codec(index = 6)]
    PreRuntime([u8; 4], Vec<u8>),
    /// Deposited by `frame_system` when `set_code` changes the runtime.
    #[codec(index = 8)]
    RuntimeEnvironmentUpdated,
}

/// A block header (`sp_runtime::generic::Header<u32, BlakeTwo256>`).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Header {
    pub parent_hash: Hash,
    #[codec(compact)]
    pub number: u32,
    pub state_root: Hash,
    pub extrinsics_root: Hash,
    pub digest: Vec<DigestItem>,
}

impl Header {
    /// `blake2_256` of the SCALE-encoded header.
    pub fn hash(&self) -> Hash {
        blake2_256(&self.encode())
    }

    /// The header as the legacy RPC returns it (number as a hex string).
    pub fn to_json(&self) -> Json {
        json!({
            "parentHash": hex0x(&self.parent_hash),
            "number": format!("0x{:x}", self.number),
            "stateRoot": hex0x(&self.state_root),
            "extrinsicsRoot": hex0x(&self.extrinsics_root),
            "digest": { "logs": self.digest.iter().map(|d| hex0x(&d.encode())).collect::<Vec<_>>() },
        })
    }
}

/// `0x` + lower-case hex.
pub fn hex0x(b: &[u8]) -> String {
    format!("0x{}", hex::encode(b))
}

/// One produced block.
#[derive(Debug)]
pub struct Block {
    pub hash: Hash,
    pub header: Header,
    pub number: u64,
    /// Reorg generation the block was produced in.
    pub branch: u64,
    pub events: Vec<EventRecord>,
    pub(super) events_encoded: OnceLock<std::result::Result<Vec<u8>, String>>,
    /// Length-prefixed encoded extrinsics (0 = timestamp inherent).
    pub extrinsics: Vec<Vec<u8>>,
    pub actions: Vec<Action>,
    pub truth: Vec<TruthEntry>,
    /// The runtime that executed this block: its events, extrinsics and the layout of
    /// the storage it wrote.
    pub runtime: Arc<RuntimeProfile>,
    /// The runtime in this block's post-state (`:code`): what version, metadata and
    /// runtime API queries at this block answer. It differs from `runtime` only in the
    /// block whose `set_code` upgrades the runtime, as on a real node.
    pub code: Arc<RuntimeProfile>,
    /// The events of the upgrade extrinsic (after the model's), in the upgrade block.
    pub upgrade_events: Vec<(Phase, UpgradeEvent)>,
    /// Pooled transactions this block left out (their call failed): (hash, why).
    pub dropped: Vec<(Hash, String)>,
}

impl Block {
    /// `System.Events` of this block, encoded once with `md`: the metadata of the
    /// runtime that executed it (`self.runtime.md`).
    pub fn events_encoded(&self, md: &ChainMetadata) -> Result<&[u8]> {
        self.events_encoded
            .get_or_init(|| {
                encode_events(md, &self.events, &self.upgrade_events).map_err(|e| e.to_string())
            })
            .as_deref()
            .map_err(|e| DevnetError::Encode(e.clone()))
    }

    /// The block as `chain_getBlock` returns it.
    pub fn to_json(&self) -> Json {
        json!({
            "block": {
                "header": self.header.to_json(),
                "extrinsics": self.extrinsics.iter().map(|x| hex0x(x)).collect::<Vec<_>>(),
            },
            "justifications": null,
        })
    }
}
