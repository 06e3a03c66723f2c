//! What the devnet models, in one place: the storage items it serves (the chain model's,
//! `crate::storage::SERVED`, and the runtime's own, `RUNTIME_STORAGE`, answered by
//! `crate::runtime_storage`), the runtime APIs `state_call` answers
//! (`crate::runtime_api::SERVED` and `RPC_RUNTIME_APIS`, answered in `crate::rpc`), and
//! the check `--strict` makes: a key inside any other item of the metadata is an error
//! naming it, never null (which a client reads as the metadata default).

use crate::metadata::ChainMetadata;

/// The JSON-RPC error code of a `--strict` refusal (the name is in `data.unmodelled`).
pub const UNMODELLED_CODE: i32 = -32010;

/// Storage items that follow the runtime rather than the model (`crate::runtime_storage`).
pub const RUNTIME_STORAGE: &[(&str, &str)] = &[
    ("System", "LastRuntimeUpgrade"),
    ("SubtensorModule", "SubnetEpochConsensus"),
];

/// Runtime APIs answered by the RPC layer (`crate::rpc::node`) from the documented fee
/// rule rather than by `crate::runtime_api`.
pub const RPC_RUNTIME_APIS: &[&str] = &[
    "TransactionPaymentApi_query_info",
    "TransactionPaymentApi_query_fee_details",
];

/// Whether the devnet models `pallet.entry`.
pub fn storage_modelled(pallet: &str, entry: &str) -> bool {
    crate::storage::SERVED
        .iter()
        .chain(RUNTIME_STORAGE)
        .chain(crate::neuron_storage::SERVED)
        .any(|(p, e)| *p == pallet && *e == entry)
}

/// Whether `state_call` answers `method`.
pub fn runtime_api_modelled(method: &str) -> bool {
    crate::runtime_api::SERVED.contains(&method)
        || crate::api_info::SERVED.contains(&method)
        || RPC_RUNTIME_APIS.contains(&method)
}

/// Every modelled storage item, as `Pallet.Entry`.
pub fn storage_items() -> Vec<String> {
    crate::storage::SERVED
        .iter()
        .chain(RUNTIME_STORAGE)
        .chain(crate::neuron_storage::SERVED)
        .map(|(p, e)| format!("{p}.{e}"))
        .collect()
}

/// The item (`Pallet.Entry`) a storage key falls in when the metadata declares it and the
/// devnet does not model it; None for modelled items and keys outside every item.
pub fn unmodelled_storage(md: &ChainMetadata, key: &[u8]) -> Option<String> {
    let info = md.storage_for_key(key)?;
    (!storage_modelled(&info.pallet, &info.entry))
        .then(|| format!("storage {}.{}", info.pallet, info.entry))
}

/// For a key prefix (`state_getKeysPaged`, a `query_map`): the unmodelled item it lies in
/// when it is at least an item's 32-byte prefix. Shorter prefixes (a pallet, everything)
/// list what is modelled.
pub fn unmodelled_prefix(md: &ChainMetadata, prefix: &[u8]) -> Option<String> {
    unmodelled_storage(md, prefix)
}

/// The runtime API method when `state_call` does not answer it.
pub fn unmodelled_runtime_api(md: &ChainMetadata, method: &str) -> Option<String> {
    (!runtime_api_modelled(method) && md.runtime_api(method).is_some())
        .then(|| format!("runtime API {method}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_storage_list_matches_served_items() {
        assert!(storage_modelled("System", "Account"));
        assert!(storage_modelled("System", "LastRuntimeUpgrade"));
        assert!(storage_modelled("SubtensorModule", "IsNetworkMember"));
        assert!(!storage_modelled("SubtensorModule", "AxonInfo"));
        assert!(runtime_api_modelled("Core_version"));
        assert!(runtime_api_modelled("TransactionPaymentApi_query_info"));
        assert!(runtime_api_modelled(
            "NeuronInfoRuntimeApi_get_neurons_lite"
        ));
        assert!(!runtime_api_modelled(
            "SubnetInfoRuntimeApi_get_subnet_state"
        ));
        assert!(storage_items().contains(&"SubtensorModule.TotalHotkeyAlpha".to_string()));
    }

    /// Every listed item and runtime API exists in some served runtime's metadata (a
    /// misspelt name would silently be unmodelled), and in 424 most of the metadata's
    /// items are not modelled, so `--strict` has something to refuse.
    #[test]
    fn listed_names_exist_in_the_metadata() {
        let mds: Vec<_> = [393, 424, 459]
            .iter()
            .map(|s| crate::runtime::profile(*s).unwrap().md.clone())
            .collect();
        for (p, e) in crate::storage::SERVED
            .iter()
            .chain(RUNTIME_STORAGE)
            .chain(crate::neuron_storage::SERVED)
        {
            assert!(
                mds.iter().any(|md| md.storage(p, e).is_ok()),
                "{p}.{e} is in no runtime's metadata"
            );
        }
        for m in crate::runtime_api::SERVED
            .iter()
            .chain(crate::api_info::SERVED)
            .chain(RPC_RUNTIME_APIS)
        {
            assert!(
                m.starts_with("Metadata_") || mds.iter().any(|md| md.runtime_api(m).is_some()),
                "{m} is in no runtime's metadata"
            );
        }
        let md = &mds[1];
        let unmodelled = md
            .storage_entries()
            .filter(|i| !storage_modelled(&i.pallet, &i.entry))
            .count();
        assert!(unmodelled > 100, "{unmodelled}");
        let info = md.storage("SubtensorModule", "Axons").unwrap();
        assert_eq!(
            unmodelled_prefix(md, &info.prefix).as_deref(),
            Some("storage SubtensorModule.Axons")
        );
        assert_eq!(unmodelled_prefix(md, &info.prefix[..16]), None);
    }
}
