//! The node's metadata: decoded once per runtime version, checked for every storage item
//! and event the ingest needs (a clear error names what is missing), and used to build
//! storage keys (hashers from the metadata) and decode values and events.

use std::collections::BTreeMap;

use subxt::Metadata;
use subxt::ext::frame_decode::storage::StorageHasher;
use subxt::ext::scale_value::{self, Value};

use super::ChainError;
use super::layouts::{self, MetaFields};

/// One part of a storage key, SCALE-encoded before hashing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPart {
    U16(u16),
    Account([u8; 32]),
}

impl KeyPart {
    fn encode(&self) -> Vec<u8> {
        match self {
            KeyPart::U16(v) => v.to_le_bytes().to_vec(),
            KeyPart::Account(a) => a.to_vec(),
        }
    }
}

/// Storage items the ingest reads: (pallet, entry, required).
pub const STORAGE: &[(&str, &str, bool)] = &[
    ("System", "Events", true),
    ("SubtensorModule", "Keys", true),
    ("SubtensorModule", "Owner", true),
    ("SubtensorModule", "OwnedHotkeys", true),
    ("SubtensorModule", "StakingHotkeys", true),
    ("SubtensorModule", "TotalHotkeyAlpha", true),
    ("SubtensorModule", "Tempo", true),
    // Old and new share items: at least one of each pair must exist (checked below).
    ("SubtensorModule", "Alpha", false),
    ("SubtensorModule", "AlphaV2", false),
    ("SubtensorModule", "TotalHotkeyShares", false),
    ("SubtensorModule", "TotalHotkeySharesV2", false),
    // Dynamic tempo (spec 423+); absent before.
    ("SubtensorModule", "LastEpochBlock", false),
    ("SubtensorModule", "SubnetEpochIndex", false),
    ("SubtensorModule", "AlphaDividendsPerSubnet", false),
    // The owner cut an epoch pays with no event (`positions::owner_cut`).
    ("SubtensorModule", "SubnetOwner", false),
    ("SubtensorModule", "SubnetOwnerHotkey", false),
    ("SubtensorModule", "PendingOwnerCut", false),
    ("SubtensorModule", "SubnetAlphaOutEmission", false),
];

/// One storage item's layout.
#[derive(Debug, Clone)]
pub struct StorageInfo {
    pub prefix: [u8; 32],
    pub hashers: Vec<StorageHasher>,
    pub value_ty: u32,
}

/// The metadata of one runtime version, with the items the ingest needs resolved.
pub struct ChainMeta {
    pub spec_version: u32,
    md: Metadata,
    storage: BTreeMap<(String, String), StorageInfo>,
    events_ty: u32,
    /// What the ingest does differently on this runtime.
    pub profile: super::Profile,
    /// Event name -> fields (name, None for unnamed fields, and shape), for the events the
    /// ingest reads.
    pub event_fields: BTreeMap<String, MetaFields>,
}

impl ChainMeta {
    /// Checks and indexes metadata bytes (`RuntimeMetadataPrefixed`) of runtime `spec_version`.
    pub fn from_bytes(bytes: &[u8], spec_version: u32) -> Result<Self, ChainError> {
        let md = Metadata::decode_from(bytes)
            .map_err(|e| ChainError::Metadata(format!("cannot decode the node's metadata: {e}")))?;
        Self::new(md, spec_version)
    }

    pub fn new(md: Metadata, spec_version: u32) -> Result<Self, ChainError> {
        let mut storage = BTreeMap::new();
        for (pallet, entry, required) in STORAGE {
            match storage_info(&md, pallet, entry) {
                Some(info) => {
                    storage.insert((pallet.to_string(), entry.to_string()), info);
                }
                None if *required => {
                    return Err(ChainError::MissingMetadata(format!(
                        "storage item {pallet}.{entry}"
                    )));
                }
                None => {}
            }
        }
        let has = |e: &str| storage.contains_key(&("SubtensorModule".to_string(), e.to_string()));
        if !has("Alpha") && !has("AlphaV2") {
            return Err(ChainError::MissingMetadata(
                "storage item SubtensorModule.AlphaV2 (nor the older Alpha)".into(),
            ));
        }
        if !has("TotalHotkeyShares") && !has("TotalHotkeySharesV2") {
            return Err(ChainError::MissingMetadata(
                "storage item SubtensorModule.TotalHotkeySharesV2 (nor the older TotalHotkeyShares)".into(),
            ));
        }
        let events_ty = storage[&("System".to_string(), "Events".to_string())].value_ty;
        let mut event_fields = BTreeMap::new();
        let pallet = md
            .pallet_by_name("SubtensorModule")
            .ok_or_else(|| ChainError::MissingMetadata("pallet SubtensorModule".into()))?;
        let fields_of = |v: &scale_info::Variant<scale_info::form::PortableForm>| -> MetaFields {
            v.fields
                .iter()
                .map(|f| (f.name.clone(), layouts::shape_of(md.types(), f.ty.id)))
                .collect()
        };
        for v in pallet.event_variants().unwrap_or_default() {
            event_fields.insert(v.name.clone(), fields_of(v));
        }
        // Events of other pallets the ingest reads, qualified by pallet.
        for p in md.pallets() {
            if p.name() == "SubtensorModule" {
                continue;
            }
            for v in p.event_variants().unwrap_or_default() {
                if v.name == "TransactionFeePaidWithAlpha" || v.name == "CodeUpdated" {
                    event_fields.insert(v.name.clone(), fields_of(v));
                }
            }
        }
        layouts::check(&event_fields, spec_version)?;
        Ok(ChainMeta {
            spec_version,
            profile: super::Profile::of(spec_version),
            md,
            storage,
            events_ty,
            event_fields,
        })
    }

    pub fn metadata(&self) -> &Metadata {
        &self.md
    }

    /// Whether the runtime has a storage item (among those the ingest knows).
    pub fn has(&self, pallet: &str, entry: &str) -> bool {
        self.storage
            .contains_key(&(pallet.to_string(), entry.to_string()))
    }

    fn info(&self, pallet: &str, entry: &str) -> Result<&StorageInfo, ChainError> {
        self.storage
            .get(&(pallet.to_string(), entry.to_string()))
            .ok_or_else(|| ChainError::MissingMetadata(format!("storage item {pallet}.{entry}")))
    }

    /// The full key of an entry; `parts` may be a prefix of its keys (for iteration).
    pub fn key(&self, pallet: &str, entry: &str, parts: &[KeyPart]) -> Result<Vec<u8>, ChainError> {
        let info = self.info(pallet, entry)?;
        if parts.len() > info.hashers.len() {
            return Err(ChainError::Metadata(format!(
                "{pallet}.{entry} has {} keys, {} given",
                info.hashers.len(),
                parts.len()
            )));
        }
        let mut out = info.prefix.to_vec();
        for (part, hasher) in parts.iter().zip(&info.hashers) {
            let enc = part.encode();
            match hasher {
                StorageHasher::Identity => out.extend_from_slice(&enc),
                StorageHasher::Blake2_128Concat => {
                    out.extend_from_slice(&sp_crypto_hashing::blake2_128(&enc));
                    out.extend_from_slice(&enc);
                }
                StorageHasher::Twox64Concat => {
                    out.extend_from_slice(&sp_crypto_hashing::twox_64(&enc));
                    out.extend_from_slice(&enc);
                }
                StorageHasher::Blake2_128 => {
                    out.extend_from_slice(&sp_crypto_hashing::blake2_128(&enc))
                }
                StorageHasher::Blake2_256 => {
                    out.extend_from_slice(&sp_crypto_hashing::blake2_256(&enc))
                }
                StorageHasher::Twox128 => out.extend_from_slice(&sp_crypto_hashing::twox_128(&enc)),
                StorageHasher::Twox256 => out.extend_from_slice(&sp_crypto_hashing::twox_256(&enc)),
            }
        }
        Ok(out)
    }

    /// Decodes a value of an entry with the metadata's type.
    pub fn decode(
        &self,
        pallet: &str,
        entry: &str,
        bytes: &[u8],
    ) -> Result<Value<u32>, ChainError> {
        let info = self.info(pallet, entry)?;
        self.decode_type(&format!("{pallet}.{entry}"), info.value_ty, bytes)
    }

    /// Decodes `System.Events`.
    pub fn decode_events(&self, bytes: &[u8]) -> Result<Value<u32>, ChainError> {
        self.decode_type("System.Events", self.events_ty, bytes)
    }

    /// Decodes `bytes` as type `ty`, in two passes. The first walks the bytes without
    /// building anything, so bytes that do not fit the type (a different runtime's
    /// metadata, a damaged response) fail there, as an error naming `what`. Building the
    /// value allocates a list's claimed length up front, and a length read from the wrong
    /// bytes (billions of items) would abort the process instead of failing; after the
    /// first pass every claimed length is backed by the bytes.
    fn decode_type(&self, what: &str, ty: u32, bytes: &[u8]) -> Result<Value<u32>, ChainError> {
        use subxt::ext::scale_decode::visitor::{IgnoreVisitor, decode_with_visitor};
        let mut walk = bytes;
        decode_with_visitor(&mut walk, ty, self.md.types(), IgnoreVisitor::new()).map_err(|e| {
            ChainError::decode(
                what,
                format!(
                    "the bytes do not fit the type the metadata of spec {} gives it ({e}): \
                     the node answered for another runtime, or the data is damaged",
                    self.spec_version
                ),
            )
        })?;
        scale_value::scale::decode_as_type(&mut &bytes[..], ty, self.md.types())
            .map_err(|e| ChainError::decode(what, e))
    }
}

fn storage_info(md: &Metadata, pallet: &str, entry: &str) -> Option<StorageInfo> {
    let p = md.pallet_by_name(pallet)?;
    let s = p.storage()?;
    let e = s.entry_by_name(entry)?;
    let mut prefix = [0u8; 32];
    prefix[..16].copy_from_slice(&sp_crypto_hashing::twox_128(s.prefix().as_bytes()));
    prefix[16..].copy_from_slice(&sp_crypto_hashing::twox_128(e.name().as_bytes()));
    Some(StorageInfo {
        prefix,
        hashers: e.keys().map(|k| k.hasher).collect(),
        value_ty: e.value_ty(),
    })
}
