//! Per-neuron and hyperparameter storage, served beside `crate::storage` (registered in
//! `StorageView::get` / `keys`): the epoch's vectors by uid (`Active`, `ValidatorPermit`,
//! `Incentive`, `Dividends`, `Emission`, `Consensus`, `ValidatorTrust`, `LastUpdate`,
//! `StakeWeight`;
//! `Trust`, `Rank`, `PruningScores` where the runtime still has them), `Weights` and
//! `Bonds` by validator, `IsNetworkMember`, `BlockAtRegistration`, the subnet
//! hyperparameters, and the Commitments pallet's maps (always empty: the model has no
//! commitments). Values come from `crate::neuron_scores`.
//!
//! `Incentive`, `LastUpdate`, `Weights` and `Bonds` are keyed by the mechanism storage
//! index `netuid + mechid * 4096` (subtensor v3.4.9-424
//! `pallets/subtensor/src/subnets/mechanism.rs`); the other vectors by netuid.

use scale_value::Value;

use crate::encode::{KeyPart, num, storage_key};
use crate::error::Result;
use crate::metadata::StorageEntryInfo;
use crate::neuron_scores::{HYPER_STORAGE, MECH_STRIDE, NeuronRow, hyper_storage, rows};
use crate::storage::StorageView;

/// Vectors by uid, keyed by netuid (or mechanism index).
const VECTORS: &[&str] = &[
    "Active",
    "ValidatorPermit",
    "Incentive",
    "Dividends",
    "Emission",
    "Consensus",
    "ValidatorTrust",
    "LastUpdate",
    "Trust",
    "Rank",
    "PruningScores",
    "StakeWeight",
];

/// Items keyed by the mechanism storage index.
const BY_MECHANISM: &[&str] = &["Incentive", "LastUpdate", "Weights", "Bonds"];

/// The storage items served here, as (pallet, entry).
pub const SERVED: &[(&str, &str)] = &[
    ("SubtensorModule", "Active"),
    ("SubtensorModule", "ValidatorPermit"),
    ("SubtensorModule", "Incentive"),
    ("SubtensorModule", "Dividends"),
    ("SubtensorModule", "Emission"),
    ("SubtensorModule", "Consensus"),
    ("SubtensorModule", "ValidatorTrust"),
    ("SubtensorModule", "LastUpdate"),
    ("SubtensorModule", "Trust"),
    ("SubtensorModule", "Rank"),
    ("SubtensorModule", "PruningScores"),
    ("SubtensorModule", "StakeWeight"),
    ("SubtensorModule", "Weights"),
    ("SubtensorModule", "Bonds"),
    ("SubtensorModule", "IsNetworkMember"),
    ("SubtensorModule", "BlockAtRegistration"),
    ("SubtensorModule", "Rho"),
    ("SubtensorModule", "Kappa"),
    ("SubtensorModule", "ImmunityPeriod"),
    ("SubtensorModule", "MinAllowedWeights"),
    ("SubtensorModule", "MaxWeightsLimit"),
    ("SubtensorModule", "MinDifficulty"),
    ("SubtensorModule", "MaxDifficulty"),
    ("SubtensorModule", "WeightsVersionKey"),
    ("SubtensorModule", "WeightsSetRateLimit"),
    ("SubtensorModule", "AdjustmentInterval"),
    ("SubtensorModule", "ActivityCutoff"),
    ("SubtensorModule", "NetworkRegistrationAllowed"),
    ("SubtensorModule", "NetworkPowRegistrationAllowed"),
    ("SubtensorModule", "TargetRegistrationsPerInterval"),
    ("SubtensorModule", "MinBurn"),
    ("SubtensorModule", "MaxBurn"),
    ("SubtensorModule", "BondsMovingAverage"),
    ("SubtensorModule", "MaxRegistrationsPerBlock"),
    ("SubtensorModule", "ServingRateLimit"),
    ("SubtensorModule", "MaxAllowedValidators"),
    ("SubtensorModule", "AdjustmentAlpha"),
    ("SubtensorModule", "Difficulty"),
    ("SubtensorModule", "RevealPeriodEpochs"),
    ("SubtensorModule", "CommitRevealWeightsEnabled"),
    ("SubtensorModule", "AlphaValues"),
    ("SubtensorModule", "LiquidAlphaOn"),
    ("SubtensorModule", "AlphaSigmoidSteepness"),
    ("SubtensorModule", "Yuma3On"),
    ("SubtensorModule", "TransferToggle"),
    ("SubtensorModule", "BondsResetOn"),
    ("SubtensorModule", "Burn"),
    ("Commitments", "CommitmentOf"),
    ("Commitments", "RevealedCommitments"),
];

fn served(info: &StorageEntryInfo) -> bool {
    SERVED
        .iter()
        .any(|(p, e)| *p == info.pallet && *e == info.entry)
}

type Entries = Vec<(Vec<KeyPart>, Value)>;

fn vector(entry: &str, r: &[NeuronRow]) -> Option<Value> {
    let col = |f: &dyn Fn(&NeuronRow) -> Value| Value::unnamed_composite(r.iter().map(f));
    Some(match entry {
        "Active" => col(&|n| Value::bool(n.active)),
        "ValidatorPermit" => col(&|n| Value::bool(n.validator_permit)),
        "Incentive" => col(&|n| num(n.incentive)),
        "Dividends" => col(&|n| num(n.dividends)),
        "Emission" => col(&|n| num(n.emission)),
        "Consensus" => col(&|n| num(n.consensus)),
        "ValidatorTrust" => col(&|n| num(n.validator_trust)),
        "LastUpdate" => col(&|n| num(n.last_update)),
        "Trust" => col(&|n| num(n.trust)),
        "Rank" => col(&|n| num(n.rank)),
        "PruningScores" => col(&|n| num(n.pruning_score)),
        "StakeWeight" => col(&|n| num(n.stake_weight)),
        _ => return None,
    })
}

fn pairs(list: &[(u16, u16)]) -> Value {
    Value::unnamed_composite(
        list.iter()
            .map(|(a, b)| Value::unnamed_composite([num(*a), num(*b)])),
    )
}

/// The entries of a served item: all, or those matching `want` (exact key parts).
fn entries(v: &StorageView, info: &StorageEntryInfo, want: Option<&[KeyPart]>) -> Entries {
    let st = v.state;
    let part = |i: usize| want.and_then(|w| w.get(i)).copied();
    let num_at = |i: usize| part(i).and_then(|p| p.as_num());
    let acct_at = |i: usize| part(i).and_then(|p| p.as_account());
    let entry = info.entry.as_str();
    if info.pallet == "Commitments" {
        return vec![];
    }
    let mut out = vec![];
    // (netuid or mechanism index, netuid, mechid) of every subnet (and its mechanisms
    // for the items keyed by mechanism).
    let mut indexes = vec![];
    for (n, s) in st.subnets.iter() {
        let mechs = if BY_MECHANISM.contains(&entry) {
            s.mechanisms.max(1)
        } else {
            1
        };
        for m in 0..mechs {
            let idx = n + m as u16 * MECH_STRIDE;
            if num_at(0).is_none_or(|w| w == idx as u128) {
                indexes.push((idx, *n, m));
            }
        }
    }
    if VECTORS.contains(&entry) {
        for (idx, n, m) in indexes {
            if let Some(r) = rows(v.md, st, n, m)
                && let Some(val) = vector(entry, &r)
            {
                out.push((vec![KeyPart::Num(idx as u128)], val));
            }
        }
        return out;
    }
    match entry {
        "Weights" | "Bonds" => {
            // Bonds: the EMA of constant weights converges to them (`compute_bonds`,
            // `epoch/run_epoch.rs`), so a validator's bonds are its weights.
            for (idx, n, m) in indexes {
                for r in rows(v.md, st, n, m).unwrap_or_default() {
                    if r.weights.is_empty() || num_at(1).is_some_and(|w| w != r.uid as u128) {
                        continue;
                    }
                    out.push((
                        vec![KeyPart::Num(idx as u128), KeyPart::Num(r.uid as u128)],
                        pairs(&r.weights),
                    ));
                }
            }
        }
        "BlockAtRegistration" => {
            for (idx, n, _) in indexes {
                let s = &st.subnets[&n];
                for (uid, _) in s.keys.iter() {
                    if num_at(1).is_some_and(|w| w != *uid as u128) {
                        continue;
                    }
                    let b = s.registered_at.get(uid).copied().unwrap_or(0);
                    out.push((
                        vec![KeyPart::Num(idx as u128), KeyPart::Num(*uid as u128)],
                        num(b),
                    ));
                }
            }
        }
        // (hotkey, netuid) -> true for every registration.
        "IsNetworkMember" => {
            for (n, s) in st.subnets.iter() {
                if num_at(1).is_some_and(|w| w != *n as u128) {
                    continue;
                }
                for h in s.uids.keys() {
                    if acct_at(0).is_some_and(|w| w != *h) {
                        continue;
                    }
                    out.push((
                        vec![KeyPart::Account(*h), KeyPart::Num(*n as u128)],
                        Value::bool(true),
                    ));
                }
            }
        }
        e if HYPER_STORAGE.contains(&e) => {
            for (idx, n, _) in indexes {
                if let Some(val) = hyper_storage(v.md, &st.subnets[&n], e) {
                    out.push((vec![KeyPart::Num(idx as u128)], val));
                }
            }
        }
        _ => {}
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The value at a full key of a served item: `Some(answer)`, else None (not ours).
pub fn get(
    v: &StorageView,
    info: &StorageEntryInfo,
    key: &[u8],
) -> Option<Result<Option<Vec<u8>>>> {
    if !served(info) {
        return None;
    }
    Some((|| {
        let Ok(parts) = crate::encode::decode_storage_key(v.md.types(), info, key) else {
            return Ok(None);
        };
        if parts.len() != info.hashers.len() {
            return Ok(None);
        }
        match entries(v, info, Some(&parts)).into_iter().next() {
            Some((_, val)) => crate::encode::encode(v.md.types(), info.value_type, &val).map(Some),
            None => Ok(None),
        }
    })())
}

/// The keys of the served items under `prefix` (for `state_getKeysPaged`).
pub fn keys(v: &StorageView, prefix: &[u8]) -> Result<Vec<Vec<u8>>> {
    let mut out = vec![];
    for (p, e) in SERVED {
        let Ok(info) = v.md.storage(p, e) else {
            continue;
        };
        let n = prefix.len().min(32);
        if info.prefix[..n] != prefix[..n] {
            continue;
        }
        for (parts, _) in entries(v, info, None) {
            let k = storage_key(v.md.types(), info, &parts)?;
            if k.starts_with(prefix) {
                out.push(k);
            }
        }
    }
    Ok(out)
}
