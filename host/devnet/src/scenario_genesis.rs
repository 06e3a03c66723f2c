//! Building a scenario: the genesis chain state (subnets, endowed coldkeys and their
//! hotkeys, neurons and neuron groups with their scores, self-stake and genesis
//! positions, legacy ones included) and the `ScenarioDriver` of later blocks.

use std::collections::{BTreeMap, BTreeSet};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::Result;
use crate::model::{Action, ChainState, Subnet, UNIT, named_account};
use crate::scenario_driver::{Behaviour, ScenarioDriver};
use crate::scenario_spec::{NeuronSpec, Scenario, bad};

impl Scenario {
    /// The genesis state and the driver of later blocks, for `seed` (None = the file's).
    pub fn build(
        &self,
        block_time_ms: u64,
        seed: Option<u64>,
    ) -> Result<(ChainState, ScenarioDriver)> {
        let seed = seed.unwrap_or(self.seed);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let _ = block_time_ms;
        let mut st = ChainState::genesis(self.genesis_timestamp_ms, 12_000);
        st.max_epochs_per_block = self.max_epochs_per_block;
        st.dynamic_tempo_from = self.dynamic_tempo_from;
        for s in &self.subnets {
            st.add_subnet(Subnet {
                netuid: s.netuid,
                tempo: s.tempo,
                owner_coldkey: named_account(&s.owner),
                owner_hotkey: named_account(&s.owner_hotkey),
                max_uids: s.max_uids,
                emission_per_block: s.emission_per_block,
                owner_cut_bps: s.owner_cut_bps,
                miner_share_bps: s.miner_share_bps,
                price_rao: s.price_rao,
                stake_fee_bps: s.stake_fee_bps,
                pending_server: 0,
                pending_validator: 0,
                pending_owner_cut: 0,
                last_epoch_block: 0,
                pending_epoch_at: 0,
                epoch_index: 0,
                blocks_since_last_step: 0,
                last_mechanism_step_block: 0,
                keys: Default::default(),
                uids: Default::default(),
                incentive: Default::default(),
                mechanisms: s.mechanisms,
                mechanism_split: crate::scenario_mech::split_parts(&s.mechanism_split_bps),
                mechanism_incentive: Default::default(),
                dividends: Default::default(),
                registered_at: Default::default(),
                skip_next_epochs: 0,
                emission: Default::default(),
                pending_owner_change: None,
                alpha_dividends: imbl::OrdMap::new(),
            })?;
        }
        for (i, c) in self.coldkeys.iter().enumerate() {
            let ck = named_account(&c.name);
            st.endow(ck, c.balance_tao.saturating_mul(UNIT));
            for h in &c.hotkeys {
                st.associate(named_account(h), ck)
                    .map_err(|e| bad(format!("coldkeys[{i}].hotkeys"), e))?;
            }
        }
        let mut neurons = self.neurons.clone();
        for g in &self.neuron_groups {
            for i in 0..g.count {
                let incentive = if g.incentive == 0 {
                    rng.random_range(1..=100)
                } else {
                    g.incentive
                };
                let ck = format!("{}-ck-{}", g.prefix, i % g.coldkeys);
                if i < g.coldkeys && g.balance_tao > 0 {
                    st.endow(named_account(&ck), g.balance_tao * UNIT);
                }
                neurons.push(NeuronSpec {
                    netuid: g.netuid,
                    hotkey: format!("{}-{}", g.prefix, i),
                    coldkey: ck,
                    incentive,
                    dividends: g.dividends,
                    self_stake: g.self_stake,
                    incentive_by_mechanism: vec![],
                });
            }
        }
        for (i, n) in neurons.iter().enumerate() {
            let (hk, ck) = (named_account(&n.hotkey), named_account(&n.coldkey));
            st.associate(hk, ck)
                .map_err(|e| bad(format!("neurons[{i}].coldkey"), e))?;
            let s = st.subnet_mut(n.netuid)?;
            if s.uids.contains_key(&hk) {
                return Err(bad(
                    format!("neurons[{i}].hotkey"),
                    format!("{} is registered twice on {}", n.hotkey, n.netuid),
                ));
            }
            let uid = s.keys.len() as u16;
            s.keys.insert(uid, hk);
            s.uids.insert(hk, uid);
            s.registered_at.insert(uid, 0);
            match n.incentive_by_mechanism.split_first() {
                Some((first, rest)) => {
                    s.incentive.insert(uid, *first);
                    for (m, w) in rest.iter().enumerate() {
                        s.mechanism_incentive.insert((m as u8 + 1, uid), *w);
                    }
                }
                None => {
                    s.incentive.insert(uid, n.incentive);
                }
            }
            s.dividends.insert(uid, n.dividends);
            if n.self_stake > 0 {
                let pool = st.pools.entry((hk, n.netuid)).or_default();
                pool.update_value_for_one(&ck, (n.self_stake * UNIT) as i64);
                let l = st.staking_hotkeys.entry(ck).or_default();
                if !l.contains(&hk) {
                    l.push_back(hk);
                }
            }
        }
        for (i, s) in self.stakes.iter().enumerate() {
            let (hk, ck) = (named_account(&s.hotkey), named_account(&s.coldkey));
            if !st.owner.contains_key(&hk) {
                return Err(bad(
                    format!("stakes[{i}].hotkey"),
                    format!(
                        "{} has no owner (list it under a coldkey or neuron)",
                        s.hotkey
                    ),
                ));
            }
            if s.legacy {
                st.seed_legacy_position(hk, ck, s.netuid, s.alpha * UNIT);
            } else {
                let pool = st.pools.entry((hk, s.netuid)).or_default();
                pool.update_value_for_one(&ck, (s.alpha * UNIT) as i64);
                let l = st.staking_hotkeys.entry(ck).or_default();
                if !l.contains(&hk) {
                    l.push_back(hk);
                }
            }
        }
        let mut scripted: BTreeMap<u64, Vec<(Option<u64>, Action)>> = BTreeMap::new();
        for a in &self.actions {
            scripted
                .entry(a.block)
                .or_default()
                .push((a.branch, a.action.clone()));
        }
        let mut behaviours = vec![];
        let all_cold: Vec<String> = self
            .coldkeys
            .iter()
            .map(|c| c.name.clone())
            .chain(neurons.iter().map(|n| n.coldkey.clone()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        for (i, b) in self.behaviours.iter().enumerate() {
            let mut members = vec![];
            for pat in &b.coldkeys {
                let m: Vec<&String> = match pat.strip_suffix('*') {
                    Some(p) => all_cold.iter().filter(|c| c.starts_with(p)).collect(),
                    None => all_cold.iter().filter(|c| *c == pat).collect(),
                };
                if m.is_empty() {
                    return Err(bad(
                        format!("behaviours[{i}].coldkeys"),
                        format!("{pat:?} matches no coldkey"),
                    ));
                }
                members.extend(m.into_iter().map(|c| named_account(c)));
            }
            behaviours.push(Behaviour {
                spec: b.clone(),
                members,
                targets: b.targets.iter().map(|t| named_account(t)).collect(),
            });
        }
        let reorgs = self
            .reorgs
            .iter()
            .map(|r| (r.after_block, r.depth))
            .collect();
        Ok((st, ScenarioDriver::new(seed, scripted, behaviours, reorgs)))
    }
}
