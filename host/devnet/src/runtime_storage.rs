//! Storage items that follow the runtime rather than the chain model, served beside
//! `crate::storage`: `System.LastRuntimeUpgrade` (written at genesis by `frame_system`
//! and by `Executive::initialize_block` in the first block a new runtime runs) and, from
//! spec 459, `SubtensorModule.SubnetEpochConsensus` (every simulated subnet runs Yuma).
//! An item exists only if the runtime that executed the block declares it.

use scale_value::Value;

use crate::encode::{KeyPart, decode_storage_key, default_value, encode, num, storage_key};
use crate::error::Result;
use crate::storage::StorageView;

const ITEMS: &[(&str, &str)] = &[
    ("System", "LastRuntimeUpgrade"),
    ("SubtensorModule", "SubnetEpochConsensus"),
];

/// The value at `key` if it is one of these items: `Some(answer)`, else None (ask the
/// model's view).
pub fn get(v: &StorageView, key: &[u8]) -> Option<Result<Option<Vec<u8>>>> {
    let info = v.md.storage_for_key(key)?;
    let item = (info.pallet.as_str(), info.entry.as_str());
    if !ITEMS.contains(&item) {
        return None;
    }
    Some((|| {
        let value = match item {
            ("System", "LastRuntimeUpgrade") => {
                if key.len() != 32 {
                    return Ok(None);
                }
                let rv = &v.block.runtime.md.runtime_version;
                default_value(
                    v.md.types(),
                    info.value_type,
                    &[
                        ("spec_version", num(rv.spec_version)),
                        ("spec_name", Value::string(rv.spec_name.clone())),
                    ],
                )?
            }
            _ => {
                let Ok(parts) = decode_storage_key(v.md.types(), info, key) else {
                    return Ok(None);
                };
                let net = parts.first().and_then(KeyPart::as_num);
                if !net.is_some_and(|n| v.state.subnets.contains_key(&(n as u16))) {
                    return Ok(None);
                }
                Value::unnamed_variant("Yuma", [])
            }
        };
        encode(v.md.types(), info.value_type, &value).map(Some)
    })())
}

/// The keys of these items under `prefix` (for `state_getKeysPaged`).
pub fn keys(v: &StorageView, prefix: &[u8]) -> Result<Vec<Vec<u8>>> {
    let mut out = vec![];
    for (p, e) in ITEMS {
        let Ok(info) = v.md.storage(p, e) else {
            continue;
        };
        let all: Vec<Vec<KeyPart>> = if info.hashers.is_empty() {
            vec![vec![]]
        } else {
            v.state
                .subnets
                .keys()
                .map(|n| vec![KeyPart::Num(*n as u128)])
                .collect()
        };
        for parts in all {
            let k = storage_key(v.md.types(), info, &parts)?;
            if k.starts_with(prefix) {
                out.push(k);
            }
        }
    }
    Ok(out)
}
