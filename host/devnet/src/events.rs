//! `System.Events`: model events and the upgrade's system events as `RuntimeEvent`
//! values, with field names and indices from the metadata of the runtime that ran the
//! block, encoded as `Vec<EventRecord>`.

use scale_value::{Composite, Value};

use crate::encode::{account, encode, num};
use crate::error::{DevnetError, Result};
use crate::metadata::ChainMetadata;
use crate::model::{ChainEvent, EventRecord, Phase};

/// The pallet, variant and positional field values of a model event, in the order the
/// runtime declares them (chain.md's table).
fn event_parts(e: &ChainEvent) -> (&'static str, &'static str, Vec<Value>) {
    use ChainEvent::*;
    let n = |x: u64| num(x);
    let u = |x: u16| num(x);
    match e {
        StakeAdded {
            coldkey,
            hotkey,
            tao,
            alpha,
            netuid,
            fee,
        } => (
            "SubtensorModule",
            "StakeAdded",
            vec![
                account(coldkey),
                account(hotkey),
                n(*tao),
                n(*alpha),
                u(*netuid),
                n(*fee),
            ],
        ),
        StakeRemoved {
            coldkey,
            hotkey,
            tao,
            alpha,
            netuid,
            fee,
        } => (
            "SubtensorModule",
            "StakeRemoved",
            vec![
                account(coldkey),
                account(hotkey),
                n(*tao),
                n(*alpha),
                u(*netuid),
                n(*fee),
            ],
        ),
        StakeMoved {
            coldkey,
            origin_hotkey,
            origin_netuid,
            dest_hotkey,
            dest_netuid,
            tao,
        } => (
            "SubtensorModule",
            "StakeMoved",
            vec![
                account(coldkey),
                account(origin_hotkey),
                u(*origin_netuid),
                account(dest_hotkey),
                u(*dest_netuid),
                n(*tao),
            ],
        ),
        StakeTransferred {
            origin_coldkey,
            dest_coldkey,
            hotkey,
            origin_netuid,
            dest_netuid,
            tao,
        } => (
            "SubtensorModule",
            "StakeTransferred",
            vec![
                account(origin_coldkey),
                account(dest_coldkey),
                account(hotkey),
                u(*origin_netuid),
                u(*dest_netuid),
                n(*tao),
            ],
        ),
        StakeSwapped {
            coldkey,
            hotkey,
            origin_netuid,
            dest_netuid,
            tao,
        } => (
            "SubtensorModule",
            "StakeSwapped",
            vec![
                account(coldkey),
                account(hotkey),
                u(*origin_netuid),
                u(*dest_netuid),
                n(*tao),
            ],
        ),
        AutoStakeAdded {
            netuid,
            destination,
            hotkey,
            owner,
            incentive,
        } => (
            "SubtensorModule",
            "AutoStakeAdded",
            vec![
                u(*netuid),
                account(destination),
                account(hotkey),
                account(owner),
                n(*incentive),
            ],
        ),
        IncentiveAlphaEmittedToMiners { netuid, emissions } => (
            "SubtensorModule",
            "IncentiveAlphaEmittedToMiners",
            vec![
                u(*netuid),
                Value::unnamed_composite(emissions.iter().map(|x| n(*x))),
            ],
        ),
        TransactionFeePaidWithAlpha {
            who,
            netuid,
            alpha_fee,
            tao_amount,
        } => (
            "SubtensorModule",
            "TransactionFeePaidWithAlpha",
            vec![account(who), u(*netuid), n(*alpha_fee), n(*tao_amount)],
        ),
        AlphaRecycled {
            coldkey,
            hotkey,
            amount,
            netuid,
        } => (
            "SubtensorModule",
            "AlphaRecycled",
            vec![account(coldkey), account(hotkey), n(*amount), u(*netuid)],
        ),
        AlphaBurned {
            coldkey,
            hotkey,
            amount,
            netuid,
        } => (
            "SubtensorModule",
            "AlphaBurned",
            vec![account(coldkey), account(hotkey), n(*amount), u(*netuid)],
        ),
        EpochDeferred {
            netuid,
            from_block,
            to_block,
        } => (
            "SubtensorModule",
            "EpochDeferred",
            vec![u(*netuid), n(*from_block), n(*to_block)],
        ),
        EpochSkipped { netuid, block } => (
            "SubtensorModule",
            "EpochSkipped",
            vec![u(*netuid), n(*block)],
        ),
        SubnetOwnerChanged {
            netuid,
            old_coldkey,
            new_coldkey,
        } => (
            "SubtensorModule",
            "SubnetOwnerChanged",
            vec![u(*netuid), account(old_coldkey), account(new_coldkey)],
        ),
        StakeAndHotkeyTransferred {
            origin_coldkey,
            destination_coldkey,
            origin_hotkey,
            destination_hotkey,
            origin_netuid,
            destination_netuid,
            amount,
        } => (
            "SubtensorModule",
            "StakeAndHotkeyTransferred",
            vec![
                account(origin_coldkey),
                account(destination_coldkey),
                account(origin_hotkey),
                account(destination_hotkey),
                u(*origin_netuid),
                u(*destination_netuid),
                n(*amount),
            ],
        ),
        CollateralLocked {
            netuid,
            hotkey,
            locked,
            total_locked,
        } => (
            "SubtensorModule",
            "CollateralLocked",
            vec![u(*netuid), account(hotkey), n(*locked), n(*total_locked)],
        ),
        MinCollateralSet {
            netuid,
            hotkey,
            min_locked,
        } => (
            "SubtensorModule",
            "MinCollateralSet",
            vec![u(*netuid), account(hotkey), n(*min_locked)],
        ),
        RootClaimed { coldkey, tao } => (
            "SubtensorModule",
            "RootClaimed",
            vec![account(coldkey), n(*tao)],
        ),
        NeuronRegistered {
            netuid,
            uid,
            hotkey,
        } => (
            "SubtensorModule",
            "NeuronRegistered",
            vec![u(*netuid), u(*uid), account(hotkey)],
        ),
        WeightsSet { netuid, uid } => ("SubtensorModule", "WeightsSet", vec![u(*netuid), u(*uid)]),
        Withdraw { who, amount } => ("Balances", "Withdraw", vec![account(who), n(*amount)]),
        TransactionFeePaid {
            who,
            actual_fee,
            tip,
        } => (
            "TransactionPayment",
            "TransactionFeePaid",
            vec![account(who), n(*actual_fee), n(*tip)],
        ),
        ExtrinsicSuccess { mandatory } => (
            "System",
            "ExtrinsicSuccess",
            vec![Value::named_composite([
                (
                    "weight",
                    Value::named_composite([
                        (
                            "ref_time",
                            num(if *mandatory {
                                5_000_000u64
                            } else {
                                200_000_000u64
                            }),
                        ),
                        (
                            "proof_size",
                            num(if *mandatory { 1_493u64 } else { 6_000u64 }),
                        ),
                    ]),
                ),
                (
                    "class",
                    Value::unnamed_variant(if *mandatory { "Mandatory" } else { "Normal" }, []),
                ),
                (
                    "pays_fee",
                    Value::unnamed_variant(if *mandatory { "No" } else { "Yes" }, []),
                ),
            ])],
        ),
    }
}

/// A model event as a `RuntimeEvent` value, with field names taken from the metadata.
pub fn event_value(md: &ChainMetadata, e: &ChainEvent) -> Result<Value> {
    let (pallet, variant, values) = event_parts(e);
    let mut values = values;
    let names = md.event_fields(pallet, variant).ok_or_else(|| {
        DevnetError::Encode(format!("no event {pallet}::{variant} in the metadata"))
    })?;
    // `RootClaimed.tao` exists from spec 441; an older runtime's event has only `coldkey`
    // and the model gives 0 there (`crate::runtime::Rules::root_claim_pays_tao`).
    if variant == "RootClaimed" && names.len() == 1 && values.len() == 2 {
        if values[1].as_u128() != Some(0) {
            return Err(DevnetError::Encode(
                "RootClaimed paid TAO under a runtime whose event has no tao field".into(),
            ));
        }
        values.truncate(1);
    }
    if names.len() != values.len() {
        return Err(DevnetError::Encode(format!(
            "event {pallet}::{variant} has {} fields in the metadata, the model gives {}",
            names.len(),
            values.len()
        )));
    }
    let fields = if names.iter().all(Option::is_some) {
        Composite::named(names.into_iter().flatten().zip(values))
    } else {
        Composite::unnamed(values)
    };
    Ok(Value::unnamed_variant(
        pallet,
        [Value::variant(variant, fields)],
    ))
}

fn phase_value(p: Phase) -> Value {
    match p {
        Phase::Initialization => Value::unnamed_variant("Initialization", []),
        Phase::ApplyExtrinsic(i) => Value::unnamed_variant("ApplyExtrinsic", [num(i)]),
        Phase::Finalization => Value::unnamed_variant("Finalization", []),
    }
}

/// The events of the `Sudo::sudo(System::set_code)` extrinsic that upgrades the runtime
/// (`frame_system::Pallet::update_code_in_storage` deposits `CodeUpdated`; `pallet_sudo`
/// then `Sudid`), emitted after the model's events of the block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpgradeEvent {
    CodeUpdated,
    Sudid,
    ExtrinsicSuccess,
}

fn upgrade_event_value(md: &ChainMetadata, e: UpgradeEvent) -> Result<Value> {
    Ok(match e {
        UpgradeEvent::CodeUpdated => Value::unnamed_variant(
            "System",
            [Value::named_variant::<&str, &str, _>("CodeUpdated", [])],
        ),
        UpgradeEvent::Sudid => {
            let names = md.event_fields("Sudo", "Sudid").ok_or_else(|| {
                DevnetError::Encode("no event Sudo::Sudid in the metadata".into())
            })?;
            let ok = Value::unnamed_variant("Ok", [Value::unnamed_composite([])]);
            let fields = match names.first() {
                Some(Some(n)) => Composite::named([(n.clone(), ok)]),
                _ => Composite::unnamed([ok]),
            };
            Value::unnamed_variant("Sudo", [Value::variant("Sudid", fields)])
        }
        UpgradeEvent::ExtrinsicSuccess => {
            event_value(md, &ChainEvent::ExtrinsicSuccess { mandatory: false })?
        }
    })
}

/// `System.Events` for a block: `Vec<EventRecord>` encoded with the metadata's types:
/// the model's records, then `extra` (the upgrade extrinsic's events).
pub fn encode_events(
    md: &ChainMetadata,
    records: &[EventRecord],
    extra: &[(Phase, UpgradeEvent)],
) -> Result<Vec<u8>> {
    let info = md.storage("System", "Events")?;
    let mut items = Vec::with_capacity(records.len() + extra.len());
    let record = |phase: Phase, event: Value| {
        Value::named_composite([
            ("phase", phase_value(phase)),
            ("event", event),
            ("topics", Value::unnamed_composite([])),
        ])
    };
    for r in records {
        items.push(record(r.phase, event_value(md, &r.event)?));
    }
    for (phase, e) in extra {
        items.push(record(*phase, upgrade_event_value(md, *e)?));
    }
    encode(
        md.types(),
        info.value_type,
        &Value::unnamed_composite(items),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::decode;

    fn md() -> std::sync::Arc<ChainMetadata> {
        ChainMetadata::finney().unwrap()
    }

    #[test]
    fn events_encode_and_decode_back_with_field_names() {
        let md = md();
        let ev = ChainEvent::StakeAdded {
            coldkey: [1; 32],
            hotkey: [2; 32],
            tao: 10,
            alpha: 20,
            netuid: 3,
            fee: 4,
        };
        let recs = vec![
            EventRecord {
                phase: Phase::Initialization,
                event: ChainEvent::EpochSkipped {
                    netuid: 1,
                    block: 9,
                },
            },
            EventRecord {
                phase: Phase::ApplyExtrinsic(1),
                event: ev,
            },
            EventRecord {
                phase: Phase::ApplyExtrinsic(1),
                event: ChainEvent::ExtrinsicSuccess { mandatory: false },
            },
        ];
        let bytes = encode_events(&md, &recs, &[]).unwrap();
        let info = md.storage("System", "Events").unwrap();
        let v = decode(md.types(), info.value_type, &mut &bytes[..]).unwrap();
        let s = v.to_string();
        assert!(s.contains("StakeAdded"), "{s}");
        assert!(s.contains("EpochSkipped"), "{s}");
        assert!(s.contains("ApplyExtrinsic"), "{s}");
    }

    #[test]
    fn every_model_event_encodes() {
        let md = md();
        let a = [7u8; 32];
        let all = vec![
            ChainEvent::StakeRemoved {
                coldkey: a,
                hotkey: a,
                tao: 1,
                alpha: 2,
                netuid: 1,
                fee: 0,
            },
            ChainEvent::StakeMoved {
                coldkey: a,
                origin_hotkey: a,
                origin_netuid: 1,
                dest_hotkey: a,
                dest_netuid: 2,
                tao: 3,
            },
            ChainEvent::StakeTransferred {
                origin_coldkey: a,
                dest_coldkey: a,
                hotkey: a,
                origin_netuid: 1,
                dest_netuid: 1,
                tao: 3,
            },
            ChainEvent::StakeSwapped {
                coldkey: a,
                hotkey: a,
                origin_netuid: 1,
                dest_netuid: 2,
                tao: 3,
            },
            ChainEvent::AutoStakeAdded {
                netuid: 1,
                destination: a,
                hotkey: a,
                owner: a,
                incentive: 5,
            },
            ChainEvent::IncentiveAlphaEmittedToMiners {
                netuid: 1,
                emissions: vec![1, 2, 3],
            },
            ChainEvent::TransactionFeePaidWithAlpha {
                who: a,
                netuid: 1,
                alpha_fee: 2,
                tao_amount: 3,
            },
            ChainEvent::AlphaRecycled {
                coldkey: a,
                hotkey: a,
                amount: 1,
                netuid: 1,
            },
            ChainEvent::AlphaBurned {
                coldkey: a,
                hotkey: a,
                amount: 1,
                netuid: 1,
            },
            ChainEvent::EpochDeferred {
                netuid: 1,
                from_block: 2,
                to_block: 3,
            },
            ChainEvent::RootClaimed { coldkey: a, tao: 0 },
            ChainEvent::NeuronRegistered {
                netuid: 1,
                uid: 2,
                hotkey: a,
            },
            ChainEvent::WeightsSet { netuid: 1, uid: 2 },
            ChainEvent::ExtrinsicSuccess { mandatory: true },
        ];
        for e in all {
            let recs = [EventRecord {
                phase: Phase::Initialization,
                event: e.clone(),
            }];
            encode_events(&md, &recs, &[]).unwrap_or_else(|err| panic!("{e:?}: {err}"));
        }
    }
}
