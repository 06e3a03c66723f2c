//! What `get_vesting_stats` (`/stats`, `vesting stats`) reports: the policy and its
//! contract, the parameters in force, progress, and every miner's multiplier and holding,
//! read from the store. One builder for the running service and the read-only CLI.

use crate::policy::{Param, Policy};
use crate::store::{Result, Store};
use serde::Serialize;

/// One miner's line in the stats.
#[derive(Clone, Debug, Serialize)]
pub struct MinerStats {
    pub uid: u16,
    pub hotkey: String,
    pub holder: String,
    pub multiplier: u64,
    pub eligible: bool,
    pub held_fraction: u64,
    pub holding_days: u64,
    pub total_stake: u64,
    pub earned_in_window: u64,
    pub vested: u64,
    pub locked: u64,
}

/// What `get_vesting_stats` returns.
#[derive(Clone, Debug, Serialize)]
pub struct VestingStats {
    pub netuid: u16,
    pub policy: String,
    pub policy_sha256: String,
    /// The contract the policy implements, e.g. `bittensor:vesting@0.2.0`.
    pub contract: String,
    /// The parameters in force, as the policy resolves them (defaults filled in).
    pub params: Vec<Param>,
    /// The last finalized block written to the store.
    pub last_block: Option<u64>,
    pub epochs: usize,
    /// The block of the latest multipliers.
    pub multipliers_block: Option<u64>,
    pub miners: Vec<MinerStats>,
    pub apply_requests: u64,
    pub policy_failures: u64,
    pub monitor_running: bool,
}

/// The stats as the store has them; the service's own counters (`apply_requests`,
/// `policy_failures`, `monitor_running`) start at zero and false.
pub fn of_store(
    s: &Store,
    netuid: u16,
    policy: &Policy,
    params_in_force: &[Param],
) -> Result<VestingStats> {
    let multipliers = s.latest_multipliers()?;
    let holders = s.holder_stats()?;
    let miners = multipliers
        .iter()
        .map(|m| {
            let h = holders.iter().find(|h| h.holder == m.holder);
            MinerStats {
                uid: m.uid,
                hotkey: m.hotkey.clone(),
                holder: m.holder.clone(),
                multiplier: m.multiplier,
                eligible: m.eligible,
                held_fraction: h.map_or(0, |h| h.held_fraction),
                holding_days: h.map_or(0, |h| h.holding_days),
                total_stake: h.map_or(0, |h| h.total_stake),
                earned_in_window: h.map_or(0, |h| h.earned_in_window),
                vested: h.map_or(0, |h| h.vested),
                locked: h.map_or(0, |h| h.locked),
            }
        })
        .collect();
    Ok(VestingStats {
        netuid,
        policy: policy.label(),
        policy_sha256: policy.sha256_hex(),
        contract: policy.contract().name().to_string(),
        params: policy
            .resolve_params(params_in_force)
            .unwrap_or_else(|_| params_in_force.to_vec()),
        last_block: s.checkpoint()?.map(|c| c.block),
        epochs: s.epochs(netuid)?.len(),
        multipliers_block: multipliers.first().map(|m| m.block),
        miners,
        apply_requests: 0,
        policy_failures: 0,
        monitor_running: false,
    })
}
