//! The storage view: which model field each served storage item reads, how its value is
//! built (then encoded with the metadata's value type), and the enumeration of keys
//! behind a prefix for `state_getKeysPaged`.

use scale_value::Value;

use crate::chain::Block;
use crate::encode::{
    KeyPart, account, decode_storage_key, default_value, encode, num, storage_key,
};
use crate::error::Result;
use crate::metadata::{ChainMetadata, StorageEntryInfo};
use crate::model::{AccountId, ChainState, SafeFloat, Share};

/// The storage items this devnet serves, as (pallet, entry).
pub const SERVED: &[(&str, &str)] = &[
    ("System", "Account"),
    ("System", "Events"),
    ("System", "EventCount"),
    ("System", "Number"),
    ("System", "ParentHash"),
    ("Timestamp", "Now"),
    ("SubtensorModule", "Keys"),
    ("SubtensorModule", "Uids"),
    ("SubtensorModule", "SubnetworkN"),
    ("SubtensorModule", "Owner"),
    ("SubtensorModule", "OwnedHotkeys"),
    ("SubtensorModule", "StakingHotkeys"),
    ("SubtensorModule", "TotalHotkeyAlpha"),
    ("SubtensorModule", "TotalHotkeyShares"),
    ("SubtensorModule", "TotalHotkeySharesV2"),
    ("SubtensorModule", "Alpha"),
    ("SubtensorModule", "AlphaV2"),
    ("SubtensorModule", "Tempo"),
    ("SubtensorModule", "BlocksSinceLastStep"),
    ("SubtensorModule", "LastMechansimStepBlock"),
    ("SubtensorModule", "LastEpochBlock"),
    ("SubtensorModule", "PendingEpochAt"),
    ("SubtensorModule", "SubnetEpochIndex"),
    ("SubtensorModule", "PendingServerEmission"),
    ("SubtensorModule", "PendingValidatorEmission"),
    ("SubtensorModule", "PendingOwnerCut"),
    ("SubtensorModule", "SubnetAlphaOutEmission"),
    ("SubtensorModule", "AutoStakeDestination"),
    ("SubtensorModule", "AlphaDividendsPerSubnet"),
    ("SubtensorModule", "MaxEpochsPerBlock"),
    ("SubtensorModule", "NetworksAdded"),
    ("SubtensorModule", "TotalNetworks"),
    ("SubtensorModule", "SubnetOwner"),
    ("SubtensorModule", "SubnetOwnerHotkey"),
    ("SubtensorModule", "MaxAllowedUids"),
    ("SubtensorModule", "Delegates"),
    ("SubtensorModule", "MechanismCountCurrent"),
    ("SubtensorModule", "MechanismEmissionSplit"),
    ("SubtensorModule", "RootClaimed"),
    ("SubtensorModule", "RootClaimType"),
];

fn safe_float(s: &SafeFloat) -> Value {
    Value::named_composite([
        ("mantissa", num(s.mantissa)),
        ("exponent", Value::i128(s.exponent as i128)),
    ])
}

fn fixed(bits: u128) -> Value {
    Value::named_composite([("bits", num(bits))])
}

fn accounts(list: &imbl::Vector<AccountId>) -> Value {
    Value::unnamed_composite(list.iter().map(account))
}

type Entries = Vec<(Vec<KeyPart>, Value)>;

/// A read-only view of one block's storage.
pub struct StorageView<'a> {
    pub md: &'a ChainMetadata,
    pub state: &'a ChainState,
    pub block: &'a Block,
}

impl StorageView<'_> {
    /// The raw value at a full storage key, or None when absent (as a node answers null).
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let Some(info) = self.md.storage_for_key(key) else {
            return Ok(None);
        };
        if (info.pallet.as_str(), info.entry.as_str()) == ("System", "Events") {
            return Ok(if key.len() == 32 {
                Some(self.block.events_encoded(self.md)?.to_vec())
            } else {
                None
            });
        }
        if let Some(r) = crate::neuron_storage::get(self, info, key) {
            return r;
        }
        let Ok(parts) = decode_storage_key(self.md.types(), info, key) else {
            return Ok(None);
        };
        match self.entries(info, Some(&parts)).into_iter().next() {
            Some((_, v)) => Ok(Some(encode(self.md.types(), info.value_type, &v)?)),
            None => Ok(None),
        }
    }

    /// Every served key starting with `prefix`, sorted.
    pub fn keys(&self, prefix: &[u8]) -> Result<Vec<Vec<u8>>> {
        let mut out = vec![];
        for (p, e) in SERVED {
            let Ok(info) = self.md.storage(p, e) else {
                continue;
            };
            let n = prefix.len().min(32);
            if info.prefix[..n] != prefix[..n] {
                continue;
            }
            if (*p, *e) == ("System", "Events") {
                out.push(info.prefix.to_vec());
                continue;
            }
            for (parts, _) in self.entries(info, None) {
                let k = storage_key(self.md.types(), info, &parts)?;
                if k.starts_with(prefix) {
                    out.push(k);
                }
            }
        }
        out.extend(crate::neuron_storage::keys(self, prefix)?);
        out.sort();
        Ok(out)
    }

    /// The entries of an item: all of them, or the one at `want` (exact key parts).
    fn entries(&self, info: &StorageEntryInfo, want: Option<&[KeyPart]>) -> Entries {
        let st = self.state;
        let acct = |i: usize| want.and_then(|w| w.get(i)).and_then(KeyPart::as_account);
        let netp = |i: usize| {
            want.and_then(|w| w.get(i))
                .and_then(KeyPart::as_num)
                .map(|n| n as u16)
        };
        let by_net = |f: &dyn Fn(&crate::model::Subnet) -> Option<Value>| -> Entries {
            st.subnets
                .iter()
                .filter(|(n, _)| netp(0).is_none_or(|w| w == **n))
                .filter_map(|(n, s)| f(s).map(|v| (vec![KeyPart::Num(*n as u128)], v)))
                .collect()
        };
        let plain = |v: Value| vec![(vec![], v)];
        let nz = |x: u64| (x > 0).then(|| num(x));
        match (info.pallet.as_str(), info.entry.as_str()) {
            ("System", "Account") => st
                .balances
                .iter()
                .filter(|(a, _)| acct(0).is_none_or(|w| w == **a))
                .filter_map(|(a, free)| {
                    let data = Value::named_composite([
                        ("free", num(*free)),
                        ("reserved", num(0u8)),
                        ("frozen", num(0u8)),
                        ("flags", num(1u128 << 127)),
                    ]);
                    let v = default_value(
                        self.md.types(),
                        info.value_type,
                        &[
                            ("data", data),
                            ("providers", num(1u8)),
                            ("nonce", num(st.nonce(a))),
                        ],
                    )
                    .ok()?;
                    Some((vec![KeyPart::Account(*a)], v))
                })
                .collect(),
            ("System", "EventCount") => plain(num(self.block.events.len() as u32)),
            ("System", "Number") => plain(num(self.block.number as u32)),
            ("System", "ParentHash") => plain(Value::from_bytes(self.block.header.parent_hash)),
            ("Timestamp", "Now") => plain(num(st.timestamp)),
            ("SubtensorModule", "Keys") => st
                .subnets
                .iter()
                .filter(|(n, _)| netp(0).is_none_or(|w| w == **n))
                .flat_map(|(n, s)| {
                    s.keys
                        .iter()
                        .filter(|(u, _)| netp(1).is_none_or(|w| w == **u))
                        .map(|(u, h)| {
                            (
                                vec![KeyPart::Num(*n as u128), KeyPart::Num(*u as u128)],
                                account(h),
                            )
                        })
                        .collect::<Vec<_>>()
                })
                .collect(),
            ("SubtensorModule", "Uids") => st
                .subnets
                .iter()
                .filter(|(n, _)| netp(0).is_none_or(|w| w == **n))
                .flat_map(|(n, s)| {
                    s.uids
                        .iter()
                        .filter(|(h, _)| acct(1).is_none_or(|w| w == **h))
                        .map(|(h, u)| {
                            (
                                vec![KeyPart::Num(*n as u128), KeyPart::Account(*h)],
                                num(*u),
                            )
                        })
                        .collect::<Vec<_>>()
                })
                .collect(),
            ("SubtensorModule", "SubnetworkN") => by_net(&|s| Some(num(s.keys.len() as u16))),
            ("SubtensorModule", "Tempo") => by_net(&|s| Some(num(s.tempo))),
            ("SubtensorModule", "BlocksSinceLastStep") => by_net(&|s| nz(s.blocks_since_last_step)),
            ("SubtensorModule", "LastMechansimStepBlock") => {
                by_net(&|s| nz(s.last_mechanism_step_block))
            }
            ("SubtensorModule", "LastEpochBlock") => by_net(&|s| nz(s.last_epoch_block)),
            ("SubtensorModule", "PendingEpochAt") => by_net(&|s| nz(s.pending_epoch_at)),
            ("SubtensorModule", "SubnetEpochIndex") => by_net(&|s| nz(s.epoch_index)),
            ("SubtensorModule", "PendingServerEmission") => by_net(&|s| nz(s.pending_server)),
            ("SubtensorModule", "PendingValidatorEmission") => by_net(&|s| nz(s.pending_validator)),
            ("SubtensorModule", "PendingOwnerCut") => by_net(&|s| nz(s.pending_owner_cut)),
            // The alpha emitted into the subnet this block, before the owner cut is taken
            // from it: `emit_to_subnets` writes `SubnetAlphaOutEmission[netuid] =
            // alpha_out_i` every block, then adds `alpha_out_i * cut` to `PendingOwnerCut`
            // (subtensor v3.4.9-424 `pallets/subtensor/src/coinbase/run_coinbase.rs`; the
            // same in v3.3.13-393). Nothing is written before the first block's coinbase.
            ("SubtensorModule", "SubnetAlphaOutEmission") => {
                by_net(&|s| (st.block > 0).then_some(()).and(nz(s.emission_per_block)))
            }
            ("SubtensorModule", "NetworksAdded") => by_net(&|_| Some(Value::bool(true))),
            ("SubtensorModule", "SubnetOwner") => by_net(&|s| Some(account(&s.owner_coldkey))),
            ("SubtensorModule", "SubnetOwnerHotkey") => by_net(&|s| Some(account(&s.owner_hotkey))),
            ("SubtensorModule", "MaxAllowedUids") => by_net(&|s| Some(num(s.max_uids))),
            // Written only when a subnet's count changes from the default 1
            // (`update_mechanism_counts_if_needed`), read with the default otherwise.
            ("SubtensorModule", "MechanismCountCurrent") => {
                by_net(&|s| (s.mechanisms > 1).then(|| num(s.mechanisms)))
            }
            ("SubtensorModule", "MechanismEmissionSplit") => by_net(&|s| {
                (!s.mechanism_split.is_empty())
                    .then(|| Value::unnamed_composite(s.mechanism_split.iter().map(|p| num(*p))))
            }),
            ("SubtensorModule", "RootClaimed") => st
                .root_claimed
                .iter()
                .filter(|((n, h, c), _)| {
                    netp(0).is_none_or(|w| w == *n)
                        && acct(1).is_none_or(|w| w == *h)
                        && acct(2).is_none_or(|w| w == *c)
                })
                .map(|((n, h, c), v)| {
                    (
                        vec![
                            KeyPart::Num(*n as u128),
                            KeyPart::Account(*h),
                            KeyPart::Account(*c),
                        ],
                        num(*v),
                    )
                })
                .collect(),
            // The model's claims are "Keep" claims: every coldkey that has claimed reads
            // `Keep` (the runtime's default is `Swap`).
            ("SubtensorModule", "RootClaimType") => st
                .root_claimed
                .keys()
                .map(|(_, _, c)| *c)
                .filter(|c| acct(0).is_none_or(|w| w == *c))
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .map(|c| {
                    (
                        vec![KeyPart::Account(c)],
                        Value::unnamed_variant("Keep", []),
                    )
                })
                .collect(),
            ("SubtensorModule", "TotalNetworks") => plain(num(st.subnets.len() as u16)),
            ("SubtensorModule", "MaxEpochsPerBlock") => plain(num(st.max_epochs_per_block)),
            ("SubtensorModule", "Owner") => st
                .owner
                .iter()
                .filter(|(h, _)| acct(0).is_none_or(|w| w == **h))
                .map(|(h, c)| (vec![KeyPart::Account(*h)], account(c)))
                .collect(),
            ("SubtensorModule", "Delegates") => st
                .delegate_take
                .iter()
                .filter(|(h, _)| acct(0).is_none_or(|w| w == **h))
                .map(|(h, t)| (vec![KeyPart::Account(*h)], num(*t)))
                .collect(),
            ("SubtensorModule", "OwnedHotkeys") => st
                .owned_hotkeys
                .iter()
                .filter(|(c, _)| acct(0).is_none_or(|w| w == **c))
                .map(|(c, l)| (vec![KeyPart::Account(*c)], accounts(l)))
                .collect(),
            ("SubtensorModule", "StakingHotkeys") => st
                .staking_hotkeys
                .iter()
                .filter(|(c, _)| acct(0).is_none_or(|w| w == **c))
                .map(|(c, l)| (vec![KeyPart::Account(*c)], accounts(l)))
                .collect(),
            ("SubtensorModule", "AlphaDividendsPerSubnet") => st
                .subnets
                .iter()
                .filter(|(n, _)| netp(0).is_none_or(|w| w == **n))
                .flat_map(|(n, s)| {
                    s.alpha_dividends
                        .iter()
                        .filter(|(h, _)| acct(1).is_none_or(|w| w == **h))
                        .map(|(h, d)| {
                            (
                                vec![KeyPart::Num(*n as u128), KeyPart::Account(*h)],
                                num(*d),
                            )
                        })
                        .collect::<Vec<_>>()
                })
                .collect(),
            ("SubtensorModule", "AutoStakeDestination") => st
                .auto_stake
                .iter()
                .filter(|((c, n), _)| {
                    acct(0).is_none_or(|w| w == *c) && netp(1).is_none_or(|w| w == *n)
                })
                .map(|((c, n), h)| {
                    (
                        vec![KeyPart::Account(*c), KeyPart::Num(*n as u128)],
                        account(h),
                    )
                })
                .collect(),
            (
                "SubtensorModule",
                e @ ("TotalHotkeyAlpha" | "TotalHotkeyShares" | "TotalHotkeySharesV2"),
            ) => self.pools(want, |p| match e {
                "TotalHotkeyAlpha" => nz(p.total_alpha),
                "TotalHotkeyShares" => p.legacy_denominator.map(fixed),
                _ => (p.legacy_denominator.is_none() && !p.denominator.is_zero())
                    .then(|| safe_float(&p.denominator)),
            }),
            ("SubtensorModule", e @ ("Alpha" | "AlphaV2")) => {
                let legacy = e == "Alpha";
                let mut out = vec![];
                let hot = acct(0);
                let cold = acct(1);
                let net = netp(2);
                let mut visit = |h: &AccountId, n: u16, p: &crate::model::Pool| {
                    let mut push = |c: &AccountId, s: &Share| {
                        let v = match (s, legacy) {
                            (Share::Legacy(b), true) => fixed(*b),
                            (Share::V2(f), false) => safe_float(f),
                            _ => return,
                        };
                        out.push((
                            vec![
                                KeyPart::Account(*h),
                                KeyPart::Account(*c),
                                KeyPart::Num(n as u128),
                            ],
                            v,
                        ));
                    };
                    match cold {
                        Some(c) => {
                            if let Some(s) = p.shares.get(&c) {
                                push(&c, s)
                            }
                        }
                        None => p.shares.iter().for_each(|(c, s)| push(c, s)),
                    }
                };
                match (hot, net) {
                    (Some(h), Some(n)) => {
                        if let Some(p) = st.pools.get(&(h, n)) {
                            visit(&h, n, p)
                        }
                    }
                    _ => st
                        .pools
                        .iter()
                        .filter(|((h, _), _)| hot.is_none_or(|w| w == *h))
                        .for_each(|((h, n), p)| visit(h, *n, p)),
                }
                out
            }
            _ => vec![],
        }
    }

    fn pools(
        &self,
        want: Option<&[KeyPart]>,
        f: impl Fn(&crate::model::Pool) -> Option<Value>,
    ) -> Entries {
        let hot = want.and_then(|w| w.first()).and_then(KeyPart::as_account);
        let net = want
            .and_then(|w| w.get(1))
            .and_then(KeyPart::as_num)
            .map(|n| n as u16);
        let one = |h: &AccountId, n: u16, p: &crate::model::Pool| {
            f(p).map(|v| (vec![KeyPart::Account(*h), KeyPart::Num(n as u128)], v))
        };
        match (hot, net) {
            (Some(h), Some(n)) => self
                .state
                .pools
                .get(&(h, n))
                .and_then(|p| one(&h, n, p))
                .into_iter()
                .collect(),
            _ => self
                .state
                .pools
                .iter()
                .filter(|((h, _), _)| hot.is_none_or(|w| w == *h))
                .filter_map(|((h, n), p)| one(h, *n, p))
                .collect(),
        }
    }
}
