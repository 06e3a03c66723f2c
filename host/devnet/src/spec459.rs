//! The spec 459 metadata, built: no real 459 metadata file exists among the project's
//! sources, so it is the spec 424 V16 metadata (`metadata/finney-metadata.scale`) with
//! exactly the changes read in the 459 source, RaoFoundation/subtensor:
//!
//! - `runtime/src/lib.rs` at 005a8dc0 (`VERSION`: spec_version 459): the `System::Version`
//!   constant (and so `Core_version` / `state_getRuntimeVersion`).
//! - `pallets/subtensor/src/macros/events.rs` (stored version at 03b1d91a, cross-checked by
//!   the index test `regression_basket_swapped_event_index_is_appended`, which pins
//!   `BasketAlphaWrittenOff` at 148 before the spec 463 events): the `SubtensorModule`
//!   event enum in declaration order (indices), with `RootClaimed { coldkey, tao }`.
//! - `pallets/subtensor/src/macros/dispatches.rs` (03b1d91a): calls
//!   `transfer_stake_and_hotkey` (143), `add_collateral` (144), `set_min_collateral` (145),
//!   `move_stake_limit` (149).
//! - Storage `SubnetEpochConsensus: NetUid -> EpochConsensus { Yuma, Null }` (first spec not
//!   confirmed, see the README).
//!
//! Everything else (other pallets, other calls, storage, runtime APIs) is the 424 registry.

use scale_info::{
    Field, Path, PortableType, Type, TypeDef, TypeDefVariant, Variant, form::PortableForm,
};

use crate::error::{DevnetError, Result};
use crate::metadata::FINNEY_METADATA;
use frame_metadata::{RuntimeMetadata, RuntimeMetadataPrefixed, v14, v16};

/// Type ids in the 424 registry the new items reuse (checked when building).
const ACCOUNT: u32 = 0;
const U64: u32 = 6;
const BOOL: u32 = 9;
const NETUID: u32 = 40;
const U64F64: u32 = 56;

/// The 459 `SubtensorModule` events in declaration order (the SCALE index is the
/// position). `None` marks a variant present in the source whose types were not read
/// (`LiquidAlphaConsensusModeSet(NetUid, ConsensusMode)`, 146): left out, its index kept
/// free so every later index stays right.
const EVENTS_459: &[Option<&str>] = &[
    Some("NetworkAdded"),
    Some("NetworkRemoved"),
    Some("StakeAdded"),
    Some("StakeRemoved"),
    Some("StakeMoved"),
    Some("WeightsSet"),
    Some("RootWeightsSet"), // new: (u16)
    Some("NeuronRegistered"),
    Some("BulkNeuronsRegistered"),
    Some("BulkBalancesSet"),
    Some("MaxAllowedUidsSet"),
    Some("MaxWeightLimitSet"),
    Some("DifficultySet"),
    Some("AdjustmentIntervalSet"),
    Some("RegistrationPerIntervalSet"),
    Some("MaxRegistrationsPerBlockSet"),
    Some("ActivityCutoffSet"),
    Some("RhoSet"),
    Some("AlphaSigmoidSteepnessSet"),
    Some("KappaSet"),
    Some("MinAllowedWeightSet"),
    Some("ValidatorPruneLenSet"),
    Some("ScalingLawPowerSet"),
    Some("WeightsSetRateLimitSet"),
    Some("ImmunityPeriodSet"),
    Some("BondsMovingAverageSet"),
    Some("BondsPenaltySet"),
    Some("BondsResetOnSet"),
    Some("MaxAllowedValidatorsSet"),
    Some("AxonServed"),
    Some("PrometheusServed"),
    Some("DelegateAdded"),
    Some("DefaultTakeSet"),
    Some("WeightsVersionKeySet"),
    Some("MinDifficultySet"),
    Some("MaxDifficultySet"),
    Some("ServingRateLimitSet"),
    Some("BurnSet"),
    Some("MaxBurnSet"),
    Some("MinBurnSet"),
    Some("MaxEpochsPerBlockSet"),
    Some("TxRateLimitSet"),
    Some("TxDelegateTakeRateLimitSet"),
    Some("TxChildKeyTakeRateLimitSet"),
    Some("AdminFreezeWindowSet"),
    Some("OwnerHyperparamRateLimitSet"),
    Some("MinChildKeyTakeSet"),
    Some("MinChildKeyTakePerSubnetSet"),
    Some("MaxChildKeyTakeSet"),
    Some("ChildKeyTakeSet"),
    Some("Sudid"),
    Some("RegistrationAllowed"),
    Some("PowRegistrationAllowed"),
    Some("TempoSet"),
    Some("RAORecycledForRegistrationSet"),
    Some("StakeThresholdSet"),
    Some("AdjustmentAlphaSet"),
    Some("Faucet"),
    Some("SubnetOwnerCutSet"),
    Some("NetworkRateLimitSet"),
    Some("NetworkImmunityPeriodSet"),
    Some("StartCallDelaySet"),
    Some("NetworkMinLockCostSet"),
    Some("SubnetLimitSet"),
    Some("NetworkLockCostReductionIntervalSet"),
    Some("TakeDecreased"),
    Some("TakeIncreased"),
    Some("HotkeySwapped"),
    Some("MaxDelegateTakeSet"),
    Some("MinDelegateTakeSet"),
    Some("ColdkeySwapAnnounced"),
    Some("ColdkeySwapReset"),
    Some("ColdkeySwapped"),
    Some("ColdkeySwapDisputed"),
    Some("AllBalanceUnstakedAndTransferredToNewColdkey"),
    Some("ArbitrationPeriodExtended"),
    Some("SetChildrenScheduled"),
    Some("SetChildren"),
    Some("ChainIdentitySet"),
    Some("SubnetIdentitySet"),
    Some("SubnetIdentityRemoved"),
    Some("DissolveNetworkScheduled"),
    Some("ColdkeySwapAnnouncementDelaySet"),
    Some("ColdkeySwapReannouncementDelaySet"),
    Some("DissolveNetworkScheduleDurationSet"),
    Some("CRV3WeightsCommitted"),
    Some("WeightsCommitted"),
    Some("WeightsRevealed"),
    Some("WeightsBatchRevealed"),
    Some("BatchWeightsCompleted"),
    Some("BatchCompletedWithErrors"),
    Some("BatchWeightItemFailed"),
    Some("StakeTransferred"),
    Some("StakeSwapped"),
    Some("TransferToggle"),
    Some("SubnetOwnerHotkeySet"),
    Some("FirstEmissionBlockNumberSet"),
    Some("AlphaRecycled"),
    Some("AlphaBurned"),
    Some("EvmKeyAssociated"),
    Some("CRV3WeightsRevealed"),
    Some("CommitRevealPeriodsSet"),
    Some("CommitRevealEnabled"),
    Some("HotkeySwappedOnSubnet"),
    Some("SubnetLeaseCreated"),
    Some("SubnetLeaseTerminated"),
    Some("SymbolUpdated"),
    Some("CommitRevealVersionSet"),
    Some("TimelockedWeightsCommitted"),
    Some("TimelockedWeightsRevealed"),
    Some("AutoStakeAdded"),
    Some("IncentiveAlphaEmittedToMiners"),
    Some("MinAllowedUidsSet"),
    Some("AutoStakeDestinationSet"),
    Some("MinNonImmuneUidsSet"),
    Some("RootClaimed"), // changed: + tao (spec 441)
    // RootClaimTypeSet (424's index 115) is gone.
    Some("BasketDeposited"),
    Some("BasketStakedIn"),
    Some("BasketClaimed"),
    Some("BasketHoldingConverted"),
    Some("VotingPowerTrackingEnabled"),
    Some("VotingPowerTrackingDisableScheduled"),
    Some("VotingPowerTrackingDisabled"),
    Some("VotingPowerEmaAlphaSet"),
    Some("SubnetLeaseDividendsDistributed"),
    Some("AddStakeBurn"),
    Some("NetworkDissolveCleanupCompleted"), // new
    Some("ColdkeySwapCleared"),
    Some("TransactionFeePaidWithAlpha"),
    Some("BurnHalfLifeSet"),
    Some("BurnIncreaseMultSet"),
    Some("AutoParentDelegationEnabledSet"),
    Some("StakeLocked"),
    Some("StakeUnlocked"),
    Some("LockMoved"),
    Some("ActivityCutoffFactorMilliSet"),
    Some("EpochTriggered"),
    Some("EpochDeferred"),
    Some("EpochSkipped"),
    Some("SubnetOwnerChanged"),
    Some("PerpetualLockUpdated"),
    Some("NetworkRegistrationQueued"), // new
    Some("RejectLockedAlphaUpdated"),
    Some("StakeAndHotkeyTransferred"), // new, 143
    Some("CollateralLocked"),          // new, 144
    Some("MinCollateralSet"),          // new, 145
    None,                              // LiquidAlphaConsensusModeSet, 146 (type not read)
    Some("BetaBaselineStamped"),       // new, 147
    Some("BasketAlphaWrittenOff"),     // new, 148 (since 451)
];

fn field(name: Option<&str>, ty: u32, type_name: &str) -> Field<PortableForm> {
    Field {
        name: name.map(str::to_string),
        ty: ty.into(),
        type_name: Some(type_name.to_string()),
        docs: vec![],
    }
}

fn named(fields: &[(&str, u32, &str)]) -> Vec<Field<PortableForm>> {
    fields
        .iter()
        .map(|(n, t, tn)| field(Some(n), *t, tn))
        .collect()
}

const ACC: &str = "T::AccountId";
const TAO: &str = "TaoBalance";
const ALPHA: &str = "AlphaBalance";
const NET: &str = "NetUid";

/// The fields of an event that is new (or changed) in 459, as `events.rs` declares them.
fn new_event_fields(name: &str, identity_option: u32) -> Option<Vec<Field<PortableForm>>> {
    Some(match name {
        "RootWeightsSet" => vec![field(None, NETUID, "u16")],
        "RootClaimed" => named(&[("coldkey", ACCOUNT, ACC), ("tao", U64, TAO)]),
        "BasketDeposited" => named(&[
            ("hotkey", ACCOUNT, ACC),
            ("tao", U64, TAO),
            ("shares", U64, "u64"),
        ]),
        "BasketStakedIn" => named(&[
            ("hotkey", ACCOUNT, ACC),
            ("coldkey", ACCOUNT, ACC),
            ("tao", U64, TAO),
            ("value", U64, TAO),
            ("shares", U64, "u64"),
        ]),
        "BasketClaimed" => named(&[
            ("hotkey", ACCOUNT, ACC),
            ("coldkey", ACCOUNT, ACC),
            ("tao", U64, TAO),
        ]),
        "BasketHoldingConverted" => named(&[
            ("hotkey", ACCOUNT, ACC),
            ("netuid", NETUID, NET),
            ("tao", U64, TAO),
        ]),
        "NetworkDissolveCleanupCompleted" => named(&[("netuid", NETUID, NET)]),
        "NetworkRegistrationQueued" => named(&[
            ("coldkey", ACCOUNT, ACC),
            ("hotkey", ACCOUNT, ACC),
            ("mechid", NETUID, "u16"),
            ("identity", identity_option, "Option<SubnetIdentityOfV3>"),
            ("lock_amount", U64, TAO),
            ("median_subnet_alpha_price", U64F64, "U64F64"),
            ("registration_block", U64, "u64"),
        ]),
        "StakeAndHotkeyTransferred" => named(&[
            ("origin_coldkey", ACCOUNT, ACC),
            ("destination_coldkey", ACCOUNT, ACC),
            ("origin_hotkey", ACCOUNT, ACC),
            ("destination_hotkey", ACCOUNT, ACC),
            ("origin_netuid", NETUID, NET),
            ("destination_netuid", NETUID, NET),
            ("amount", U64, TAO),
        ]),
        "CollateralLocked" => named(&[
            ("netuid", NETUID, NET),
            ("hotkey", ACCOUNT, ACC),
            ("locked", U64, ALPHA),
            ("total_locked", U64, ALPHA),
        ]),
        "MinCollateralSet" => named(&[
            ("netuid", NETUID, NET),
            ("hotkey", ACCOUNT, ACC),
            ("min_locked", U64, ALPHA),
        ]),
        "BetaBaselineStamped" => named(&[("hotkey", ACCOUNT, ACC)]),
        "BasketAlphaWrittenOff" => named(&[
            ("hotkey", ACCOUNT, ACC),
            ("netuid", NETUID, NET),
            ("alpha", U64, ALPHA),
        ]),
        _ => return None,
    })
}

/// The calls new in 459 (`dispatches.rs`): (index, name, fields).
fn new_calls() -> Vec<(u8, &'static str, Vec<Field<PortableForm>>)> {
    vec![
        (
            143,
            "transfer_stake_and_hotkey",
            named(&[
                ("destination_coldkey", ACCOUNT, ACC),
                ("origin_hotkey", ACCOUNT, ACC),
                ("destination_hotkey", ACCOUNT, ACC),
                ("origin_netuid", NETUID, NET),
                ("destination_netuid", NETUID, NET),
                ("alpha_amount", U64, ALPHA),
            ]),
        ),
        (
            144,
            "add_collateral",
            named(&[
                ("netuid", NETUID, NET),
                ("hotkey", ACCOUNT, ACC),
                ("alpha", U64, ALPHA),
                ("limit_price", U64, TAO),
            ]),
        ),
        (
            145,
            "set_min_collateral",
            named(&[
                ("netuid", NETUID, NET),
                ("hotkey", ACCOUNT, ACC),
                ("min_locked", U64, ALPHA),
            ]),
        ),
        (
            149,
            "move_stake_limit",
            named(&[
                ("origin_hotkey", ACCOUNT, ACC),
                ("destination_hotkey", ACCOUNT, ACC),
                ("origin_netuid", NETUID, NET),
                ("destination_netuid", NETUID, NET),
                ("alpha_amount", U64, ALPHA),
                ("limit_price", U64, TAO),
                ("allow_partial", BOOL, "bool"),
            ]),
        ),
    ]
}

fn variants_mut(types: &mut [PortableType], id: u32) -> Result<&mut Vec<Variant<PortableForm>>> {
    let t = types
        .iter_mut()
        .find(|t| t.id == id)
        .ok_or_else(|| DevnetError::Metadata(format!("459: no type {id} in the 424 registry")))?;
    match &mut t.ty.type_def {
        TypeDef::Variant(v) => Ok(&mut v.variants),
        _ => Err(DevnetError::Metadata(format!(
            "459: type {id} is not an enum"
        ))),
    }
}

fn push_type(types: &mut Vec<PortableType>, path: &[&str], def: TypeDef<PortableForm>) -> u32 {
    let id = types.len() as u32;
    types.push(PortableType {
        id,
        ty: Type {
            path: Path {
                segments: path.iter().map(|s| s.to_string()).collect(),
            },
            type_params: vec![],
            type_def: def,
            docs: vec![],
        },
    });
    id
}

fn check_type(types: &[PortableType], id: u32, want: &str) -> Result<()> {
    let t = types
        .get(id as usize)
        .ok_or_else(|| DevnetError::Metadata(format!("459: no type {id} in the 424 registry")))?;
    let ok = match &t.ty.type_def {
        TypeDef::Primitive(p) => format!("{p:?}").eq_ignore_ascii_case(want),
        _ => t.ty.path.segments.last().map(String::as_str) == Some(want),
    };
    if ok {
        Ok(())
    } else {
        Err(DevnetError::Metadata(format!(
            "459: type {id} of the 424 registry is not {want}"
        )))
    }
}

/// The encoded `RuntimeVersion` with `spec_version` replaced (the rest as in 424).
fn version_bytes(v424: &[u8], spec: u32) -> Result<Vec<u8>> {
    use codec::{Decode, Encode};
    #[derive(Decode, Encode)]
    struct Rv {
        spec_name: String,
        impl_name: String,
        authoring_version: u32,
        spec_version: u32,
        impl_version: u32,
        apis: Vec<([u8; 8], u32)>,
        transaction_version: u32,
        system_version: u8,
    }
    let mut rv = Rv::decode(&mut &v424[..])
        .map_err(|e| DevnetError::Metadata(format!("424 System::Version: {e}")))?;
    rv.spec_version = spec;
    Ok(rv.encode())
}

/// Builds the 459 metadata (`RuntimeMetadataPrefixed`, V16) from the 424 file.
pub fn build() -> Result<Vec<u8>> {
    use codec::{Decode, Encode};
    let prefixed = RuntimeMetadataPrefixed::decode(&mut &FINNEY_METADATA[..])
        .map_err(|e| DevnetError::Metadata(format!("424 metadata: {e}")))?;
    let RuntimeMetadata::V16(mut m) = prefixed.1 else {
        return Err(DevnetError::Metadata("424 metadata is not V16".into()));
    };
    let mut types = std::mem::take(&mut m.types.types);
    for (id, want) in [
        (ACCOUNT, "AccountId32"),
        (U64, "u64"),
        (BOOL, "bool"),
        (NETUID, "u16"),
        (U64F64, "FixedU128"),
    ] {
        check_type(&types, id, want)?;
    }

    // Option<SubnetIdentityOfV3>: found in the registry, or added.
    let ident = types
        .iter()
        .find(|t| t.ty.path.segments.last().map(String::as_str) == Some("SubnetIdentityV3"))
        .map(|t| t.id)
        .ok_or_else(|| DevnetError::Metadata("459: no SubnetIdentityV3 type in 424".into()))?;
    let option_ident = types
        .iter()
        .find(|t| {
            t.ty.path.segments.last().map(String::as_str) == Some("Option")
                && t.ty.type_params.first().and_then(|p| p.ty).map(|x| x.id) == Some(ident)
        })
        .map(|t| t.id);
    let option_ident = match option_ident {
        Some(id) => id,
        None => push_type(
            &mut types,
            &["Option"],
            TypeDef::Variant(TypeDefVariant {
                variants: vec![
                    Variant {
                        name: "None".into(),
                        fields: vec![],
                        index: 0,
                        docs: vec![],
                    },
                    Variant {
                        name: "Some".into(),
                        fields: vec![field(None, ident, "SubnetIdentityOfV3")],
                        index: 1,
                        docs: vec![],
                    },
                ],
            }),
        ),
    };
    // EpochConsensus { Yuma, Null } (pallets/subtensor/src/lib.rs).
    let epoch_consensus = push_type(
        &mut types,
        &["pallet_subtensor", "pallet", "EpochConsensus"],
        TypeDef::Variant(TypeDefVariant {
            variants: ["Yuma", "Null"]
                .iter()
                .enumerate()
                .map(|(i, n)| Variant {
                    name: n.to_string(),
                    fields: vec![],
                    index: i as u8,
                    docs: vec![],
                })
                .collect(),
        }),
    );

    let pallet = m
        .pallets
        .iter_mut()
        .find(|p| p.name == "SubtensorModule")
        .ok_or_else(|| DevnetError::Metadata("424 has no SubtensorModule".into()))?;
    // Events.
    let ev = pallet
        .event
        .as_mut()
        .ok_or_else(|| DevnetError::Metadata("SubtensorModule has no events".into()))?;
    let old = std::mem::take(variants_mut(&mut types, ev.ty.id)?);
    let mut deprecated = std::collections::BTreeMap::new();
    let mut new = Vec::with_capacity(EVENTS_459.len());
    for (i, name) in EVENTS_459.iter().enumerate() {
        let Some(name) = name else { continue };
        let index = i as u8;
        let fields = match new_event_fields(name, option_ident) {
            Some(f) => f,
            None => {
                let v = old.iter().find(|v| v.name == *name).ok_or_else(|| {
                    DevnetError::Metadata(format!("459: event {name} is not in 424"))
                })?;
                if let Some(d) = ev.deprecation_info.0.get(&v.index) {
                    deprecated.insert(index, d.clone());
                }
                v.fields.clone()
            }
        };
        new.push(Variant {
            name: name.to_string(),
            fields,
            index,
            docs: vec![],
        });
    }
    ev.deprecation_info = v16::EnumDeprecationInfo(deprecated);
    *variants_mut(&mut types, ev.ty.id)? = new;
    // Calls.
    let call_ty = pallet
        .calls
        .as_ref()
        .ok_or_else(|| DevnetError::Metadata("SubtensorModule has no calls".into()))?
        .ty
        .id;
    let calls = variants_mut(&mut types, call_ty)?;
    for (index, name, fields) in new_calls() {
        if calls.iter().any(|v| v.index == index) {
            return Err(DevnetError::Metadata(format!(
                "459: call index {index} ({name}) is taken in 424"
            )));
        }
        calls.push(Variant {
            name: name.into(),
            fields,
            index,
            docs: vec![],
        });
    }
    calls.sort_by_key(|v| v.index);
    // Storage.
    let storage = pallet
        .storage
        .as_mut()
        .ok_or_else(|| DevnetError::Metadata("SubtensorModule has no storage".into()))?;
    storage.entries.push(v16::StorageEntryMetadata {
        name: "SubnetEpochConsensus".into(),
        modifier: v14::StorageEntryModifier::Default,
        ty: v14::StorageEntryType::Map {
            hashers: vec![v14::StorageHasher::Identity],
            key: NETUID.into(),
            value: epoch_consensus.into(),
        },
        default: vec![0],
        docs: vec![],
        deprecation_info: v16::ItemDeprecationInfo::NotDeprecated,
    });
    // System::Version.
    let system = m
        .pallets
        .iter_mut()
        .find(|p| p.name == "System")
        .ok_or_else(|| DevnetError::Metadata("424 has no System pallet".into()))?;
    let version = system
        .constants
        .iter_mut()
        .find(|c| c.name == "Version")
        .ok_or_else(|| DevnetError::Metadata("424 has no System::Version".into()))?;
    version.value = version_bytes(&version.value, 459)?;
    m.types.types = types;
    Ok(RuntimeMetadataPrefixed(prefixed.0, RuntimeMetadata::V16(m)).encode())
}
