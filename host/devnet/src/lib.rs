//! vesting-devnet: a simulated local Subtensor chain.
pub mod encode;
pub mod error;
pub mod hashing;
pub mod metadata;
pub mod model;

#[cfg(test)]
mod dump {
    use crate::metadata::ChainMetadata;
    use scale_info::TypeDef;
    #[test]
    #[ignore]
    fn dump() {
        let md = ChainMetadata::finney().unwrap();
        let t = md.types();
        for p in &md.v16.pallets {
            if p.name != "SubtensorModule" && p.name != "System" {
                continue;
            }
            let calls = t.resolve(p.calls.as_ref().unwrap().ty.id).unwrap();
            if let TypeDef::Variant(v) = &calls.type_def {
                for var in &v.variants {
                    if [
                        "add_stake",
                        "remove_stake",
                        "unstake_all",
                        "move_stake",
                        "transfer_stake",
                        "swap_stake",
                        "recycle_alpha",
                        "burn_alpha",
                        "claim_root",
                        "burned_register",
                        "set_coldkey_auto_stake_hotkey",
                        "remark",
                    ]
                    .contains(&var.name.as_str())
                    {
                        println!(
                            "CALL {} {:?}",
                            var.name,
                            var.fields
                                .iter()
                                .map(|f| (f.name.clone(), f.type_name.clone()))
                                .collect::<Vec<_>>()
                        );
                    }
                }
            }
            let ev = t.resolve(p.event.as_ref().unwrap().ty.id).unwrap();
            if let TypeDef::Variant(v) = &ev.type_def {
                for var in &v.variants {
                    if [
                        "StakeAdded",
                        "StakeRemoved",
                        "StakeMoved",
                        "StakeTransferred",
                        "StakeSwapped",
                        "AutoStakeAdded",
                        "IncentiveAlphaEmittedToMiners",
                        "TransactionFeePaidWithAlpha",
                        "AlphaRecycled",
                        "AlphaBurned",
                        "EpochDeferred",
                        "EpochSkipped",
                        "RootClaimed",
                        "NeuronRegistered",
                        "ExtrinsicSuccess",
                        "EpochTriggered",
                    ]
                    .contains(&var.name.as_str())
                    {
                        println!(
                            "EVENT {} {:?}",
                            var.name,
                            var.fields
                                .iter()
                                .map(|f| (f.name.clone(), f.type_name.clone()))
                                .collect::<Vec<_>>()
                        );
                    }
                }
            }
        }
        for e in &md.v16.extrinsic.transaction_extensions {
            println!(
                "EXT {} ty={:?} implicit={:?}",
                e.identifier,
                t.resolve(e.ty.id).map(|x| x.path.segments.clone()),
                e.implicit.id
            );
        }
        println!(
            "EXT versions {:?} byver {:?}",
            md.v16.extrinsic.versions, md.v16.extrinsic.transaction_extensions_by_version
        );
        for name in [
            "StakeInfoRuntimeApi_get_stake_info_for_hotkey_coldkey_netuid",
            "StakeInfoRuntimeApi_get_stake_info_for_coldkey",
            "SubnetInfoRuntimeApi_get_next_epoch_start_block",
            "Metadata_metadata_at_version",
            "Core_version",
        ] {
            let m = md.runtime_api(name).unwrap();
            println!(
                "API {name} inputs {:?} output {:?}",
                m.inputs,
                t.resolve(m.output).map(|x| (&x.path, &x.type_def))
            );
        }
        let si = crate::encode::type_by_name(t, "StakeInfo").unwrap();
        println!("STAKEINFO {:?}", t.resolve(si).unwrap().type_def);
        for e in ["Account", "Events", "Number", "ParentHash"] {
            let i = md.storage("System", e).unwrap();
            println!(
                "SYS {e} {:?} {:?}",
                i.hashers,
                t.resolve(i.value_type).map(|x| &x.path)
            );
        }
        for e in [
            "Alpha",
            "TotalHotkeyShares",
            "AlphaV2",
            "TotalHotkeySharesV2",
            "Keys",
            "Uids",
            "Owner",
            "OwnedHotkeys",
            "StakingHotkeys",
            "TotalHotkeyAlpha",
            "AutoStakeDestination",
            "Tempo",
            "SubnetworkN",
            "Delegates",
            "NetworksAdded",
            "SubnetOwner",
            "SubnetOwnerHotkey",
            "MaxAllowedUids",
            "PendingServerEmission",
            "TotalNetworks",
            "MaxEpochsPerBlock",
            "LastEpochBlock",
        ] {
            let i = md.storage("SubtensorModule", e).unwrap();
            println!(
                "ST {e} {:?} keys {:?} val {:?} default={} {:?}",
                i.hashers,
                i.key_types
                    .iter()
                    .map(|k| t.resolve(*k).map(|x| x.path.segments.join("::")))
                    .collect::<Vec<_>>(),
                t.resolve(i.value_type)
                    .map(|x| (x.path.segments.join("::"), &x.type_def)),
                i.default_on_missing,
                i.default
            );
        }
    }
}
