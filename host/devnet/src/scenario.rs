//! Scenario files (TOML): subnets, coldkeys and their hotkeys, neurons and scores,
//! genesis positions (legacy `Alpha` entries included), scripted actions by block,
//! reorgs, and seeded random behaviours. Parsing rejects unknown fields; validation names
//! the field and what is wrong. Built-in scenarios are embedded in the crate.

use std::collections::{BTreeMap, BTreeSet};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;

use crate::chain::BlockDriver;
use crate::error::{DevnetError, Result};
use crate::hashing::blake2_256;
use crate::model::{AccountId, Action, ChainState, NetUid, Subnet, UNIT, named_account};

/// The built-in scenarios: (name, TOML).
pub const BUILTIN: &[(&str, &str)] = &[
    ("tiny", include_str!("../scenarios/tiny.toml")),
    ("attribution", include_str!("../scenarios/attribution.toml")),
    ("demo", include_str!("../scenarios/demo.toml")),
    ("edges", include_str!("../scenarios/edges.toml")),
    ("upgrades", include_str!("../scenarios/upgrades.toml")),
];

/// A scenario file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub seed: u64,
    /// Block time in ms; 0 = blocks only on demand.
    #[serde(default)]
    pub block_time_ms: Option<u64>,
    #[serde(default)]
    pub finality_depth: Option<u64>,
    /// Blocks of state kept; absent or 0 = archive.
    #[serde(default)]
    pub state_pruning: Option<u64>,
    #[serde(default = "two")]
    pub max_epochs_per_block: u16,
    /// Blocks before this use the legacy epoch rule.
    #[serde(default)]
    pub dynamic_tempo_from: u64,
    /// Genesis timestamp in ms.
    #[serde(default = "default_ts")]
    pub genesis_timestamp_ms: u64,
    #[serde(default)]
    pub subnets: Vec<SubnetSpec>,
    #[serde(default)]
    pub coldkeys: Vec<ColdkeySpec>,
    #[serde(default)]
    pub neurons: Vec<NeuronSpec>,
    #[serde(default)]
    pub neuron_groups: Vec<NeuronGroup>,
    #[serde(default)]
    pub stakes: Vec<StakeSpec>,
    #[serde(default)]
    pub actions: Vec<ScriptedAction>,
    #[serde(default)]
    pub reorgs: Vec<ReorgSpec>,
    #[serde(default)]
    pub behaviours: Vec<BehaviourSpec>,
    /// The runtime at genesis (`"393"`, `"424"`, `"459"`; default 424: `crate::runtime`).
    #[serde(default)]
    pub runtime: Option<crate::runtime::RuntimeName>,
    /// Scripted runtime upgrades, in block order.
    #[serde(default)]
    pub upgrades: Vec<crate::runtime::UpgradeSpec>,
}

fn two() -> u16 {
    2
}
fn default_ts() -> u64 {
    1_767_225_600_000
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubnetSpec {
    pub netuid: NetUid,
    #[serde(default = "tempo")]
    pub tempo: u16,
    pub owner: String,
    pub owner_hotkey: String,
    #[serde(default = "max_uids")]
    pub max_uids: u16,
    /// Alpha per block, in rao.
    #[serde(default = "emission")]
    pub emission_per_block: u64,
    #[serde(default = "cut")]
    pub owner_cut_bps: u32,
    #[serde(default = "half")]
    pub miner_share_bps: u32,
    /// Price of 1 alpha in rao.
    #[serde(default = "price")]
    pub price_rao: u64,
    #[serde(default)]
    pub stake_fee_bps: u32,
    /// `MechanismCountCurrent`: 1 or 2 (`MaxMechanismCount`); with 2, `max_uids` may be
    /// at most 128 (max_uids x mechanisms <= 256).
    #[serde(default = "one_mechanism")]
    pub mechanisms: u8,
    /// `MechanismEmissionSplit` in basis points per mechanism (summing to 10000, served as
    /// parts of 65535); empty = even split.
    #[serde(default)]
    pub mechanism_split_bps: Vec<u32>,
}
fn one_mechanism() -> u8 {
    1
}
fn tempo() -> u16 {
    360
}
fn max_uids() -> u16 {
    256
}
fn emission() -> u64 {
    UNIT
}
fn cut() -> u32 {
    1800
}
fn half() -> u32 {
    5000
}
fn price() -> u64 {
    UNIT
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColdkeySpec {
    pub name: String,
    /// Free TAO (whole TAO).
    #[serde(default)]
    pub balance_tao: u64,
    #[serde(default)]
    pub hotkeys: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeuronSpec {
    pub netuid: NetUid,
    pub hotkey: String,
    /// The hotkey's owner (a coldkey listed in `coldkeys`, or created).
    pub coldkey: String,
    #[serde(default)]
    pub incentive: u64,
    #[serde(default)]
    pub dividends: u64,
    /// Owner's own stake at genesis, in whole alpha.
    #[serde(default)]
    pub self_stake: u64,
    /// Incentive weight on each of the subnet's mechanisms (instead of `incentive`,
    /// which applies to every mechanism).
    #[serde(default)]
    pub incentive_by_mechanism: Vec<u64>,
}

/// Many neurons at once: hotkeys `{prefix}-{i}`, coldkeys `{prefix}-ck-{i % coldkeys}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeuronGroup {
    pub netuid: NetUid,
    pub prefix: String,
    pub count: u16,
    pub coldkeys: u16,
    /// Incentive weight of each (0 = random 1..=100 from the seed).
    #[serde(default)]
    pub incentive: u64,
    #[serde(default)]
    pub dividends: u64,
    #[serde(default)]
    pub self_stake: u64,
    /// Free TAO of each generated coldkey.
    #[serde(default)]
    pub balance_tao: u64,
    /// What these neurons' owners do, for people reading the chain (the demo's table
    /// groups miners by it); the chain ignores it.
    #[serde(default)]
    pub label: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StakeSpec {
    pub coldkey: String,
    pub hotkey: String,
    pub netuid: NetUid,
    /// Whole alpha.
    pub alpha: u64,
    /// Written as legacy `Alpha` / `TotalHotkeyShares` entries.
    #[serde(default)]
    pub legacy: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptedAction {
    pub block: u64,
    /// Only on this reorg generation (0 = the first branch, later abandoned by a reorg).
    #[serde(default)]
    pub branch: Option<u64>,
    pub action: Action,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReorgSpec {
    /// Right after this block is produced, the top `depth` blocks are abandoned.
    pub after_block: u64,
    pub depth: u64,
}

/// A seeded random behaviour of some coldkeys.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BehaviourSpec {
    pub kind: BehaviourKind,
    /// Coldkey names; a trailing `*` matches a prefix.
    pub coldkeys: Vec<String>,
    /// Chance per block per coldkey to act.
    pub probability: f64,
    /// Fraction sold/moved per act, in basis points (partial sellers, movers...).
    #[serde(default = "quarter")]
    pub fraction_bps: u32,
    /// Transfer targets (transferrers).
    #[serde(default)]
    pub targets: Vec<String>,
    /// Alpha fee per remove (fee payers), in rao.
    #[serde(default)]
    pub alpha_fee: u64,
    /// TAO per buy (stakers), whole TAO.
    #[serde(default = "one_tao")]
    pub tao: u64,
}
fn quarter() -> u32 {
    2500
}
fn one_tao() -> u64 {
    1
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BehaviourKind {
    Holder,
    Staker,
    PartialSeller,
    FullSeller,
    Mover,
    Transferrer,
    Swapper,
    FeePayer,
    RootClaimer,
    Recycler,
    Burner,
}

fn bad(field: String, what: impl std::fmt::Display) -> DevnetError {
    DevnetError::Scenario(format!("{field}: {what}"))
}

impl Scenario {
    /// Parses and validates a TOML scenario.
    pub fn from_toml(text: &str) -> Result<Self> {
        let s: Scenario = toml::from_str(text).map_err(|e| DevnetError::Scenario(e.to_string()))?;
        s.validate()?;
        Ok(s)
    }

    /// A built-in scenario by name.
    pub fn builtin(name: &str) -> Result<Self> {
        let (_, text) = BUILTIN.iter().find(|(n, _)| *n == name).ok_or_else(|| {
            DevnetError::Scenario(format!(
                "no built-in scenario {name:?} (have: {})",
                BUILTIN
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        Self::from_toml(text)
    }

    /// A scenario from a built-in name or a file path.
    pub fn load(name_or_path: &str) -> Result<Self> {
        if BUILTIN.iter().any(|(n, _)| *n == name_or_path) {
            return Self::builtin(name_or_path);
        }
        let text = std::fs::read_to_string(name_or_path)
            .map_err(|e| DevnetError::Scenario(format!("cannot read {name_or_path}: {e}")))?;
        Self::from_toml(&text).map_err(|e| DevnetError::Scenario(format!("{name_or_path}: {e}")))
    }

    fn validate(&self) -> Result<()> {
        crate::runtime::validate_schedule(self.runtime, &self.upgrades)?;
        crate::scenario_runtime::validate_actions(self)?;
        let mut nets = BTreeSet::new();
        for (i, s) in self.subnets.iter().enumerate() {
            let f = |x: &str| format!("subnets[{i}].{x}");
            if !nets.insert(s.netuid) {
                return Err(bad(
                    f("netuid"),
                    format!("netuid {} is listed twice", s.netuid),
                ));
            }
            if s.netuid == 0 {
                return Err(bad(
                    f("netuid"),
                    "netuid 0 is the root network and is not simulated",
                ));
            }
            if s.tempo == 0 {
                return Err(bad(f("tempo"), "must be at least 1"));
            }
            if s.owner_cut_bps > 10_000 {
                return Err(bad(f("owner_cut_bps"), "must be at most 10000"));
            }
            if s.miner_share_bps > 10_000 {
                return Err(bad(f("miner_share_bps"), "must be at most 10000"));
            }
            if s.price_rao == 0 {
                return Err(bad(f("price_rao"), "must be positive"));
            }
            if s.stake_fee_bps >= 10_000 {
                return Err(bad(f("stake_fee_bps"), "must be below 10000"));
            }
            crate::scenario_mech::validate_subnet(s, &f)?;
        }
        let net = |n: NetUid, field: String| -> Result<()> {
            if nets.contains(&n) {
                Ok(())
            } else {
                Err(bad(field, format!("subnet {n} is not in [[subnets]]")))
            }
        };
        let mut per_net: BTreeMap<NetUid, usize> = BTreeMap::new();
        for (i, n) in self.neurons.iter().enumerate() {
            net(n.netuid, format!("neurons[{i}].netuid"))?;
            crate::scenario_mech::validate_neuron(self, i, n)?;
            *per_net.entry(n.netuid).or_default() += 1;
        }
        for (i, g) in self.neuron_groups.iter().enumerate() {
            net(g.netuid, format!("neuron_groups[{i}].netuid"))?;
            if g.coldkeys == 0 {
                return Err(bad(
                    format!("neuron_groups[{i}].coldkeys"),
                    "must be at least 1",
                ));
            }
            *per_net.entry(g.netuid).or_default() += g.count as usize;
        }
        for (n, c) in per_net {
            let max = self
                .subnets
                .iter()
                .find(|s| s.netuid == n)
                .map(|s| s.max_uids)
                .unwrap_or(0);
            if c > max as usize {
                return Err(bad(
                    format!("subnet {n}"),
                    format!("{c} neurons exceed max_uids {max}"),
                ));
            }
        }
        for (i, s) in self.stakes.iter().enumerate() {
            net(s.netuid, format!("stakes[{i}].netuid"))?;
            if s.alpha == 0 {
                return Err(bad(format!("stakes[{i}].alpha"), "must be positive"));
            }
        }
        for (i, a) in self.actions.iter().enumerate() {
            if a.block == 0 {
                return Err(bad(
                    format!("actions[{i}].block"),
                    "must be at least 1 (block 0 is genesis)",
                ));
            }
        }
        for (i, r) in self.reorgs.iter().enumerate() {
            if r.depth == 0 || r.depth > r.after_block {
                return Err(bad(
                    format!("reorgs[{i}].depth"),
                    "must be between 1 and after_block",
                ));
            }
            let fd = self.finality_depth.unwrap_or(0);
            if r.depth > fd {
                return Err(bad(
                    format!("reorgs[{i}].depth"),
                    format!(
                        "{} exceeds finality_depth {fd}: finalized blocks never revert",
                        r.depth
                    ),
                ));
            }
        }
        for (i, b) in self.behaviours.iter().enumerate() {
            if !(0.0..=1.0).contains(&b.probability) {
                return Err(bad(
                    format!("behaviours[{i}].probability"),
                    "must be within 0..=1",
                ));
            }
            if b.coldkeys.is_empty() {
                return Err(bad(format!("behaviours[{i}].coldkeys"), "lists no coldkey"));
            }
            if b.fraction_bps == 0 || b.fraction_bps > 10_000 {
                return Err(bad(
                    format!("behaviours[{i}].fraction_bps"),
                    "must be within 1..=10000",
                ));
            }
            if b.kind == BehaviourKind::Transferrer && b.targets.is_empty() {
                return Err(bad(
                    format!("behaviours[{i}].targets"),
                    "a transferrer needs targets",
                ));
            }
            if b.kind == BehaviourKind::FeePayer && b.alpha_fee == 0 {
                return Err(bad(
                    format!("behaviours[{i}].alpha_fee"),
                    "a fee payer needs alpha_fee > 0",
                ));
            }
        }
        Ok(())
    }

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
        Ok((
            st,
            ScenarioDriver {
                seed,
                scripted,
                behaviours,
                reorgs,
                done_reorgs: BTreeSet::new(),
            },
        ))
    }
}

struct Behaviour {
    spec: BehaviourSpec,
    members: Vec<AccountId>,
    targets: Vec<AccountId>,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_parse_and_build() {
        for (name, _) in BUILTIN {
            let s = Scenario::builtin(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            s.build(12_000, None)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    #[test]
    fn bad_files_name_the_field() {
        let e = Scenario::from_toml("name = \"x\"\nbogus = 1\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("bogus"), "{e}");
        let e = Scenario::from_toml(
            "name = \"x\"\n[[subnets]]\nnetuid = 1\ntempo = 0\nowner = \"o\"\nowner_hotkey = \"oh\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("subnets[0].tempo"), "{e}");
        let e = Scenario::from_toml(
            "name = \"x\"\n[[stakes]]\ncoldkey = \"a\"\nhotkey = \"b\"\nnetuid = 9\nalpha = 1\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("stakes[0].netuid") && e.contains("subnet 9"),
            "{e}"
        );
        let e = Scenario::from_toml(
            "name = \"x\"\n[[subnets]]\nnetuid = \"one\"\nowner = \"o\"\nowner_hotkey = \"oh\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("netuid"), "{e}");
        assert!(
            Scenario::builtin("nope")
                .unwrap_err()
                .to_string()
                .contains("tiny")
        );
    }
}
