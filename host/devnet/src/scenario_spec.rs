//! The scenario file's shape (TOML): subnets, coldkeys and their hotkeys, neurons and
//! scores, genesis positions (legacy `Alpha` entries included), scripted actions by
//! block, reorgs and seeded random behaviours, with their defaults. Unknown fields are
//! rejected by serde; `scenario_validate` checks the values, `scenario_genesis` builds
//! the chain from them. Re-exported as `crate::scenario::*`.

use serde::Deserialize;

use crate::error::DevnetError;
use crate::model::{Action, NetUid, UNIT};

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

/// A scenario error naming the field (`subnets[0].tempo`) and what is wrong with it.
pub(crate) fn bad(field: String, what: impl std::fmt::Display) -> DevnetError {
    DevnetError::Scenario(format!("{field}: {what}"))
}
