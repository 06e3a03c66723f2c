//! Per-neuron scores and subnet hyperparameters computed from the chain model, shared by
//! the per-neuron storage (`crate::neuron_storage`) and the runtime APIs behind the
//! bittensor SDK's metagraph, neurons and hyperparameter reads (`crate::api_info`).
//!
//! The model has no Yuma consensus: its validators are the neurons with a dividend
//! weight, and they all hold the subnet's configured incentive weights (the weights the
//! epoch pays by, `crate::model::epoch`). With every validator setting the same weights,
//! Yuma (subtensor v3.4.9-424 `pallets/subtensor/src/epoch/run_epoch.rs`) gives
//! consensus = rank = incentive = the normalized weights and trust 1 wherever a miner
//! has weight; those are the values served. Hyperparameters the model has (tempo, max
//! uids) come from it; the rest are the runtime's own defaults, decoded from the
//! metadata's storage defaults (`SubtensorInitial*` of `runtime/src/lib.rs`), except
//! commit-reveal off and `MinAllowedWeights` 1 so a validator can set weights.

use scale_value::{Value, ValueDef};

use crate::encode::decode;
use crate::metadata::ChainMetadata;
use crate::model::{AccountId, ChainState, NetUid, Subnet};

/// `GLOBAL_MAX_SUBNET_COUNT`: mechanism `m` of subnet `n` is stored at `n + m * 4096`.
pub const MECH_STRIDE: u16 = 4096;

/// One neuron's row of the metagraph.
#[derive(Debug, Clone)]
pub struct NeuronRow {
    pub uid: u16,
    pub hotkey: AccountId,
    pub coldkey: AccountId,
    pub active: bool,
    pub validator_permit: bool,
    pub last_update: u64,
    pub registered_at: u64,
    /// u16 fractions of `u16::MAX`.
    pub incentive: u16,
    pub dividends: u16,
    pub consensus: u16,
    pub trust: u16,
    pub rank: u16,
    pub validator_trust: u16,
    pub pruning_score: u16,
    /// Alpha the last epoch gave the uid (`Emission`).
    pub emission: u64,
    /// `TotalHotkeyAlpha` of the hotkey on the subnet.
    pub alpha_stake: u64,
    /// `StakeWeight`: the normalized stake (alpha only; root stake is not modelled).
    pub stake_weight: u16,
    /// (uid, weight max-upscaled to u16) set by this neuron (validators only).
    pub weights: Vec<(u16, u16)>,
}

/// Floors `x * 65535 / sum` per entry; zeros when the sum is 0 (`vec_fixed_proportions_to_u16`
/// of a normalized vector).
pub fn normalize_u16(xs: &[u64]) -> Vec<u16> {
    let sum: u128 = xs.iter().map(|x| *x as u128).sum();
    xs.iter()
        .map(|x| {
            ((*x as u128) * u16::MAX as u128)
                .checked_div(sum)
                .unwrap_or(0) as u16
        })
        .collect()
}

/// Max-upscales to u16 (`vec_max_upscale_to_u16`): the largest entry becomes 65535.
pub fn max_upscale_u16(xs: &[u64]) -> Vec<u16> {
    let max = xs.iter().copied().max().unwrap_or(0) as u128;
    xs.iter()
        .map(|x| {
            ((*x as u128) * u16::MAX as u128)
                .checked_div(max)
                .unwrap_or(0) as u16
        })
        .collect()
}

/// Whether an epoch has run on the subnet (its outputs are written): before it, the
/// runtime's vectors hold the zeros `append_neuron` pushed at registration.
pub fn epoch_ran(s: &Subnet) -> bool {
    !s.emission.is_empty()
}

/// The validators: uids with a dividend weight.
fn is_validator(s: &Subnet, uid: u16) -> bool {
    s.dividends.get(&uid).copied().unwrap_or(0) > 0
}

/// Every neuron's row on mechanism `mechid` of `netuid`, by uid; None if no subnet.
pub fn rows(
    md: &ChainMetadata,
    st: &ChainState,
    netuid: NetUid,
    mechid: u8,
) -> Option<Vec<NeuronRow>> {
    let s = st.subnets.get(&netuid)?;
    let ran = epoch_ran(s);
    let uids: Vec<u16> = s.keys.keys().copied().collect();
    let w: Vec<u64> = uids
        .iter()
        .map(|u| s.incentive_weight(mechid, *u))
        .collect();
    let d: Vec<u64> = uids
        .iter()
        .map(|u| s.dividends.get(u).copied().unwrap_or(0))
        .collect();
    let incentive = normalize_u16(&w);
    let dividends = normalize_u16(&d);
    let weights_u16 = max_upscale_u16(&w);
    let emission: Vec<u64> = uids
        .iter()
        .map(|u| s.emission.get(u).copied().unwrap_or(0))
        .collect();
    // `PruningScores` (where the runtime keeps them): `vec_max_upscale_to_u16` of the
    // emission.
    let pruning = max_upscale_u16(&emission);
    let alpha: Vec<u64> = uids
        .iter()
        .map(|u| {
            s.keys
                .get(u)
                .and_then(|h| st.pools.get(&(*h, netuid)))
                .map(|p| p.total_alpha)
                .unwrap_or(0)
        })
        .collect();
    let stake_weight = normalize_u16(&alpha);
    // `is_topk_nonzero(stake, max_allowed_validators)` (`epoch/run_epoch.rs`): the k
    // largest non-zero stakes hold a permit (ties: lower uid first).
    let k = hyper_num(md, s, "MaxAllowedValidators").unwrap_or(64) as usize;
    let mut order: Vec<usize> = (0..uids.len()).filter(|i| alpha[*i] > 0).collect();
    order.sort_by(|a, b| alpha[*b].cmp(&alpha[*a]).then(a.cmp(b)));
    let permitted: std::collections::BTreeSet<usize> = order.into_iter().take(k).collect();
    let cutoff = hyper_num(md, s, "ActivityCutoff").unwrap_or(5000) as u64;
    let weights: Vec<(u16, u16)> = uids
        .iter()
        .zip(&weights_u16)
        .filter(|(_, x)| **x > 0)
        .map(|(u, x)| (*u, *x))
        .collect();
    let mut out = vec![];
    for (i, uid) in uids.iter().enumerate() {
        let hotkey = s.keys[uid];
        let registered_at = s.registered_at.get(uid).copied().unwrap_or(0);
        let validator = is_validator(s, *uid);
        // Validators set weights at each epoch of the subnet (the model pays by them
        // then); a miner's `LastUpdate` is its registration block.
        let last_update = if validator {
            registered_at.max(s.last_mechanism_step_block)
        } else {
            registered_at
        };
        let z = |v: u16| if ran { v } else { 0 };
        out.push(NeuronRow {
            uid: *uid,
            hotkey,
            coldkey: st.owner.get(&hotkey).copied().unwrap_or(hotkey),
            // `is_active`: `last_update + activity_cutoff > current_block`.
            active: last_update.saturating_add(cutoff) > st.block,
            validator_permit: ran && permitted.contains(&i),
            last_update,
            registered_at,
            incentive: z(incentive[i]),
            dividends: z(dividends[i]),
            consensus: z(incentive[i]),
            trust: z(if w[i] > 0 { u16::MAX } else { 0 }),
            rank: z(incentive[i]),
            validator_trust: z(if validator && permitted.contains(&i) {
                u16::MAX
            } else {
                0
            }),
            pruning_score: z(pruning[i]),
            emission: emission[i],
            alpha_stake: alpha[i],
            stake_weight: z(stake_weight[i]),
            weights: if validator { weights.clone() } else { vec![] },
        });
    }
    if mechid == 0 && st.has_weights(netuid) {
        yuma_rows(st, netuid, &mut out);
    }
    Some(out)
}

/// A subnet where a validator has set weights (`model/weights.rs`): `Weights`,
/// `LastUpdate` and `ValidatorPermit` are what the model stores, and from the first epoch
/// that ran Yuma (`model/yuma.rs`, mechanism 0) the scores are its outputs, as the
/// runtime's `epoch` writes them (`epoch/run_epoch.rs`: `Active`, `StakeWeight`, `Rank`,
/// `Trust`, `Consensus`, `Incentive`, `Dividends`, `ValidatorTrust`). Until that epoch
/// the scores stay those of the scenario's weights.
fn yuma_rows(st: &ChainState, netuid: NetUid, out: &mut [NeuronRow]) {
    let yuma = st.yuma.get(&netuid);
    for r in out.iter_mut() {
        r.last_update = st.last_update(netuid, r.uid);
        r.validator_permit = st.validator_permit(netuid, r.uid);
        r.weights = st.weights_of(netuid, r.uid);
        let i = r.uid as usize;
        let Some(y) = yuma.filter(|y| i < y.rank.len()) else {
            continue;
        };
        r.active = y.active[i];
        r.stake_weight = y.stake[i];
        r.rank = y.rank[i];
        r.trust = y.trust[i];
        r.consensus = y.consensus[i];
        r.incentive = y.incentive[i];
        r.dividends = y.dividends[i];
        r.validator_trust = y.validator_trust[i];
    }
}

/// The hyperparameters: API field name (`SubnetHyperparamsV2`, the v3 entry names) and
/// the storage item it reads (`rpc_info/subnet_info.rs` `get_subnet_hyperparams_v2`).
pub const HYPERPARAMS: &[(&str, &str)] = &[
    ("rho", "Rho"),
    ("kappa", "Kappa"),
    ("immunity_period", "ImmunityPeriod"),
    ("min_allowed_weights", "MinAllowedWeights"),
    ("max_weights_limit", "MaxWeightsLimit"),
    ("tempo", "Tempo"),
    ("min_difficulty", "MinDifficulty"),
    ("max_difficulty", "MaxDifficulty"),
    ("weights_version", "WeightsVersionKey"),
    ("weights_rate_limit", "WeightsSetRateLimit"),
    ("adjustment_interval", "AdjustmentInterval"),
    ("activity_cutoff", "ActivityCutoff"),
    ("registration_allowed", "NetworkRegistrationAllowed"),
    ("target_regs_per_interval", "TargetRegistrationsPerInterval"),
    ("min_burn", "MinBurn"),
    ("max_burn", "MaxBurn"),
    ("bonds_moving_avg", "BondsMovingAverage"),
    ("max_regs_per_block", "MaxRegistrationsPerBlock"),
    ("serving_rate_limit", "ServingRateLimit"),
    ("max_validators", "MaxAllowedValidators"),
    ("adjustment_alpha", "AdjustmentAlpha"),
    ("difficulty", "Difficulty"),
    ("commit_reveal_period", "RevealPeriodEpochs"),
    (
        "commit_reveal_weights_enabled",
        "CommitRevealWeightsEnabled",
    ),
    ("alpha_high", "AlphaValues"),
    ("alpha_low", "AlphaValues"),
    ("liquid_alpha_enabled", "LiquidAlphaOn"),
    ("alpha_sigmoid_steepness", "AlphaSigmoidSteepness"),
    ("yuma_version", "Yuma3On"),
    ("subnet_is_active", "FirstEmissionBlockNumber"),
    ("transfers_enabled", "TransferToggle"),
    ("bonds_reset_enabled", "BondsResetOn"),
    ("user_liquidity_enabled", "EnabledUserLiquidity"),
    ("pow_registration_allowed", "NetworkPowRegistrationAllowed"),
    ("burn", "Burn"),
];

/// Storage items per subnet served as hyperparameters (`crate::neuron_storage`).
pub const HYPER_STORAGE: &[&str] = &[
    "Rho",
    "Kappa",
    "ImmunityPeriod",
    "MinAllowedWeights",
    "MaxWeightsLimit",
    "MinDifficulty",
    "MaxDifficulty",
    "WeightsVersionKey",
    "WeightsSetRateLimit",
    "AdjustmentInterval",
    "ActivityCutoff",
    "NetworkRegistrationAllowed",
    "NetworkPowRegistrationAllowed",
    "TargetRegistrationsPerInterval",
    "MinBurn",
    "MaxBurn",
    "BondsMovingAverage",
    "MaxRegistrationsPerBlock",
    "ServingRateLimit",
    "MaxAllowedValidators",
    "AdjustmentAlpha",
    "Difficulty",
    "RevealPeriodEpochs",
    "CommitRevealWeightsEnabled",
    "AlphaValues",
    "LiquidAlphaOn",
    "AlphaSigmoidSteepness",
    "Yuma3On",
    "TransferToggle",
    "BondsResetOn",
    "Burn",
];

/// The metadata's default of a `SubtensorModule` storage value (what the runtime reads
/// for a subnet that never wrote it).
pub fn storage_default(md: &ChainMetadata, entry: &str) -> Option<Value> {
    let info = md.storage("SubtensorModule", entry).ok()?;
    let mut bytes = &info.default[..];
    decode(md.types(), info.value_type, &mut bytes)
        .ok()
        .map(|v| v.remove_context())
}

/// A hyperparameter storage value for subnet `s`: the model's where it has one, else the
/// runtime default. None when the metadata lacks the item.
pub fn hyper_storage(md: &ChainMetadata, s: &Subnet, entry: &str) -> Option<Value> {
    let v = match entry {
        "Tempo" => Value::u128(s.tempo as u128),
        "MaxAllowedUids" => Value::u128(s.max_uids as u128),
        // Off, so a validator sets weights directly (`set_weights`).
        "CommitRevealWeightsEnabled" => Value::bool(false),
        // Small, so a validator can set a few weights.
        "MinAllowedWeights" => Value::u128(1),
        // The model's `burned_register` burns nothing.
        "Burn" => Value::u128(0),
        // The model's `burned_register` is always open.
        "NetworkRegistrationAllowed" => Value::bool(true),
        _ => return storage_default(md, entry),
    };
    md.storage("SubtensorModule", entry).ok()?;
    Some(v)
}

/// The first number in a value (through single-field wrappers).
pub fn number(v: &Value) -> Option<u128> {
    match &v.value {
        ValueDef::Composite(c) => c.values().next().and_then(number),
        ValueDef::Primitive(scale_value::Primitive::Bool(b)) => Some(*b as u128),
        ValueDef::Primitive(scale_value::Primitive::I128(i)) => Some(*i as u128),
        _ => v.as_u128(),
    }
}

fn hyper_num(md: &ChainMetadata, s: &Subnet, entry: &str) -> Option<u128> {
    hyper_storage(md, s, entry).as_ref().and_then(number)
}

/// The hyperparameter `name` (an API field) of subnet `s`, as a plain number or bool
/// value (the caller encodes it with the field's type).
pub fn hyperparam(md: &ChainMetadata, s: &Subnet, name: &str) -> Option<Value> {
    let entry = HYPERPARAMS.iter().find(|(n, _)| *n == name)?.1;
    Some(match name {
        // `AlphaValues` is (low, high).
        "alpha_low" | "alpha_high" => {
            let v = hyper_storage(md, s, entry)?;
            let i = if name == "alpha_low" { 0 } else { 1 };
            match &v.value {
                ValueDef::Composite(c) => Value::u128(number(c.values().nth(i)?)?),
                _ => return None,
            }
        }
        // The API reports the i16 storage value as I32F32.
        "alpha_sigmoid_steepness" => {
            let v = hyper_storage(md, s, entry)?;
            let n = match &v.value {
                ValueDef::Primitive(scale_value::Primitive::I128(i)) => *i,
                _ => number(&v)? as i128,
            };
            Value::named_composite([("bits", Value::i128(n << 32))])
        }
        "yuma_version" => Value::u128(if hyper_num(md, s, entry).unwrap_or(0) > 0 {
            3
        } else {
            2
        }),
        // Every modelled subnet emits from block 1.
        "subnet_is_active" => Value::bool(true),
        // The model has no user liquidity positions.
        "user_liquidity_enabled" => Value::bool(false),
        _ => {
            let v = hyper_storage(md, s, entry)?;
            match &v.value {
                ValueDef::Primitive(scale_value::Primitive::Bool(_)) => v,
                _ => Value::u128(number(&v)?),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizing() {
        assert_eq!(normalize_u16(&[1, 1, 2]), vec![16383, 16383, 32767]);
        assert_eq!(normalize_u16(&[0, 0]), vec![0, 0]);
        assert_eq!(max_upscale_u16(&[1, 2]), vec![32767, 65535]);
    }

    #[test]
    fn hyperparameters_come_from_the_metadata_defaults_and_the_model() {
        let md = crate::runtime::profile(424).unwrap().md.clone();
        let (st, _) = crate::scenario::Scenario::builtin("tiny")
            .unwrap()
            .build(12_000, None)
            .unwrap();
        let s = st.subnets.get(&1).unwrap();
        assert_eq!(number(&hyperparam(&md, s, "tempo").unwrap()), Some(10));
        assert_eq!(
            hyperparam(&md, s, "commit_reveal_weights_enabled"),
            Some(Value::bool(false))
        );
        for (name, _) in HYPERPARAMS {
            assert!(hyperparam(&md, s, name).is_some(), "{name}");
        }
        // Runtime defaults, read from the metadata.
        assert_eq!(
            number(&hyperparam(&md, s, "activity_cutoff").unwrap()),
            Some(5000)
        );
        assert_eq!(
            number(&hyperparam(&md, s, "immunity_period").unwrap()),
            Some(4096)
        );
    }
}
