//! A block's `System.Events`, decoded with the node's metadata into the events the ingest
//! reads, with their index and phase. Fields are taken by name where the metadata names
//! them, else by the position `layouts::LAYOUTS` gives (checked against the metadata by
//! `layouts::check` when the runtime's metadata is loaded).

use subxt::ext::scale_value::{Composite, Value, ValueDef};

use super::ChainError;
use super::layouts::{self, FieldSpec};
use super::metadata::ChainMeta;

/// A 32-byte account id.
pub type Account = [u8; 32];

/// Where in the block an event was emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Initialization,
    ApplyExtrinsic(u32),
    Finalization,
}

impl Phase {
    pub fn extrinsic(&self) -> Option<u32> {
        match self {
            Phase::ApplyExtrinsic(i) => Some(*i),
            _ => None,
        }
    }
}

/// The events the ingest reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    StakeAdded {
        coldkey: Account,
        hotkey: Account,
        tao: u64,
        alpha: u64,
        netuid: u16,
    },
    StakeRemoved {
        coldkey: Account,
        hotkey: Account,
        tao: u64,
        alpha: u64,
        netuid: u16,
    },
    StakeMoved {
        coldkey: Account,
        origin_hotkey: Account,
        origin_netuid: u16,
        dest_hotkey: Account,
        dest_netuid: u16,
    },
    StakeTransferred {
        origin_coldkey: Account,
        dest_coldkey: Account,
        hotkey: Account,
        origin_netuid: u16,
        dest_netuid: u16,
    },
    StakeSwapped {
        coldkey: Account,
        hotkey: Account,
        origin_netuid: u16,
        dest_netuid: u16,
    },
    AutoStakeAdded {
        netuid: u16,
        destination: Account,
        hotkey: Account,
        owner: Account,
        incentive: u64,
    },
    IncentiveAlphaEmittedToMiners {
        netuid: u16,
        emissions: Vec<u64>,
    },
    TransactionFeePaidWithAlpha {
        who: Account,
        netuid: u16,
        alpha_fee: u64,
    },
    AlphaRecycled {
        coldkey: Account,
        hotkey: Account,
        amount: u64,
        netuid: u16,
    },
    AlphaBurned {
        coldkey: Account,
        hotkey: Account,
        amount: u64,
        netuid: u16,
    },
    EpochDeferred {
        netuid: u16,
        from_block: u64,
        to_block: u64,
    },
    EpochSkipped {
        netuid: u16,
        block: u64,
    },
    /// `tao` is present from spec 441 (claims pay TAO on root).
    RootClaimed {
        coldkey: Account,
        tao: Option<u64>,
    },
    /// Spec 459+: the subnet's owner changed at the epoch drain; the new owner's hotkey
    /// may be registered in this block without a `NeuronRegistered`.
    SubnetOwnerChanged {
        netuid: u16,
    },
    /// Spec 459+: `transfer_stake_and_hotkey`; its `StakeRemoved` + `StakeAdded` carry
    /// the amounts.
    StakeAndHotkeyTransferred {
        origin_coldkey: Account,
        destination_coldkey: Account,
        origin_hotkey: Account,
        destination_hotkey: Account,
        origin_netuid: u16,
        destination_netuid: u16,
    },
    NeuronRegistered {
        netuid: u16,
        uid: u16,
        hotkey: Account,
    },
    /// `NetworkRemoved(netuid)`: the subnet is dissolved (in one block up to 424; from 459
    /// its stakes are settled over the following blocks, ending with
    /// `NetworkDissolveCleanupCompleted`).
    NetworkRemoved {
        netuid: u16,
    },
    /// Spec 459+: a multi-block dissolution finished.
    NetworkDissolveCleanupCompleted {
        netuid: u16,
    },
    /// `System.CodeUpdated`: the runtime changed; later blocks need new metadata.
    CodeUpdated,
}

/// An event with its place in the block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub index: u32,
    pub phase: Phase,
    pub event: Event,
}

/// A decoded block's events: the ones the ingest reads and the total count.
#[derive(Debug, Clone, Default)]
pub struct BlockEvents {
    pub total: u32,
    pub records: Vec<Record>,
}

/// Decodes `System.Events` bytes with `meta`.
pub fn decode(meta: &ChainMeta, bytes: &[u8]) -> Result<BlockEvents, ChainError> {
    if bytes.is_empty() {
        return Ok(BlockEvents::default());
    }
    let v = meta.decode_events(bytes)?;
    let ValueDef::Composite(list) = v.value else {
        return Err(ChainError::decode("System.Events", "not a list"));
    };
    let mut out = BlockEvents::default();
    for (i, rec) in list.into_values().enumerate() {
        out.total += 1;
        let index = i as u32;
        let ValueDef::Composite(rec) = rec.value else {
            return Err(ChainError::decode(
                "System.Events",
                format!("record {i} is not a composite"),
            ));
        };
        let mut phase = None;
        let mut event = None;
        for (n, (name, val)) in named_or_indexed(rec).into_iter().enumerate() {
            match (name.as_deref(), n) {
                (Some("phase"), _) | (None, 0) => phase = Some(val),
                (Some("event"), _) | (None, 1) => event = Some(val),
                _ => {}
            }
        }
        let (Some(phase), Some(event)) = (phase, event) else {
            return Err(ChainError::decode(
                "System.Events",
                format!("record {i} has no phase or event"),
            ));
        };
        let phase = decode_phase(&phase).ok_or_else(|| {
            ChainError::decode(
                "System.Events",
                format!("record {i}: unknown phase {phase}"),
            )
        })?;
        let ValueDef::Variant(pallet) = event.value else {
            return Err(ChainError::decode(
                "System.Events",
                format!("record {i}: event is not an enum"),
            ));
        };
        let Some(inner) = pallet.values.into_values().next() else {
            continue;
        };
        let ValueDef::Variant(ev) = inner.value else {
            continue;
        };
        let parsed = match (pallet.name.as_str(), ev.name.as_str()) {
            ("System", "CodeUpdated") => Some(Event::CodeUpdated),
            ("SubtensorModule", _) | (_, "TransactionFeePaidWithAlpha") => {
                parse(&ev.name, ev.values)
                    .map_err(|m| ChainError::decode(format!("event {} #{i}", ev.name), m))?
            }
            _ => None,
        };
        if let Some(event) = parsed {
            out.records.push(Record {
                index,
                phase,
                event,
            });
        }
    }
    Ok(out)
}

fn named_or_indexed(c: Composite<u32>) -> Vec<(Option<String>, Value<u32>)> {
    match c {
        Composite::Named(v) => v.into_iter().map(|(n, v)| (Some(n), v)).collect(),
        Composite::Unnamed(v) => v.into_iter().map(|v| (None, v)).collect(),
    }
}

fn decode_phase(v: &Value<u32>) -> Option<Phase> {
    let ValueDef::Variant(p) = &v.value else {
        return None;
    };
    match p.name.as_str() {
        "Initialization" => Some(Phase::Initialization),
        "Finalization" => Some(Phase::Finalization),
        "ApplyExtrinsic" => Some(Phase::ApplyExtrinsic(
            number(p.values.values().next()?)? as u32
        )),
        _ => None,
    }
}

/// The first number inside a value (through newtypes such as `AlphaCurrency(u64)`).
pub fn number<T>(v: &Value<T>) -> Option<u128> {
    if let Some(n) = v.as_u128() {
        return Some(n);
    }
    match &v.value {
        ValueDef::Composite(c) if c.len() == 1 => c.values().next().and_then(number),
        _ => None,
    }
}

/// A signed number (SafeFloat exponents).
pub fn signed(v: &Value<u32>) -> Option<i128> {
    if let Some(n) = v.as_i128() {
        return Some(n);
    }
    if let Some(n) = v.as_u128() {
        return i128::try_from(n).ok();
    }
    match &v.value {
        ValueDef::Composite(c) if c.len() == 1 => c.values().next().and_then(signed),
        _ => None,
    }
}

/// A 32-byte account inside a value (`AccountId32([u8; 32])` or a bare array).
pub fn account(v: &Value<u32>) -> Option<Account> {
    match &v.value {
        ValueDef::Composite(c) if c.len() == 32 => {
            let mut out = [0u8; 32];
            for (o, x) in out.iter_mut().zip(c.values()) {
                *o = u8::try_from(x.as_u128()?).ok()?;
            }
            Some(out)
        }
        ValueDef::Composite(c) if c.len() == 1 => c.values().next().and_then(account),
        _ => None,
    }
}

/// A list of numbers.
pub fn numbers<T>(v: &Value<T>) -> Option<Vec<u64>> {
    match &v.value {
        ValueDef::Composite(c) => c
            .values()
            .map(|x| number(x).and_then(|n| u64::try_from(n).ok()))
            .collect(),
        _ => None,
    }
}

struct Fields {
    layout: &'static [FieldSpec],
    named: bool,
    values: Vec<(Option<String>, Value<u32>)>,
}

impl Fields {
    /// A field by name where the metadata names fields, else by its position in the layout.
    fn opt(&self, name: &str) -> Option<&Value<u32>> {
        if self.named {
            return self
                .values
                .iter()
                .find(|(n, _)| n.as_deref() == Some(name))
                .map(|(_, v)| v);
        }
        let i = self.layout.iter().position(|f| f.0 == name)?;
        self.values.get(i).map(|(_, v)| v)
    }
    fn get(&self, name: &str) -> Result<&Value<u32>, String> {
        self.opt(name).ok_or_else(|| format!("no field {name}"))
    }
    fn acc(&self, name: &str) -> Result<Account, String> {
        account(self.get(name)?).ok_or_else(|| format!("field {name} is not an account"))
    }
    fn u64(&self, name: &str) -> Result<u64, String> {
        number(self.get(name)?)
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(|| format!("field {name} is not a u64"))
    }
    fn u16(&self, name: &str) -> Result<u16, String> {
        number(self.get(name)?)
            .and_then(|n| u16::try_from(n).ok())
            .ok_or_else(|| format!("field {name} is not a u16"))
    }
    fn opt_u64(&self, name: &str) -> Result<Option<u64>, String> {
        self.opt(name).map(|_| self.u64(name)).transpose()
    }
}

fn parse(name: &str, values: Composite<u32>) -> Result<Option<Event>, String> {
    let Some(layout) = layouts::layout(name) else {
        return Ok(None);
    };
    let values = named_or_indexed(values);
    let f = Fields {
        layout,
        named: values.iter().any(|(n, _)| n.is_some()),
        values,
    };
    Ok(Some(match name {
        "StakeAdded" => Event::StakeAdded {
            coldkey: f.acc("coldkey")?,
            hotkey: f.acc("hotkey")?,
            tao: f.u64("tao")?,
            alpha: f.u64("alpha")?,
            netuid: f.u16("netuid")?,
        },
        "StakeRemoved" => Event::StakeRemoved {
            coldkey: f.acc("coldkey")?,
            hotkey: f.acc("hotkey")?,
            tao: f.u64("tao")?,
            alpha: f.u64("alpha")?,
            netuid: f.u16("netuid")?,
        },
        "StakeMoved" => Event::StakeMoved {
            coldkey: f.acc("coldkey")?,
            origin_hotkey: f.acc("origin_hotkey")?,
            origin_netuid: f.u16("origin_netuid")?,
            dest_hotkey: f.acc("dest_hotkey")?,
            dest_netuid: f.u16("dest_netuid")?,
        },
        "StakeTransferred" => Event::StakeTransferred {
            origin_coldkey: f.acc("origin_coldkey")?,
            dest_coldkey: f.acc("dest_coldkey")?,
            hotkey: f.acc("hotkey")?,
            origin_netuid: f.u16("origin_netuid")?,
            dest_netuid: f.u16("dest_netuid")?,
        },
        "StakeSwapped" => Event::StakeSwapped {
            coldkey: f.acc("coldkey")?,
            hotkey: f.acc("hotkey")?,
            origin_netuid: f.u16("origin_netuid")?,
            dest_netuid: f.u16("dest_netuid")?,
        },
        "AutoStakeAdded" => Event::AutoStakeAdded {
            netuid: f.u16("netuid")?,
            destination: f.acc("destination")?,
            hotkey: f.acc("hotkey")?,
            owner: f.acc("owner")?,
            incentive: f.u64("incentive")?,
        },
        "IncentiveAlphaEmittedToMiners" => Event::IncentiveAlphaEmittedToMiners {
            netuid: f.u16("netuid")?,
            emissions: numbers(f.get("emissions")?)
                .ok_or("field emissions is not a list of u64")?,
        },
        "TransactionFeePaidWithAlpha" => Event::TransactionFeePaidWithAlpha {
            who: f.acc("who")?,
            netuid: f.u16("netuid")?,
            alpha_fee: f.u64("alpha_fee")?,
        },
        "AlphaRecycled" => Event::AlphaRecycled {
            coldkey: f.acc("coldkey")?,
            hotkey: f.acc("hotkey")?,
            amount: f.u64("amount")?,
            netuid: f.u16("netuid")?,
        },
        "AlphaBurned" => Event::AlphaBurned {
            coldkey: f.acc("coldkey")?,
            hotkey: f.acc("hotkey")?,
            amount: f.u64("amount")?,
            netuid: f.u16("netuid")?,
        },
        "EpochDeferred" => Event::EpochDeferred {
            netuid: f.u16("netuid")?,
            from_block: f.u64("from_block")?,
            to_block: f.u64("to_block")?,
        },
        "EpochSkipped" => Event::EpochSkipped {
            netuid: f.u16("netuid")?,
            block: f.u64("block")?,
        },
        "RootClaimed" => Event::RootClaimed {
            coldkey: f.acc("coldkey")?,
            tao: f.opt_u64("tao")?,
        },
        "SubnetOwnerChanged" => Event::SubnetOwnerChanged {
            netuid: f.u16("netuid")?,
        },
        "StakeAndHotkeyTransferred" => Event::StakeAndHotkeyTransferred {
            origin_coldkey: f.acc("origin_coldkey")?,
            destination_coldkey: f.acc("destination_coldkey")?,
            origin_hotkey: f.acc("origin_hotkey")?,
            destination_hotkey: f.acc("destination_hotkey")?,
            origin_netuid: f.u16("origin_netuid")?,
            destination_netuid: f.u16("destination_netuid")?,
        },
        "NeuronRegistered" => Event::NeuronRegistered {
            netuid: f.u16("netuid")?,
            uid: f.u16("uid")?,
            hotkey: f.acc("hotkey")?,
        },
        "NetworkRemoved" => Event::NetworkRemoved {
            netuid: f.u16("netuid")?,
        },
        "NetworkDissolveCleanupCompleted" => Event::NetworkDissolveCleanupCompleted {
            netuid: f.u16("netuid")?,
        },
        _ => return Ok(None),
    }))
}
