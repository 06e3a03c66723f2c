//! Block initialization: emission accrues to the subnets' pending pots every block, and
//! epochs run by the dynamic-tempo rule (or the legacy rule before the switch-over),
//! capped by `MaxEpochsPerBlock` (deferral) and skipped on inconsistent state; a run
//! pays the owner cut, miner incentive (or auto-stake) and validator dividends.

use std::collections::{BTreeMap, BTreeSet};

use super::{AccountId, ChainEvent, ChainState, DEFAULT_TAKE, Exec, MAX_TEMPO, NetUid, TruthKind};

/// Splits `total` by integer weights, flooring (dust is not paid, as with fixed point).
pub(crate) fn split(total: u64, weights: &[(u16, u64)]) -> Vec<(u16, u64)> {
    let sum: u128 = weights.iter().map(|(_, w)| *w as u128).sum();
    if sum == 0 {
        return vec![];
    }
    weights
        .iter()
        .map(|(u, w)| (*u, ((total as u128) * (*w as u128) / sum) as u64))
        .collect()
}

/// `GLOBAL_MAX_SUBNET_COUNT`: mechanism `m` of subnet `n` is stored (and reported in
/// events) at `n + m * 4096` (subtensor v3.4.9-424 `pallets/subtensor/src/subnets/
/// mechanism.rs` `get_mechanism_storage_index`).
pub const GLOBAL_MAX_SUBNET_COUNT: u16 = 4096;

/// `get_mechanism_storage_index(netuid, mechid)`.
pub fn mechanism_storage_index(netuid: NetUid, mechid: u8) -> u16 {
    (mechid as u16)
        .saturating_mul(GLOBAL_MAX_SUBNET_COUNT)
        .saturating_add(netuid)
}

/// `split_emissions` (subtensor v3.4.9-424 `pallets/subtensor/src/subnets/mechanism.rs`):
/// `alpha * part / u16::MAX` per mechanism by `MechanismEmissionSplit`, or an even split
/// when unset; padded or cut to the mechanism count; the rounding loss goes to mechanism 0.
pub(crate) fn split_emissions(alpha: u64, count: u8, split: &[u16]) -> Vec<u64> {
    let count = count.max(1) as usize;
    let mut out: Vec<u64> = if split.is_empty() {
        vec![alpha / count as u64; count]
    } else {
        split
            .iter()
            .map(|p| ((alpha as u128) * (*p as u128) / (u16::MAX as u128)) as u64)
            .collect()
    };
    out.resize(count, 0);
    let lost = alpha.saturating_sub(out.iter().sum());
    out[0] = out[0].saturating_add(lost);
    out
}

impl ChainState {
    fn should_run_epoch(&self, netuid: NetUid, block: u64) -> bool {
        let Some(s) = self.subnets.get(&netuid) else {
            return false;
        };
        if s.tempo == 0 {
            return false;
        }
        if block < self.dynamic_tempo_from {
            // Spec < 423: a fixed period of tempo + 1 blocks, offset by netuid.
            return (block + netuid as u64 + 1).is_multiple_of(s.tempo as u64 + 1);
        }
        if s.pending_epoch_at > 0 && block >= s.pending_epoch_at {
            return true;
        }
        if s.blocks_since_last_step > MAX_TEMPO {
            return true;
        }
        block.saturating_sub(s.last_epoch_block) >= s.tempo as u64
    }

    pub(super) fn on_initialize(&mut self, ex: &mut Exec) {
        let block = self.block;
        ex.block = block;
        let netuids: Vec<NetUid> = self.subnets.keys().copied().collect();
        // Emission accrues to the pending pots every block, before any epoch drains them
        // (subtensor v3.4.9-424 `pallets/subtensor/src/coinbase/run_coinbase.rs`
        // `run_coinbase`: step 4 `emit_to_subnets`, then step 5 `drain_pending`). So the
        // owner cut paid at an epoch block `b` is `PendingOwnerCut` as of `b - 1` plus this
        // block's cut, `floor(emission * cut)` <= `SubnetAlphaOutEmission` of `b`
        // (`crate::storage`).
        for netuid in &netuids {
            if let Some(s) = self.subnets.get_mut(netuid) {
                let e = s.emission_per_block;
                let cut = ((e as u128) * s.owner_cut_bps as u128 / 10_000) as u64;
                let rest = e - cut;
                let server = ((rest as u128) * s.miner_share_bps as u128 / 10_000) as u64;
                s.pending_owner_cut += cut;
                s.pending_server += server;
                s.pending_validator += rest - server;
            }
        }
        let legacy = block < self.dynamic_tempo_from;
        let cap = self.max_epochs_per_block as u32;
        let mut ran = 0u32;
        let mut to_distribute = vec![];
        for netuid in netuids {
            if let Some(s) = self.subnets.get_mut(&netuid) {
                s.blocks_since_last_step += 1;
            }
            if !self.should_run_epoch(netuid, block) {
                continue;
            }
            if !legacy && ran >= cap {
                if let Some(s) = self.subnets.get_mut(&netuid) {
                    s.pending_epoch_at = block + 1;
                }
                ex.emit(ChainEvent::EpochDeferred {
                    netuid,
                    from_block: block,
                    to_block: block + 1,
                });
                continue;
            }
            let Some(s) = self.subnets.get_mut(&netuid) else {
                continue;
            };
            let mut drained = false;
            if s.skip_next_epochs > 0 {
                s.skip_next_epochs -= 1;
                ex.emit(ChainEvent::EpochSkipped { netuid, block });
            } else {
                s.blocks_since_last_step = 0;
                let pots = (s.pending_server, s.pending_validator, s.pending_owner_cut);
                s.pending_server = 0;
                s.pending_validator = 0;
                s.pending_owner_cut = 0;
                to_distribute.push((netuid, pots));
                ran += 1;
                drained = true;
            }
            s.last_epoch_block = block;
            s.pending_epoch_at = 0;
            s.epoch_index += 1;
            ex.epochs.insert(netuid, s.epoch_index);
            // Spec 459: right after the drain, before any epoch runs
            // (`drain_pending_subnet_emissions`, `crate::model::neurons`).
            if drained && self.rules.subnet_owner_change {
                self.change_owner_at_drain(ex, netuid);
            }
        }
        for (netuid, (server, validator, owner_cut)) in to_distribute {
            self.distribute(ex, netuid, server, validator, owner_cut);
            if let Some(s) = self.subnets.get_mut(&netuid) {
                s.last_mechanism_step_block = block;
            }
        }
    }

    /// `get_owner_hotkeys`: the subnet owner coldkey's hotkeys that hold a uid on the
    /// subnet, and the owner hotkey if it holds one (subtensor v3.4.9-424
    /// `pallets/subtensor/src/coinbase/run_coinbase.rs`).
    fn owner_hotkeys(&self, netuid: NetUid) -> BTreeSet<AccountId> {
        let Some(s) = self.subnets.get(&netuid) else {
            return BTreeSet::new();
        };
        let mut out: BTreeSet<AccountId> = self
            .owned_hotkeys
            .get(&s.owner_coldkey)
            .map(|v| {
                v.iter()
                    .filter(|h| s.uids.contains_key(*h))
                    .copied()
                    .collect()
            })
            .unwrap_or_default();
        if s.uids.contains_key(&s.owner_hotkey) {
            out.insert(s.owner_hotkey);
        }
        out
    }

    /// The epoch's payout, in the order of subtensor v3.4.9-424
    /// `pallets/subtensor/src/coinbase/run_coinbase.rs` `distribute_emission`: the epoch
    /// runs once per mechanism (`subnets/mechanism.rs` `epoch_with_mechanisms`, each
    /// emitting `IncentiveAlphaEmittedToMiners` from `epoch/run_epoch.rs`
    /// `persist_mechanism_epoch_terms` with `netuid = get_mechanism_storage_index`), then
    /// `distribute_dividends_and_incentives` pays the owner cut (no event), the miners'
    /// incentive summed over mechanisms per hotkey in hotkey order, and the dividends.
    fn distribute(
        &mut self,
        ex: &mut Exec,
        netuid: NetUid,
        server: u64,
        validator: u64,
        owner_cut: u64,
    ) {
        // Yuma (`crate::model::yuma`) where some validator has set weights: its
        // incentive replaces the configured weights of mechanism 0 and its dividends the
        // configured dividend weights; elsewhere the scenario's scores pay as before.
        let yuma = self.epoch_yuma(netuid);
        let Some(s) = self.subnets.get(&netuid).cloned() else {
            return;
        };
        let uid_index: Vec<u16> = s.keys.keys().copied().collect();
        let yuma_of = |v: &[u64], uid: u16| -> u64 {
            uid_index
                .iter()
                .position(|u| *u == uid)
                .and_then(|i| v.get(i).copied())
                .unwrap_or(0)
        };
        // Miner incentive, per mechanism: the server pot split by `split_emissions`, then
        // by the mechanism's incentive weights; one event per mechanism, by uid.
        let n = s.keys.len();
        // `Emission` by uid (`epoch/run_epoch.rs` persists server + validator emission).
        let mut emission: imbl::OrdMap<u16, u64> = s.keys.keys().map(|u| (*u, 0u64)).collect();
        let mut incentives: BTreeMap<AccountId, u64> = BTreeMap::new();
        let mut incentive_sum = 0u64;
        for (mechid, pot) in split_emissions(server, s.mechanisms, &s.mechanism_split)
            .into_iter()
            .enumerate()
        {
            let mechid = mechid as u8;
            let weights: Vec<(u16, u64)> = s
                .keys
                .keys()
                .map(|u| match (&yuma, mechid) {
                    (Some(y), 0) => (*u, yuma_of(&y.incentive_share, *u)),
                    _ => (*u, s.incentive_weight(mechid, *u)),
                })
                .collect();
            let paid = split(pot, &weights);
            let mut by_uid = vec![0u64; n];
            for (uid, amount) in &paid {
                if let Some(slot) = by_uid.get_mut(*uid as usize) {
                    *slot = *amount;
                }
            }
            ex.emit(ChainEvent::IncentiveAlphaEmittedToMiners {
                netuid: mechanism_storage_index(netuid, mechid),
                emissions: by_uid,
            });
            for (uid, amount) in paid {
                incentive_sum = incentive_sum.saturating_add(amount);
                *emission.entry(uid).or_default() += amount;
                if let Some(h) = s.keys.get(&uid) {
                    *incentives.entry(*h).or_default() += amount;
                }
            }
        }
        // Every neuron's hotkey is in the epoch output, with zero incentive or not.
        for h in s.keys.values() {
            incentives.entry(*h).or_default();
        }
        // "If the incentive is 0, then Validators get 100% of the alpha."
        let validator = if incentive_sum == 0 {
            validator.saturating_add(server)
        } else {
            validator
        };
        // The owner's cut: `increase_stake_for_hotkey_and_coldkey_on_subnet`, no event.
        self.credit(
            ex,
            s.owner_hotkey,
            s.owner_coldkey,
            netuid,
            owner_cut,
            TruthKind::Emission,
        );
        // Incentive to the owner coldkey's own miners is withheld (burned or recycled,
        // no event, no position change) though the event above lists it.
        let owner_hotkeys = self.owner_hotkeys(netuid);
        for (hotkey, incentive) in incentives {
            if owner_hotkeys.contains(&hotkey) {
                continue;
            }
            let Some(owner) = self.owner.get(&hotkey).copied() else {
                continue;
            };
            // Spec 459 (RaoFoundation/subtensor `coinbase/run_coinbase/
            // dividend_distribution.rs` `distribute_dividends_and_incentives`): collateral
            // is settled first; below the miner's floor part of the incentive is captured
            // into the lock, staked to (hotkey, owner) itself with no event
            // (`crate::model::collateral`). Only the rest, `liquid`, goes on, and
            // `if liquid.is_zero() { continue; }`: no `AutoStakeAdded` when all is
            // captured (nor, from 459, for a zero incentive).
            let incentive = if self.rules.miner_collateral {
                let captured =
                    self.settle_collateral(ex, netuid, hotkey, owner, incentive, incentive);
                let liquid = incentive - captured;
                if liquid == 0 {
                    continue;
                }
                liquid
            } else {
                incentive
            };
            let dest = self.auto_stake.get(&(owner, netuid)).copied();
            if let Some(destination) = dest {
                ex.emit(ChainEvent::AutoStakeAdded {
                    netuid,
                    destination,
                    hotkey,
                    owner,
                    incentive,
                });
            }
            self.credit(
                ex,
                dest.unwrap_or(hotkey),
                owner,
                netuid,
                incentive,
                TruthKind::Emission,
            );
        }
        // Validator dividends: the take to the owner, the rest grows the pool.
        let vweights: Vec<(u16, u64)> = s
            .keys
            .keys()
            .map(|u| match &yuma {
                Some(y) => (*u, yuma_of(&y.dividend_share, *u)),
                None => (*u, s.dividends.get(u).copied().unwrap_or(0)),
            })
            .collect();
        let mut divs: BTreeMap<AccountId, u64> = BTreeMap::new();
        for (uid, d) in split(validator, &vweights) {
            *emission.entry(uid).or_default() += d;
            if let Some(h) = s.keys.get(&uid) {
                *divs.entry(*h).or_default() += d;
            }
        }
        // `AlphaDividendsPerSubnet` is cleared and then holds each hotkey's dividends
        // after its take (`distribute_dividends_and_incentives`).
        let mut recorded = imbl::OrdMap::new();
        for (hotkey, d) in divs {
            if d == 0 {
                continue;
            }
            let take = self
                .delegate_take
                .get(&hotkey)
                .copied()
                .unwrap_or(DEFAULT_TAKE);
            let take_alpha = ((d as u128) * take as u128 / u16::MAX as u128) as u64;
            if d > take_alpha {
                recorded.insert(hotkey, d - take_alpha);
            }
            let owner = self.owner.get(&hotkey).copied().unwrap_or(hotkey);
            // Spec 459: the whole dividend settles the hotkey's collateral, only the
            // take can be captured (`settle_miner_collateral(.., total, take)`); the
            // captured part is staked to (hotkey, owner) as the take would be.
            let captured = self.settle_collateral(ex, netuid, hotkey, owner, d, take_alpha);
            self.credit(
                ex,
                hotkey,
                owner,
                netuid,
                take_alpha - captured,
                TruthKind::Emission,
            );
            ex.touch(self, hotkey, netuid);
            self.pools
                .entry((hotkey, netuid))
                .or_default()
                .update_value_for_all((d - take_alpha) as i64);
        }
        if let Some(sm) = self.subnets.get_mut(&netuid) {
            sm.alpha_dividends = recorded;
            sm.emission = emission;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_floors_by_weight() {
        assert_eq!(split(100, &[(0, 1), (1, 2)]), vec![(0, 33), (1, 66)]);
        assert!(split(100, &[(0, 0)]).is_empty());
    }

    #[test]
    fn mechanism_split_follows_the_runtime() {
        assert_eq!(split_emissions(101, 1, &[]), vec![101]);
        assert_eq!(split_emissions(101, 2, &[]), vec![51, 50]);
        // 60/40 of u16::MAX: floors, the loss to mechanism 0.
        assert_eq!(split_emissions(1_000, 2, &[39_321, 26_214]), vec![600, 400]);
        assert_eq!(split_emissions(7, 2, &[39_321, 26_214]), vec![5, 2]);
        assert_eq!(split_emissions(10, 2, &[u16::MAX]), vec![10, 0]);
        assert_eq!(mechanism_storage_index(3, 1), 4099);
        assert_eq!(mechanism_storage_index(3, 0), 3);
    }
}
