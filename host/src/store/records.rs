//! What one processed block writes: plain records, built by the ingest and written by
//! [`Store::apply_block`](super::Store::apply_block) in one transaction.

use crate::policy::{
    Consumption, Flow, HolderLedger, Holding, MinerMultiplier, PositionAttribution, Release,
};

/// How an epoch block of the tracked subnet went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EpochStatus {
    Run,
    Skipped,
    Deferred,
}

impl EpochStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            EpochStatus::Run => "run",
            EpochStatus::Skipped => "skipped",
            EpochStatus::Deferred => "deferred",
        }
    }
}

/// One epoch boundary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpochRecord {
    pub netuid: u16,
    pub block: u64,
    pub status: EpochStatus,
    /// `SubnetEpochIndex` after the block (None where the runtime has no such item).
    pub epoch_index: Option<u64>,
    pub tempo: Option<u64>,
    /// Which rule the storage cross-check confirmed: "dynamic" or "legacy".
    pub rule: String,
    pub deferred_to: Option<u64>,
}

/// Which snapshot a position read belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotPhase {
    /// At b-1 of epoch b.
    Pre,
    /// At b of epoch b.
    Post,
    /// When tracking of its coldkey began.
    Seed,
}

impl SnapshotPhase {
    pub fn as_str(&self) -> &'static str {
        match self {
            SnapshotPhase::Pre => "pre",
            SnapshotPhase::Post => "post",
            SnapshotPhase::Seed => "seed",
        }
    }
}

/// One position read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotRow {
    pub epoch_block: u64,
    pub phase: SnapshotPhase,
    pub at_block: u64,
    pub hotkey: String,
    pub coldkey: String,
    pub netuid: u16,
    pub alpha: u64,
}

/// A hotkey's owner as seen at `block` (closes a different open association).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerSeen {
    pub hotkey: String,
    pub coldkey: String,
    pub block: u64,
}

/// A uid's hotkey as seen at `block` (closes a different open registration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationSeen {
    pub netuid: u16,
    pub uid: u16,
    pub hotkey: String,
    pub block: u64,
}

/// The result of one ledger step and what follows from it.
#[derive(Debug, Clone, Default)]
pub struct LedgerStepRecord {
    pub block: u64,
    /// Ledgers the step returned (every holder it was given).
    pub ledgers: Vec<HolderLedger>,
    pub releases: Vec<Release>,
    pub consumptions: Vec<Consumption>,
    pub holdings: Vec<Holding>,
    pub multipliers: Vec<MinerMultiplier>,
}

/// Everything one processed block writes.
#[derive(Debug, Clone, Default)]
pub struct BlockRecord {
    pub number: u64,
    pub hash: String,
    pub events: u32,
    pub flows: Vec<Flow>,
    pub epochs: Vec<EpochRecord>,
    pub snapshots: Vec<SnapshotRow>,
    /// The policy's attribution at this epoch block.
    pub attributions: Vec<PositionAttribution>,
    pub owners: Vec<OwnerSeen>,
    pub registrations: Vec<RegistrationSeen>,
    /// Coldkeys that start being tracked at this block.
    pub new_tracked: Vec<String>,
    pub step: Option<LedgerStepRecord>,
    /// The epoch's decision record (policy, input and output hashes).
    pub decision: Option<super::DecisionRecord>,
    /// A candidate policy run in shadow at this epoch.
    pub shadow: Option<super::ShadowRecord>,
    /// A policy scheduled for the next epoch boundary went into service at this block.
    pub activation: Option<String>,
    /// A parameter change scheduled for the next epoch boundary went into force at this
    /// block: the parameters, as the store records them (JSON).
    pub param_activation: Option<String>,
    /// Delete ledger history of steps before this block (the configured history window).
    pub prune_ledger_history_before: Option<u64>,
}
