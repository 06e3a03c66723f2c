//! Block initialization: emission accrues to the subnets' pending pots every block, and
//! epochs run by the dynamic-tempo rule (or the legacy rule before the switch-over),
//! capped by `MaxEpochsPerBlock` (deferral) and skipped on inconsistent state; a run
//! pays the owner cut, miner incentive (or auto-stake) and validator dividends.

use std::collections::BTreeMap;

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
        // Emission accrues to the pending pots every block.
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
            }
            s.last_epoch_block = block;
            s.pending_epoch_at = 0;
            s.epoch_index += 1;
            ex.epochs.insert(netuid, s.epoch_index);
        }
        for (netuid, (server, validator, owner_cut)) in to_distribute {
            self.distribute(ex, netuid, server, validator, owner_cut);
            if let Some(s) = self.subnets.get_mut(&netuid) {
                s.last_mechanism_step_block = block;
            }
        }
    }

    fn distribute(
        &mut self,
        ex: &mut Exec,
        netuid: NetUid,
        server: u64,
        validator: u64,
        owner_cut: u64,
    ) {
        let Some(s) = self.subnets.get(&netuid).cloned() else {
            return;
        };
        // The owner's cut.
        if owner_cut > 0 {
            self.credit(
                ex,
                s.owner_hotkey,
                s.owner_coldkey,
                netuid,
                owner_cut,
                TruthKind::Emission,
            );
        }
        // Miner incentive, by uid.
        let n = s.keys.len();
        let weights: Vec<(u16, u64)> = s
            .keys
            .keys()
            .map(|u| (*u, s.incentive.get(u).copied().unwrap_or(0)))
            .collect();
        let paid = split(server, &weights);
        let mut by_uid = vec![0u64; n];
        for (uid, amount) in &paid {
            if let Some(slot) = by_uid.get_mut(*uid as usize) {
                *slot = *amount;
            }
        }
        ex.emit(ChainEvent::IncentiveAlphaEmittedToMiners {
            netuid,
            emissions: by_uid,
        });
        for (uid, incentive) in paid {
            if incentive == 0 {
                continue;
            }
            let Some(hotkey) = s.keys.get(&uid).copied() else {
                continue;
            };
            let Some(owner) = self.owner.get(&hotkey).copied() else {
                continue;
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
            .map(|u| (*u, s.dividends.get(u).copied().unwrap_or(0)))
            .collect();
        let mut divs: BTreeMap<AccountId, u64> = BTreeMap::new();
        for (uid, d) in split(validator, &vweights) {
            if let Some(h) = s.keys.get(&uid) {
                *divs.entry(*h).or_default() += d;
            }
        }
        if let Some(sm) = self.subnets.get_mut(&netuid) {
            sm.alpha_dividends = divs
                .iter()
                .filter(|(_, d)| **d > 0)
                .map(|(h, d)| (*h, *d))
                .collect();
        }
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
            let owner = self.owner.get(&hotkey).copied().unwrap_or(hotkey);
            self.credit(ex, hotkey, owner, netuid, take_alpha, TruthKind::Emission);
            ex.touch(self, hotkey, netuid);
            self.pools
                .entry((hotkey, netuid))
                .or_default()
                .update_value_for_all((d - take_alpha) as i64);
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
}
