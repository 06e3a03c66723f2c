//! `set_weights` signed by a validator's hotkey, with the runtime's checks, rate limit
//! and errors, and the weights it stores for the epoch (`crate::model::yuma`).
//!
//! Read in opentensor/subtensor `pallets/subtensor/src/subnets/weights.rs`
//! (`do_set_weights` and its helpers `check_version_key`, `check_rate_limit`,
//! `contains_invalid_uids`, `has_duplicate_uids`, `check_length`, `max_weight_limited`,
//! `is_self_weight`, `check_len_uids_within_allowed`), `epoch/math.rs`
//! (`vec_u16_max_upscale_to_u16`, `check_vec_max_limited`), `subnets/uids.rs`
//! (`append_neuron` pushes the registration block to `LastUpdate`), and
//! `staking/helpers.rs` / `subnets/weights.rs` `check_weights_min_stake` (the hotkey's
//! stake weight at least `StakeThreshold`). The order of the checks is the runtime's, so
//! a call breaking two rules fails with the first one's error.
//!
//! The hyperparameters are the runtime's storage defaults (`SubtensorInitial*` of
//! `runtime/src/lib.rs`, checked against the metadata's defaults in the tests below),
//! except those the devnet serves differently (`crate::neuron_scores::hyper_storage`):
//! `MinAllowedWeights` 1 and commit-reveal off.

use super::yuma::{self, YumaInput, YumaOutput};
use super::{AccountId, ChainEvent, ChainState, Exec, NetUid};
use crate::error::{DevnetError, Result};

/// The weight-setting hyperparameters of every subnet (the devnet has no `sudo_set_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeightParams {
    /// `MinAllowedWeights` (served as 1, `crate::neuron_scores`).
    pub min_allowed_weights: u16,
    /// `MaxWeightsLimit` (u16 fraction; 65535 = no limit).
    pub max_weights_limit: u16,
    /// `WeightsSetRateLimit`, in blocks.
    pub weights_set_rate_limit: u64,
    /// `WeightsVersionKey` (0: any key).
    pub weights_version_key: u64,
    /// `StakeThreshold`: the stake weight a hotkey needs to set weights.
    pub stake_threshold: u64,
    /// `CommitRevealWeightsEnabled` (served false: scenarios disable it).
    pub commit_reveal: bool,
    /// `MaxAllowedValidators`: the top-k stakes hold a validator permit.
    pub max_allowed_validators: u16,
    /// `Kappa` (u16 fraction): the stake quantile of consensus.
    pub kappa: u16,
    /// `BondsMovingAverage` (parts of 1,000,000).
    pub bonds_moving_average: u64,
    /// `ActivityCutoff`, in blocks.
    pub activity_cutoff: u64,
    /// `BondsPenalty` (u16 fraction).
    pub bonds_penalty: u16,
}

/// The values every subnet uses (see the module doc; `metadata_defaults_match` checks
/// them against the finney 424 metadata's storage defaults).
pub const WEIGHT_PARAMS: WeightParams = WeightParams {
    min_allowed_weights: 1,
    max_weights_limit: u16::MAX,
    weights_set_rate_limit: 100,
    weights_version_key: 0,
    stake_threshold: 0,
    commit_reveal: false,
    max_allowed_validators: 128,
    kappa: 32_767,
    bonds_moving_average: 900_000,
    activity_cutoff: 5_000,
    bonds_penalty: u16::MAX,
};

/// A refusal with the runtime's `SubtensorModule` error variant.
fn refuse<T>(variant: &str, why: String) -> Result<T> {
    Err(DevnetError::Action(format!(
        "SubtensorModule::{variant}: set_weights: {why}"
    )))
}

/// `vec_u16_max_upscale_to_u16` (`epoch/math.rs` `vec_max_upscale_to_u16` on I32F32):
/// the largest entry becomes 65535; above 32768 each entry is `e * (65535 / max)`, else
/// `e * 65535 / max`, each division truncating in I32F32 and the result rounded to
/// nearest; an all-zero vector stays zero.
pub fn max_upscale(vec: &[u16]) -> Vec<u16> {
    let max = vec.iter().copied().max().unwrap_or(0) as u128;
    if max == 0 {
        return vec.to_vec();
    }
    let round = |bits: u128| ((bits + (1 << 31)) >> 32).min(u16::MAX as u128) as u16;
    if max > 32_768 {
        let q = ((u16::MAX as u128) << 32) / max;
        vec.iter().map(|e| round(*e as u128 * q)).collect()
    } else {
        vec.iter()
            .map(|e| round(((*e as u128 * u16::MAX as u128) << 32) / max))
            .collect()
    }
}

impl ChainState {
    /// The epoch's Yuma step for a subnet (`crate::model::yuma`, run before the payout):
    /// writes the new `ValidatorPermit`s on every subnet; where some neuron has set
    /// weights, also the bonds and the epoch terms (`ChainState::yuma`), and returns
    /// them so the payout splits the pots by Yuma's incentive and dividends.
    pub(super) fn epoch_yuma(&mut self, netuid: NetUid) -> Option<YumaOutput> {
        let s = self.subnets.get(&netuid)?;
        let uids: Vec<u16> = s.keys.keys().copied().collect();
        let n = uids.len();
        if uids.iter().enumerate().any(|(i, u)| *u as usize != i) {
            return None;
        }
        let stake: Vec<u64> = uids
            .iter()
            .map(|u| self.stake_weight(&s.keys[u], netuid))
            .collect();
        if !self.has_weights(netuid) {
            // Only the permits (`is_topk_nonzero` of the normalized stake).
            let top = {
                let mut order: Vec<usize> = (0..n).filter(|i| stake[*i] > 0).collect();
                order.sort_by(|a, b| stake[*b].cmp(&stake[*a]).then(a.cmp(b)));
                order.truncate(WEIGHT_PARAMS.max_allowed_validators as usize);
                order
            };
            for (i, u) in uids.iter().enumerate() {
                self.validator_permits
                    .insert((netuid, *u), top.contains(&i));
            }
            return None;
        }
        let inp = YumaInput {
            block: self.block,
            tempo: s.tempo as u64,
            stake,
            last_update: uids.iter().map(|u| self.last_update(netuid, *u)).collect(),
            registered_at: uids
                .iter()
                .map(|u| s.registered_at.get(u).copied().unwrap_or(0))
                .collect(),
            permits: uids
                .iter()
                .map(|u| self.validator_permit(netuid, *u))
                .collect(),
            weights: uids.iter().map(|u| self.weights_of(netuid, *u)).collect(),
            bonds: uids
                .iter()
                .map(|u| self.bonds.get(&(netuid, *u)).cloned().unwrap_or_default())
                .collect(),
            params: WEIGHT_PARAMS,
        };
        let out = yuma::run(&inp);
        for (i, u) in uids.iter().enumerate() {
            self.validator_permits.insert((netuid, *u), out.permits[i]);
            if out.bonds[i].is_empty() {
                self.bonds.remove(&(netuid, *u));
            } else {
                self.bonds.insert((netuid, *u), out.bonds[i].clone());
            }
        }
        self.yuma.insert(netuid, out.clone());
        Some(out)
    }

    /// `LastUpdate[netuid][uid]`: the block of its last `set_weights`, else its
    /// registration block (`append_neuron`).
    pub fn last_update(&self, netuid: NetUid, uid: u16) -> u64 {
        if let Some(b) = self.last_update.get(&(netuid, uid)) {
            return *b;
        }
        self.subnets
            .get(&netuid)
            .and_then(|s| s.registered_at.get(&uid).copied())
            .unwrap_or(0)
    }

    /// `Weights[netuid][uid]`: (dest uid, max-upscaled weight) as set.
    pub fn weights_of(&self, netuid: NetUid, uid: u16) -> Vec<(u16, u16)> {
        self.weights
            .get(&(netuid, uid))
            .cloned()
            .unwrap_or_default()
    }

    /// Whether any neuron of the subnet has set weights (the epoch then runs Yuma).
    pub fn has_weights(&self, netuid: NetUid) -> bool {
        self.weights
            .range((netuid, 0)..=(netuid, u16::MAX))
            .any(|(_, w)| !w.is_empty())
    }

    /// `ValidatorPermit[netuid][uid]` as the last epoch wrote it.
    pub fn validator_permit(&self, netuid: NetUid, uid: u16) -> bool {
        self.validator_permits
            .get(&(netuid, uid))
            .copied()
            .unwrap_or(false)
    }

    /// The hotkey's stake weight on the subnet: its `TotalHotkeyAlpha` (root stake, the
    /// other term of `get_stake_weights_for_hotkey_on_subnet`, is not modelled).
    pub fn stake_weight(&self, hotkey: &AccountId, netuid: NetUid) -> u64 {
        self.pools
            .get(&(*hotkey, netuid))
            .map(|p| p.total_alpha)
            .unwrap_or(0)
    }

    /// Clears a uid's weights state when a registration replaces it (`clear_neuron`).
    pub(super) fn clear_weights_of(&mut self, netuid: NetUid, uid: u16) {
        self.weights.remove(&(netuid, uid));
        self.bonds.remove(&(netuid, uid));
        self.last_update.remove(&(netuid, uid));
        self.validator_permits.remove(&(netuid, uid));
        // The weights others set on the replaced uid are zeroed.
        let rows: Vec<(NetUid, u16)> = self
            .weights
            .range((netuid, 0)..=(netuid, u16::MAX))
            .map(|(k, _)| *k)
            .collect();
        for k in rows {
            if let Some(w) = self.weights.get_mut(&k) {
                for e in w.iter_mut().filter(|e| e.0 == uid) {
                    e.1 = 0;
                }
            }
        }
    }

    /// `do_set_weights(origin = hotkey, netuid, uids, values, version_key)`.
    pub(super) fn set_weights(
        &mut self,
        ex: &mut Exec,
        hotkey: AccountId,
        netuid: NetUid,
        uids: &[u16],
        values: &[u16],
        version_key: u64,
    ) -> Result<()> {
        let p = WEIGHT_PARAMS;
        if netuid == 0 {
            return refuse("CanNotSetRootNetworkWeights", "netuid 0 is root".into());
        }
        if uids.len() != values.len() {
            return refuse(
                "WeightVecNotEqualSize",
                format!("{} uids, {} weights", uids.len(), values.len()),
            );
        }
        let Some(s) = self.subnets.get(&netuid) else {
            return refuse(
                "SubNetworkDoesNotExist",
                format!("netuid {netuid} does not exist"),
            );
        };
        let n = s.keys.len();
        if uids.len() > n {
            return refuse(
                "UidsLengthExceedUidsInSubNet",
                format!("{} uids on a subnet of {n}", uids.len()),
            );
        }
        let Some(uid) = s.uids.get(&hotkey).copied() else {
            return refuse(
                "HotKeyNotRegisteredInSubNet",
                format!("the signer has no uid on netuid {netuid}"),
            );
        };
        let stake = self.stake_weight(&hotkey, netuid);
        if stake < p.stake_threshold {
            return refuse(
                "NotEnoughStakeToSetWeights",
                format!("stake {stake} below StakeThreshold {}", p.stake_threshold),
            );
        }
        if !(p.weights_version_key == 0 || version_key >= p.weights_version_key) {
            return refuse(
                "IncorrectWeightVersionKey",
                format!("version_key {version_key} < {}", p.weights_version_key),
            );
        }
        if p.commit_reveal {
            return refuse(
                "CommitRevealEnabled",
                "commit-reveal is on: use commit_weights".into(),
            );
        }
        let block = self.block;
        let last = self.last_update(netuid, uid);
        if last != 0 && block.saturating_sub(last) < p.weights_set_rate_limit {
            return refuse(
                "SettingWeightsTooFast",
                format!(
                    "last set at block {last}, WeightsSetRateLimit {} (now {block})",
                    p.weights_set_rate_limit
                ),
            );
        }
        let self_weight = values.len() == 1 && uids.first() == Some(&uid);
        if !self_weight && !self.validator_permit(netuid, uid) {
            return refuse(
                "NeuronNoValidatorPermit",
                format!("uid {uid} holds no validator permit (the last epoch gave none)"),
            );
        }
        let mut seen = std::collections::BTreeSet::new();
        if !uids.iter().all(|u| seen.insert(*u)) {
            return refuse("DuplicateUids", format!("{uids:?}"));
        }
        if let Some(bad) = uids.iter().find(|u| !s.keys.contains_key(u)) {
            return refuse(
                "UidVecContainInvalidOne",
                format!("uid {bad} does not exist on netuid {netuid}"),
            );
        }
        let min_allowed = (p.min_allowed_weights as usize).min(n);
        if !self_weight && values.len() < min_allowed {
            return refuse(
                "WeightVecLengthIsLow",
                format!("{} weights, MinAllowedWeights {min_allowed}", values.len()),
            );
        }
        let up = max_upscale(values);
        if !self_weight
            && p.max_weights_limit != u16::MAX
            && up.iter().any(|w| *w > p.max_weights_limit)
        {
            return refuse(
                "MaxWeightExceeded",
                format!("a weight above MaxWeightsLimit {}", p.max_weights_limit),
            );
        }
        self.weights
            .insert((netuid, uid), uids.iter().copied().zip(up).collect());
        self.last_update.insert((netuid, uid), block);
        ex.emit(ChainEvent::WeightsSet { netuid, uid });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::neuron_scores::{hyper_storage, number, storage_default};

    #[test]
    fn max_upscale_follows_the_runtime() {
        assert_eq!(max_upscale(&[1, 2, 4]), vec![16_384, 32_768, 65_535]);
        assert_eq!(max_upscale(&[0, 0]), vec![0, 0]);
        assert_eq!(max_upscale(&[3]), vec![65_535]);
        assert_eq!(max_upscale(&[1, 65_535]), vec![1, 65_535]);
    }

    #[test]
    fn metadata_defaults_match() {
        let md = crate::metadata::ChainMetadata::finney().unwrap();
        let c = crate::server::build_chain(&crate::server::DevnetConfig::new(
            crate::Scenario::builtin("tiny").unwrap(),
        ))
        .unwrap();
        let st = c.head_state();
        let s = st.subnets.get(&1).unwrap();
        let num = |e: &str| number(&hyper_storage(&md, s, e).unwrap()).unwrap();
        let p = WEIGHT_PARAMS;
        assert_eq!(num("MinAllowedWeights"), p.min_allowed_weights as u128);
        assert_eq!(num("MaxWeightsLimit"), p.max_weights_limit as u128);
        assert_eq!(num("WeightsSetRateLimit"), p.weights_set_rate_limit as u128);
        assert_eq!(num("WeightsVersionKey"), p.weights_version_key as u128);
        assert_eq!(num("CommitRevealWeightsEnabled"), p.commit_reveal as u128);
        assert_eq!(
            num("MaxAllowedValidators"),
            p.max_allowed_validators as u128
        );
        assert_eq!(num("Kappa"), p.kappa as u128);
        assert_eq!(num("BondsMovingAverage"), p.bonds_moving_average as u128);
        assert_eq!(num("ActivityCutoff"), p.activity_cutoff as u128);
        let d = |e: &str| number(&storage_default(&md, e).unwrap()).unwrap();
        assert_eq!(d("BondsPenalty"), p.bonds_penalty as u128);
        // The original Yuma (`crate::model::yuma`): Yuma3 and liquid alpha off.
        assert_eq!(d("Yuma3On"), 0);
        assert_eq!(d("LiquidAlphaOn"), 0);
        let t = number(&storage_default(&md, "StakeThreshold").unwrap()).unwrap();
        assert_eq!(t, p.stake_threshold as u128);
    }
}
