//! The chain's metadata: loads the V16 file, derives the V15 and V14 views a real node
//! serves (down-conversions over the same type registry), and answers look-ups of
//! pallets, storage entries, events, constants and runtime APIs by name.

use std::collections::HashMap;
use std::sync::Arc;

use codec::{Decode, Encode};
use frame_metadata::{META_RESERVED, RuntimeMetadata, RuntimeMetadataPrefixed, v14, v15, v16};
use scale_info::{PortableRegistry, TypeDef, form::PortableForm};

use crate::error::DevnetError;
use crate::hashing::twox_128;

/// The finney metadata (spec 424, V16) shipped with the crate.
pub const FINNEY_METADATA: &[u8] = include_bytes!("../metadata/finney-metadata.scale");

/// How a storage map's key part is hashed.
pub use frame_metadata::v14::StorageHasher;

/// A storage entry resolved from the metadata.
#[derive(Debug, Clone)]
pub struct StorageEntryInfo {
    pub pallet: String,
    pub entry: String,
    /// `twox128(pallet prefix) ++ twox128(entry name)`.
    pub prefix: [u8; 32],
    /// One hasher per key part (empty for a plain value).
    pub hashers: Vec<StorageHasher>,
    /// The type id of each key part, in order.
    pub key_types: Vec<u32>,
    pub value_type: u32,
    /// Whether a missing value reads as the default (ValueQuery) or as None.
    pub default_on_missing: bool,
    pub default: Vec<u8>,
}

/// A runtime API method resolved from the metadata.
#[derive(Debug, Clone)]
pub struct RuntimeApiMethodInfo {
    pub api: String,
    pub method: String,
    pub inputs: Vec<(String, u32)>,
    pub output: u32,
}

/// The loaded metadata with its encoded V14/V15/V16 forms and look-up tables.
#[derive(Debug)]
pub struct ChainMetadata {
    pub v16: v16::RuntimeMetadataV16,
    /// `RuntimeMetadataPrefixed` encodings, by version.
    encoded_v14: Vec<u8>,
    encoded_v15: Vec<u8>,
    encoded_v16: Vec<u8>,
    storage: HashMap<(String, String), StorageEntryInfo>,
    storage_by_prefix: HashMap<[u8; 32], (String, String)>,
    apis: HashMap<String, RuntimeApiMethodInfo>,
    /// The `System::Version` constant bytes (an encoded `RuntimeVersion`).
    pub runtime_version: RuntimeVersionInfo,
}

/// The runtime version decoded from the `System::Version` constant.
#[derive(Debug, Clone)]
pub struct RuntimeVersionInfo {
    pub spec_name: String,
    pub impl_name: String,
    pub authoring_version: u32,
    pub spec_version: u32,
    pub impl_version: u32,
    pub apis: Vec<([u8; 8], u32)>,
    pub transaction_version: u32,
    pub system_version: u8,
    /// The raw SCALE bytes (what `Core_version` returns).
    pub encoded: Vec<u8>,
}

#[derive(Decode)]
struct RawRuntimeVersion {
    spec_name: String,
    impl_name: String,
    authoring_version: u32,
    spec_version: u32,
    impl_version: u32,
    apis: Vec<([u8; 8], u32)>,
    transaction_version: u32,
    system_version: u8,
}

impl ChainMetadata {
    /// Loads the shipped finney metadata.
    pub fn finney() -> Result<Arc<Self>, DevnetError> {
        Self::from_bytes(FINNEY_METADATA).map(Arc::new)
    }

    /// Decodes a `RuntimeMetadataPrefixed` holding V16.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DevnetError> {
        let prefixed = RuntimeMetadataPrefixed::decode(&mut &bytes[..])
            .map_err(|e| DevnetError::Metadata(format!("cannot decode metadata: {e}")))?;
        if prefixed.0 != META_RESERVED {
            return Err(DevnetError::Metadata("metadata magic is not 'meta'".into()));
        }
        let RuntimeMetadata::V16(v16) = prefixed.1 else {
            return Err(DevnetError::Metadata(format!(
                "metadata version {} is not 16",
                prefixed.1.version()
            )));
        };
        let v15 = to_v15(&v16);
        let v14 = to_v14(&v15);
        let encoded_v16 =
            RuntimeMetadataPrefixed(META_RESERVED, RuntimeMetadata::V16(v16.clone())).encode();
        let encoded_v15 =
            RuntimeMetadataPrefixed(META_RESERVED, RuntimeMetadata::V15(v15)).encode();
        let encoded_v14 =
            RuntimeMetadataPrefixed(META_RESERVED, RuntimeMetadata::V14(v14)).encode();

        let mut storage = HashMap::new();
        let mut storage_by_prefix = HashMap::new();
        for pallet in &v16.pallets {
            let Some(st) = &pallet.storage else { continue };
            for entry in &st.entries {
                let mut prefix = [0u8; 32];
                prefix[..16].copy_from_slice(&twox_128(st.prefix.as_bytes()));
                prefix[16..].copy_from_slice(&twox_128(entry.name.as_bytes()));
                let (hashers, key_types, value_type) = match &entry.ty {
                    v14::StorageEntryType::Plain(t) => (vec![], vec![], t.id),
                    v14::StorageEntryType::Map {
                        hashers,
                        key,
                        value,
                    } => {
                        let key_types = if hashers.len() == 1 {
                            vec![key.id]
                        } else {
                            match v16.types.resolve(key.id).map(|t| &t.type_def) {
                                Some(TypeDef::Tuple(t)) => t.fields.iter().map(|f| f.id).collect(),
                                _ => vec![key.id],
                            }
                        };
                        (hashers.clone(), key_types, value.id)
                    }
                };
                let info = StorageEntryInfo {
                    pallet: pallet.name.clone(),
                    entry: entry.name.clone(),
                    prefix,
                    hashers,
                    key_types,
                    value_type,
                    default_on_missing: matches!(
                        entry.modifier,
                        v14::StorageEntryModifier::Default
                    ),
                    default: entry.default.clone(),
                };
                storage_by_prefix.insert(prefix, (pallet.name.clone(), entry.name.clone()));
                storage.insert((pallet.name.clone(), entry.name.clone()), info);
            }
        }
        let mut apis = HashMap::new();
        for api in &v16.apis {
            for m in &api.methods {
                let info = RuntimeApiMethodInfo {
                    api: api.name.clone(),
                    method: m.name.clone(),
                    inputs: m.inputs.iter().map(|p| (p.name.clone(), p.ty.id)).collect(),
                    output: m.output.id,
                };
                apis.insert(format!("{}_{}", api.name, m.name), info);
            }
        }
        let version_bytes = v16
            .pallets
            .iter()
            .find(|p| p.name == "System")
            .and_then(|p| p.constants.iter().find(|c| c.name == "Version"))
            .map(|c| c.value.clone())
            .ok_or_else(|| DevnetError::Metadata("no System::Version constant".into()))?;
        let raw = RawRuntimeVersion::decode(&mut &version_bytes[..])
            .map_err(|e| DevnetError::Metadata(format!("cannot decode System::Version: {e}")))?;
        let runtime_version = RuntimeVersionInfo {
            spec_name: raw.spec_name,
            impl_name: raw.impl_name,
            authoring_version: raw.authoring_version,
            spec_version: raw.spec_version,
            impl_version: raw.impl_version,
            apis: raw.apis,
            transaction_version: raw.transaction_version,
            system_version: raw.system_version,
            encoded: version_bytes,
        };
        Ok(Self {
            v16,
            encoded_v14,
            encoded_v15,
            encoded_v16,
            storage,
            storage_by_prefix,
            apis,
            runtime_version,
        })
    }

    /// The type registry shared by all versions.
    pub fn types(&self) -> &PortableRegistry {
        &self.v16.types
    }

    /// The `RuntimeMetadataPrefixed` encoding of version 14, 15 or 16.
    pub fn encoded(&self, version: u32) -> Option<&[u8]> {
        match version {
            14 => Some(&self.encoded_v14),
            15 => Some(&self.encoded_v15),
            16 => Some(&self.encoded_v16),
            _ => None,
        }
    }

    /// The versions served by `Metadata_metadata_versions`.
    pub fn versions(&self) -> Vec<u32> {
        vec![14, 15, 16]
    }

    /// A storage entry by pallet and entry name.
    pub fn storage(&self, pallet: &str, entry: &str) -> Result<&StorageEntryInfo, DevnetError> {
        self.storage
            .get(&(pallet.to_string(), entry.to_string()))
            .ok_or_else(|| {
                DevnetError::Metadata(format!(
                    "no storage entry {pallet}::{entry} in the metadata"
                ))
            })
    }

    /// The storage entry whose 32-byte prefix starts `key`, if any.
    pub fn storage_for_key(&self, key: &[u8]) -> Option<&StorageEntryInfo> {
        let prefix: [u8; 32] = key.get(..32)?.try_into().ok()?;
        let (p, e) = self.storage_by_prefix.get(&prefix)?;
        self.storage.get(&(p.clone(), e.clone()))
    }

    /// All storage entries.
    pub fn storage_entries(&self) -> impl Iterator<Item = &StorageEntryInfo> {
        self.storage.values()
    }

    /// A runtime API method by its `state_call` name (`Api_method`).
    pub fn runtime_api(&self, name: &str) -> Option<&RuntimeApiMethodInfo> {
        self.apis.get(name)
    }

    /// The type id of the outer `RuntimeEvent` enum.
    pub fn event_enum_type(&self) -> u32 {
        self.v16.outer_enums.event_enum_ty.id
    }

    /// A pallet's index in the runtime.
    pub fn pallet_index(&self, pallet: &str) -> Option<u8> {
        self.v16
            .pallets
            .iter()
            .find(|p| p.name == pallet)
            .map(|p| p.index)
    }

    /// The type id of the outer `RuntimeCall` enum.
    pub fn call_enum_type(&self) -> u32 {
        self.v16.extrinsic.call_ty.id
    }

    /// The field names of an event variant, in order (None for unnamed fields).
    pub fn event_fields(&self, pallet: &str, variant: &str) -> Option<Vec<Option<String>>> {
        let p = self.v16.pallets.iter().find(|p| p.name == pallet)?;
        let ty = self.types().resolve(p.event.as_ref()?.ty.id)?;
        let TypeDef::Variant(v) = &ty.type_def else {
            return None;
        };
        let var = v.variants.iter().find(|x| x.name == variant)?;
        Some(var.fields.iter().map(|f| f.name.clone()).collect())
    }
}

/// Finds a type by its path (e.g. `["sp_runtime", "generic", ...]`).
fn find_type_by_path(types: &PortableRegistry, path: &[&str]) -> Option<u32> {
    types
        .types
        .iter()
        .find(|t| {
            t.ty.path
                .segments
                .iter()
                .map(String::as_str)
                .eq(path.iter().copied())
        })
        .map(|t| t.id)
}

fn unit_type(types: &PortableRegistry) -> Option<u32> {
    types
        .types
        .iter()
        .find(|t| matches!(&t.ty.type_def, TypeDef::Tuple(tt) if tt.fields.is_empty()))
        .map(|t| t.id)
}

/// The type params of the runtime's `UncheckedExtrinsic` (address, call, signature, extra).
fn unchecked_extrinsic(types: &PortableRegistry) -> Option<(u32, Vec<Option<u32>>)> {
    let t = types
        .types
        .iter()
        .find(|t| t.ty.path.segments.last().map(String::as_str) == Some("UncheckedExtrinsic"))?;
    Some((
        t.id,
        t.ty.type_params
            .iter()
            .map(|p| p.ty.map(|x| x.id))
            .collect(),
    ))
}

/// V16 -> V15: drops deprecation info, view functions and associated types; picks the
/// first extrinsic version and its transaction extensions.
pub fn to_v15(m: &v16::RuntimeMetadataV16) -> v15::RuntimeMetadataV15 {
    let pallets = m
        .pallets
        .iter()
        .map(|p| v15::PalletMetadata {
            name: p.name.clone(),
            storage: p.storage.as_ref().map(|s| v14::PalletStorageMetadata {
                prefix: s.prefix.clone(),
                entries: s
                    .entries
                    .iter()
                    .map(|e| v14::StorageEntryMetadata {
                        name: e.name.clone(),
                        modifier: e.modifier.clone(),
                        ty: e.ty.clone(),
                        default: e.default.clone(),
                        docs: e.docs.clone(),
                    })
                    .collect(),
            }),
            calls: p
                .calls
                .as_ref()
                .map(|c| v14::PalletCallMetadata { ty: c.ty }),
            event: p
                .event
                .as_ref()
                .map(|c| v14::PalletEventMetadata { ty: c.ty }),
            constants: p
                .constants
                .iter()
                .map(|c| v14::PalletConstantMetadata {
                    name: c.name.clone(),
                    ty: c.ty,
                    value: c.value.clone(),
                    docs: c.docs.clone(),
                })
                .collect(),
            error: p
                .error
                .as_ref()
                .map(|c| v14::PalletErrorMetadata { ty: c.ty }),
            index: p.index,
            docs: p.docs.clone(),
        })
        .collect();
    let ext = &m.extrinsic;
    let version = ext
        .versions
        .iter()
        .copied()
        .find(|v| *v == 4)
        .or(ext.versions.first().copied())
        .unwrap_or(4);
    let ext_indexes: Vec<u32> = ext
        .transaction_extensions_by_version
        .get(&0)
        .or_else(|| ext.transaction_extensions_by_version.values().next())
        .map(|v| v.iter().map(|c| c.0).collect())
        .unwrap_or_else(|| (0..ext.transaction_extensions.len() as u32).collect());
    let signed_extensions: Vec<v15::SignedExtensionMetadata<PortableForm>> = ext_indexes
        .iter()
        .filter_map(|i| ext.transaction_extensions.get(*i as usize))
        .map(|t| v15::SignedExtensionMetadata {
            identifier: t.identifier.clone(),
            ty: t.ty,
            additional_signed: t.implicit,
        })
        .collect();
    let unit = unit_type(&m.types).unwrap_or(0);
    let extra_ty = unchecked_extrinsic(&m.types)
        .and_then(|(_, params)| params.get(3).copied().flatten())
        .unwrap_or(unit);
    let runtime_ty =
        find_type_by_path(&m.types, &["node_subtensor_runtime", "Runtime"]).unwrap_or(unit);
    v15::RuntimeMetadataV15 {
        types: m.types.clone(),
        pallets,
        extrinsic: v15::ExtrinsicMetadata {
            version,
            address_ty: ext.address_ty,
            call_ty: ext.call_ty,
            signature_ty: ext.signature_ty,
            extra_ty: extra_ty.into(),
            signed_extensions,
        },
        ty: runtime_ty.into(),
        apis: m
            .apis
            .iter()
            .map(|a| v15::RuntimeApiMetadata {
                name: a.name.clone(),
                methods: a
                    .methods
                    .iter()
                    .map(|x| v15::RuntimeApiMethodMetadata {
                        name: x.name.clone(),
                        inputs: x.inputs.clone(),
                        output: x.output,
                        docs: x.docs.clone(),
                    })
                    .collect(),
                docs: a.docs.clone(),
            })
            .collect(),
        outer_enums: m.outer_enums.clone(),
        custom: m.custom.clone(),
    }
}

/// V15 -> V14: drops runtime APIs, outer enums and custom values; the extrinsic is
/// described by the registry's `UncheckedExtrinsic` type.
pub fn to_v14(m: &v15::RuntimeMetadataV15) -> v14::RuntimeMetadataV14 {
    let ext_ty = unchecked_extrinsic(&m.types)
        .map(|(id, _)| id)
        .unwrap_or(m.extrinsic.call_ty.id);
    v14::RuntimeMetadataV14 {
        types: m.types.clone(),
        pallets: m
            .pallets
            .iter()
            .map(|p| v14::PalletMetadata {
                name: p.name.clone(),
                storage: p.storage.clone(),
                calls: p.calls.clone(),
                event: p.event.clone(),
                constants: p.constants.clone(),
                error: p.error.clone(),
                index: p.index,
            })
            .collect(),
        extrinsic: v14::ExtrinsicMetadata {
            ty: ext_ty.into(),
            version: m.extrinsic.version,
            signed_extensions: m
                .extrinsic
                .signed_extensions
                .iter()
                .map(|s| v14::SignedExtensionMetadata {
                    identifier: s.identifier.clone(),
                    ty: s.ty,
                    additional_signed: s.additional_signed,
                })
                .collect(),
        },
        ty: m.ty,
    }
}

impl ChainMetadata {
    /// The field names of a call of a pallet, in order.
    pub fn call_fields(&self, pallet: &str, call: &str) -> Option<Vec<Option<String>>> {
        let p = self.v16.pallets.iter().find(|p| p.name == pallet)?;
        let ty = self.types().resolve(p.calls.as_ref()?.ty.id)?;
        let TypeDef::Variant(v) = &ty.type_def else {
            return None;
        };
        let var = v.variants.iter().find(|x| x.name == call)?;
        Some(var.fields.iter().map(|f| f.name.clone()).collect())
    }

    /// The transaction extensions of extrinsic version 4, in order: (identifier, type id).
    pub fn transaction_extensions(&self) -> Vec<(String, u32)> {
        self.transaction_extension_types()
            .into_iter()
            .map(|(id, ty, _)| (id, ty))
            .collect()
    }

    /// As `transaction_extensions`, with each one's implicit ("additional signed") type.
    pub fn transaction_extension_types(&self) -> Vec<(String, u32, u32)> {
        let ext = &self.v16.extrinsic;
        let idx: Vec<u32> = ext
            .transaction_extensions_by_version
            .get(&0)
            .map(|v| v.iter().map(|c| c.0).collect())
            .unwrap_or_else(|| (0..ext.transaction_extensions.len() as u32).collect());
        idx.iter()
            .filter_map(|i| ext.transaction_extensions.get(*i as usize))
            .map(|t| (t.identifier.clone(), t.ty.id, t.implicit.id))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_finney_and_serves_three_versions() {
        let md = ChainMetadata::finney().unwrap();
        assert_eq!(md.runtime_version.spec_version, 424);
        assert_eq!(md.runtime_version.spec_name, "node-subtensor");
        for v in [14u32, 15, 16] {
            let bytes = md.encoded(v).unwrap();
            let p = RuntimeMetadataPrefixed::decode(&mut &bytes[..]).unwrap();
            assert_eq!(p.1.version(), v);
        }
        // V16 re-encodes byte-for-byte to the file.
        assert_eq!(md.encoded(16).unwrap(), FINNEY_METADATA);
        assert!(md.encoded(13).is_none());
    }

    #[test]
    fn storage_entries_have_chain_md_hashers() {
        let md = ChainMetadata::finney().unwrap();
        let alpha = md.storage("SubtensorModule", "AlphaV2").unwrap();
        assert_eq!(
            alpha.hashers,
            vec![
                StorageHasher::Blake2_128Concat,
                StorageHasher::Blake2_128Concat,
                StorageHasher::Identity
            ]
        );
        let keys = md.storage("SubtensorModule", "Keys").unwrap();
        assert_eq!(
            keys.hashers,
            vec![StorageHasher::Identity, StorageHasher::Identity]
        );
        assert!(md.storage("SubtensorModule", "PendingEmission").is_err());
        let found = md.storage_for_key(&alpha.prefix).unwrap();
        assert_eq!(found.entry, "AlphaV2");
    }

    #[test]
    fn v14_extrinsic_type_is_unchecked_extrinsic() {
        let md = ChainMetadata::finney().unwrap();
        let p = RuntimeMetadataPrefixed::decode(&mut md.encoded(14).unwrap()).unwrap();
        let RuntimeMetadata::V14(v14) = p.1 else {
            panic!()
        };
        let ty = v14.types.resolve(v14.extrinsic.ty.id).unwrap();
        assert_eq!(ty.path.segments.last().unwrap(), "UncheckedExtrinsic");
        assert!(!v14.extrinsic.signed_extensions.is_empty());
    }
}
