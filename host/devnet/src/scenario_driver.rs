//! The scenario's block driver: each block's scripted actions (by block and reorg
//! branch), the seeded random behaviours of coldkeys (deterministic per seed, block and
//! branch), and the scripted reorgs (`crate::chain::BlockDriver`).

use std::collections::{BTreeMap, BTreeSet};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::chain::BlockDriver;
use crate::hashing::blake2_256;
use crate::model::{AccountId, Action, ChainState, NetUid, UNIT};
use crate::scenario_spec::{BehaviourKind, BehaviourSpec};

/// A behaviour with its coldkey patterns and targets resolved to accounts.
pub(crate) struct Behaviour {
    pub(crate) spec: BehaviourSpec,
    pub(crate) members: Vec<AccountId>,
    pub(crate) targets: Vec<AccountId>,
}

/// Supplies each block's scripted and random actions, deterministically from the seed.
pub struct ScenarioDriver {
    seed: u64,
    scripted: BTreeMap<u64, Vec<(Option<u64>, Action)>>,
    behaviours: Vec<Behaviour>,
    reorgs: BTreeMap<u64, u64>,
    done_reorgs: BTreeSet<u64>,
}

fn frac(x: u64, bps: u32) -> u64 {
    ((x as u128) * bps as u128 / 10_000) as u64
}

impl ScenarioDriver {
    /// A driver of `scripted` actions (block -> (only on this branch, action)), resolved
    /// `behaviours` and `reorgs` (after block -> depth), random from `seed`.
    pub(crate) fn new(
        seed: u64,
        scripted: BTreeMap<u64, Vec<(Option<u64>, Action)>>,
        behaviours: Vec<Behaviour>,
        reorgs: BTreeMap<u64, u64>,
    ) -> Self {
        Self {
            seed,
            scripted,
            behaviours,
            reorgs,
            done_reorgs: BTreeSet::new(),
        }
    }

    fn random_actions(&self, st: &ChainState, number: u64, branch: u64, out: &mut Vec<Action>) {
        if self.behaviours.is_empty() {
            return;
        }
        let mut seed = [0u8; 32];
        seed.copy_from_slice(&blake2_256(
            &[
                self.seed.to_le_bytes(),
                number.to_le_bytes(),
                branch.to_le_bytes(),
            ]
            .concat(),
        ));
        let mut rng = ChaCha8Rng::from_seed(seed);
        let nets: Vec<NetUid> = st.subnets.keys().copied().collect();
        for b in &self.behaviours {
            for ck in &b.members {
                if !rng.random_bool(b.spec.probability) {
                    continue;
                }
                let held = st.stakes_of(ck);
                let pick = (!held.is_empty()).then(|| held[rng.random_range(0..held.len())]);
                let spec = &b.spec;
                let a = match (spec.kind, pick) {
                    (BehaviourKind::Holder, _) => None,
                    (BehaviourKind::Staker, _) => {
                        let owned = st.owned_hotkeys.get(ck).cloned().unwrap_or_default();
                        let hk = if owned.is_empty() {
                            let n = nets[rng.random_range(0..nets.len())];
                            let s = &st.subnets[&n];
                            s.keys
                                .get(&rng.random_range(0..s.keys.len().max(1) as u16))
                                .map(|h| (*h, n))
                        } else {
                            let h = owned[rng.random_range(0..owned.len())];
                            nets.iter()
                                .find(|n| st.subnets[n].uids.contains_key(&h))
                                .map(|n| (h, *n))
                        };
                        hk.map(|(hotkey, netuid)| Action::AddStake {
                            coldkey: *ck,
                            hotkey,
                            netuid,
                            tao: spec.tao * UNIT,
                        })
                    }
                    (_, None) => None,
                    (BehaviourKind::PartialSeller, Some((hotkey, netuid, a))) => {
                        let alpha = frac(a, spec.fraction_bps);
                        (alpha > 0).then_some(Action::RemoveStake {
                            coldkey: *ck,
                            hotkey,
                            netuid,
                            alpha,
                            alpha_fee: 0,
                        })
                    }
                    (BehaviourKind::FullSeller, Some((hotkey, netuid, a))) => {
                        Some(Action::RemoveStake {
                            coldkey: *ck,
                            hotkey,
                            netuid,
                            alpha: a,
                            alpha_fee: 0,
                        })
                    }
                    (BehaviourKind::FeePayer, Some((hotkey, netuid, a))) => {
                        let alpha = frac(a, spec.fraction_bps);
                        (alpha > 0 && a > alpha + spec.alpha_fee).then_some(Action::RemoveStake {
                            coldkey: *ck,
                            hotkey,
                            netuid,
                            alpha,
                            alpha_fee: spec.alpha_fee,
                        })
                    }
                    (BehaviourKind::Mover, Some((hotkey, netuid, a))) => {
                        let owned: Vec<AccountId> = st
                            .owned_hotkeys
                            .get(ck)
                            .map(|v| v.iter().copied().filter(|h| *h != hotkey).collect())
                            .unwrap_or_default();
                        (!owned.is_empty()).then(|| Action::MoveStake {
                            coldkey: *ck,
                            origin_hotkey: hotkey,
                            dest_hotkey: owned[rng.random_range(0..owned.len())],
                            origin_netuid: netuid,
                            dest_netuid: netuid,
                            alpha: frac(a, spec.fraction_bps).max(1),
                        })
                    }
                    (BehaviourKind::Transferrer, Some((hotkey, netuid, a))) => {
                        let dest = b.targets[rng.random_range(0..b.targets.len())];
                        Some(Action::TransferStake {
                            coldkey: *ck,
                            dest_coldkey: dest,
                            hotkey,
                            origin_netuid: netuid,
                            dest_netuid: netuid,
                            alpha: frac(a, spec.fraction_bps).max(1),
                        })
                    }
                    (BehaviourKind::Swapper, Some((hotkey, netuid, a))) => {
                        let others: Vec<NetUid> =
                            nets.iter().copied().filter(|n| *n != netuid).collect();
                        (!others.is_empty()).then(|| Action::SwapStake {
                            coldkey: *ck,
                            hotkey,
                            origin_netuid: netuid,
                            dest_netuid: others[rng.random_range(0..others.len())],
                            alpha: frac(a, spec.fraction_bps).max(1),
                        })
                    }
                    (BehaviourKind::RootClaimer, Some((hotkey, netuid, a))) => {
                        Some(Action::RootClaim {
                            coldkey: *ck,
                            hotkey,
                            netuid,
                            alpha: frac(a, 10).max(1),
                            auto: false,
                        })
                    }
                    (BehaviourKind::Recycler, Some((hotkey, netuid, a))) => {
                        let alpha = frac(a, spec.fraction_bps);
                        (alpha > 0).then_some(Action::RecycleAlpha {
                            coldkey: *ck,
                            hotkey,
                            netuid,
                            alpha,
                        })
                    }
                    (BehaviourKind::Burner, Some((hotkey, netuid, a))) => {
                        let alpha = frac(a, spec.fraction_bps);
                        (alpha > 0).then_some(Action::BurnAlpha {
                            coldkey: *ck,
                            hotkey,
                            netuid,
                            alpha,
                        })
                    }
                };
                out.extend(a);
            }
        }
    }
}

impl BlockDriver for ScenarioDriver {
    fn actions(&mut self, parent: &ChainState, number: u64, branch: u64) -> Vec<Action> {
        let mut out = vec![];
        for (only, a) in self.scripted.get(&number).into_iter().flatten() {
            if only.is_none_or(|b| b == branch) {
                out.push(a.clone());
            }
        }
        self.random_actions(parent, number, branch, &mut out);
        out
    }

    fn reorg_after(&mut self, number: u64) -> Option<u64> {
        let d = *self.reorgs.get(&number)?;
        if self.done_reorgs.insert(number) {
            Some(d)
        } else {
            None
        }
    }
}
