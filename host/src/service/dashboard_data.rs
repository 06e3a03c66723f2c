//! What the dashboard shows, read in one go (`GET /dashboard/data`): every current miner's
//! multiplier and its value at each of the latest epoch decisions, earned and manual stake
//! flows per epoch, each holder's held fraction and holding days, the policy in service
//! with the latest shadow run's differences, and the service's health (lag, decision age).
//! Store reads only, through a read-only connection of its own; fixed-point values
//! (9 decimals) and rao amounts are turned into plain numbers here, so the page only draws.

use super::{Health, VestingSystem};
use crate::policy::{Flow, FlowKind};
use crate::store::{HolderStats, MinerHistoryRow, MultiplierRow, PolicyState, ShadowDiff, Store};
use serde::Serialize;
use std::collections::BTreeSet;

/// Epoch decisions the series cover at most (the latest ones).
pub const DASHBOARD_EPOCHS: usize = 48;

/// One fixed-point unit (9 decimals) or one alpha in rao.
const UNIT: f64 = 1e9;

fn unit(v: u64) -> f64 {
    v as f64 / UNIT
}

/// Everything the dashboard draws.
#[derive(Clone, Debug, Serialize)]
pub struct DashboardData {
    pub netuid: u16,
    pub policy: PolicyView,
    pub health: Health,
    /// The epoch decision blocks the series cover, oldest first.
    pub epochs: Vec<u64>,
    /// The current miners by uid, each with its multiplier at every epoch of `epochs`.
    pub miners: Vec<MinerSeries>,
    /// Earned and manual stake of the tracked holders, per epoch of `epochs`.
    pub flows: Vec<EpochFlows>,
    /// Every holder's latest holding metrics.
    pub holders: Vec<HolderView>,
    /// The latest shadow run, if a candidate policy ran in shadow.
    pub shadow: Option<ShadowView>,
}

/// The policy in service and the lifecycle state.
#[derive(Clone, Debug, Serialize)]
pub struct PolicyView {
    pub label: String,
    pub sha256: String,
    pub state: PolicyState,
    /// sha256 -> `name@version` of every stored policy the state names.
    pub names: Vec<(String, String)>,
}

/// A current miner and its multiplier over the epochs (None: no row for this uid and
/// hotkey at that epoch).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MinerSeries {
    pub uid: u16,
    pub hotkey: String,
    pub holder: String,
    pub multiplier: f64,
    pub eligible: bool,
    pub held_fraction: f64,
    pub holding_days: f64,
    pub series: Vec<Option<f64>>,
}

/// One epoch's stake flows of the tracked holders, in alpha: `earned` as the policy
/// attributed it at the epoch block; the manual flows of every block since the previous
/// epoch (up to and including this one).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EpochFlows {
    pub block: u64,
    pub earned: f64,
    /// Staked, moved, transferred or swapped in.
    pub manual_in: f64,
    /// Unstaked (sold), moved, transferred or swapped out, fees and burns.
    pub manual_out: f64,
}

/// A holder's latest holding metrics, as plain numbers.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HolderView {
    pub holder: String,
    pub block: u64,
    pub held_fraction: f64,
    pub holding_days: f64,
    pub total_stake: f64,
    pub vested: f64,
    pub locked: f64,
}

/// The latest shadow run: candidate against active, per miner.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ShadowView {
    pub block: u64,
    pub candidate: String,
    pub active: String,
    pub miners_changed: u64,
    pub total_weight_diff: f64,
    pub max_weight_diff: f64,
    pub error: Option<String>,
    pub miners: Vec<ShadowMiner>,
}

/// One miner of a shadow run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ShadowMiner {
    pub uid: u16,
    pub hotkey: String,
    pub active_multiplier: f64,
    pub candidate_multiplier: f64,
    pub active_weight: f64,
    pub candidate_weight: f64,
}

/// The current miners (`latest`, by uid) with their multiplier at each epoch: the row of
/// the same uid and hotkey in that epoch's set (a re-registered uid starts a new series).
/// Each epoch's rows are sorted by uid (as `Store::multipliers_at` returns them).
pub fn miner_series(
    latest: &[MultiplierRow],
    holders: &[HolderStats],
    epochs: &[(u64, Vec<MultiplierRow>)],
) -> Vec<MinerSeries> {
    latest
        .iter()
        .map(|m| {
            let h = holders.iter().find(|h| h.holder == m.holder);
            MinerSeries {
                uid: m.uid,
                hotkey: m.hotkey.clone(),
                holder: m.holder.clone(),
                multiplier: unit(m.multiplier),
                eligible: m.eligible,
                held_fraction: h.map_or(0.0, |h| unit(h.held_fraction)),
                holding_days: h.map_or(0.0, |h| unit(h.holding_days)),
                series: epochs
                    .iter()
                    .map(|(_, rows)| {
                        rows.binary_search_by_key(&m.uid, |r| r.uid)
                            .ok()
                            .map(|i| &rows[i])
                            .filter(|r| r.hotkey == m.hotkey)
                            .map(|r| unit(r.multiplier))
                    })
                    .collect(),
            }
        })
        .collect()
}

/// Whether a flow is a manual one into (Some(true)) or out of (Some(false)) a position;
/// None for emission (incentive, dividends, root claims: earned, not manual).
pub fn manual_direction(kind: FlowKind) -> Option<bool> {
    use FlowKind::*;
    match kind {
        Added | MovedIn | TransferredIn | SwappedIn => Some(true),
        Removed | MovedOut | TransferredOut | SwappedOut | AlphaFee | Recycled | Burned => {
            Some(false)
        }
        Incentive | AutoStaked | Dividend | RootClaimed => None,
    }
}

/// Each epoch's flows: `earned` summed over the epoch block's attributions (`changes`, one
/// list per epoch), the tracked holders' manual flows summed over the blocks after the
/// previous epoch (`after`, or the start) up to and including the epoch. `epochs` and
/// `flows` are in block order.
pub fn epoch_flows(
    epochs: &[u64],
    after: Option<u64>,
    changes: &[Vec<MinerHistoryRow>],
    flows: &[Flow],
    tracked: &BTreeSet<String>,
) -> Vec<EpochFlows> {
    let mut manual = vec![(0u64, 0u64); epochs.len()];
    for f in flows {
        if after.is_some_and(|a| f.block <= a) || !tracked.contains(&f.coldkey) {
            continue;
        }
        let i = epochs.partition_point(|e| *e < f.block);
        let (Some(m), Some(into)) = (manual.get_mut(i), manual_direction(f.kind)) else {
            continue;
        };
        if into {
            m.0 = m.0.saturating_add(f.alpha);
        } else {
            m.1 = m.1.saturating_add(f.alpha);
        }
    }
    epochs
        .iter()
        .zip(&manual)
        .enumerate()
        .map(|(i, (&block, &(manual_in, manual_out)))| EpochFlows {
            block,
            earned: unit(changes.get(i).map_or(0, |c| {
                c.iter().fold(0u64, |a, c| a.saturating_add(c.earned))
            })),
            manual_in: unit(manual_in),
            manual_out: unit(manual_out),
        })
        .collect()
}

/// A holder's metrics as plain numbers.
pub fn holder_view(h: &HolderStats) -> HolderView {
    HolderView {
        holder: h.holder.clone(),
        block: h.block,
        held_fraction: unit(h.held_fraction),
        holding_days: unit(h.holding_days),
        total_stake: unit(h.total_stake),
        vested: unit(h.vested),
        locked: unit(h.locked),
    }
}

/// A shadow run's rows as plain numbers.
pub fn shadow_view(run: &crate::store::ShadowRun, diffs: &[ShadowDiff]) -> ShadowView {
    ShadowView {
        block: run.block,
        candidate: run.candidate.clone(),
        active: run.active.clone(),
        miners_changed: run.miners_changed,
        total_weight_diff: unit(run.total_weight_diff),
        max_weight_diff: unit(run.max_weight_diff),
        error: run.error.clone(),
        miners: diffs
            .iter()
            .map(|d| ShadowMiner {
                uid: d.uid,
                hotkey: d.hotkey.clone(),
                active_multiplier: unit(d.active_multiplier),
                candidate_multiplier: unit(d.candidate_multiplier),
                active_weight: unit(d.active_weight),
                candidate_weight: unit(d.candidate_weight),
            })
            .collect(),
    }
}

/// The last `n` of `blocks` (oldest first).
pub fn last_n(blocks: &[u64], n: usize) -> &[u64] {
    &blocks[blocks.len().saturating_sub(n)..]
}

impl VestingSystem {
    /// What the dashboard draws: the latest `epochs` decisions' series, the current miners
    /// and holders, the policy state and the latest shadow run, and `/health`'s figures.
    /// Reads the store (blocking).
    pub fn dashboard_data(&self, epochs: usize) -> anyhow::Result<DashboardData> {
        let health = self.health()?;
        let latest = self.multipliers()?;
        let store = Store::open_read_only(&self.config().db_path)?;
        let holders = store.holder_stats()?;
        let all = store.decision_blocks()?;
        let blocks = last_n(&all, epochs);
        // The epoch before the first one shown: its block's flows belong to it.
        let after = all.len().checked_sub(blocks.len() + 1).map(|i| all[i]);
        let mut sets = Vec::with_capacity(blocks.len());
        let mut changes = Vec::with_capacity(blocks.len());
        for &b in blocks {
            sets.push((b, store.multipliers_at(b)?));
            changes.push(store.changes_at(b)?);
        }
        let flows: Vec<Flow> = match blocks.last() {
            Some(&last) => store
                .flows(after.map_or(0, |a| a + 1), last)?
                .into_iter()
                .map(|r| r.flow)
                .collect(),
            None => vec![],
        };
        let flows = epoch_flows(blocks, after, &changes, &flows, &store.tracked_coldkeys()?);
        let state = store.policy_state()?;
        let stored = store.policies()?;
        let shadow = match store.shadow_runs(1)?.into_iter().next() {
            Some(run) => {
                let diffs = store.shadow_diffs(run.block, &run.candidate)?;
                Some(shadow_view(&run, &diffs))
            }
            None => None,
        };
        let policy = self.policy();
        Ok(DashboardData {
            netuid: self.config().netuid,
            policy: PolicyView {
                label: policy.label(),
                sha256: policy.sha256_hex(),
                names: stored
                    .iter()
                    .map(|p| (p.sha256.clone(), format!("{}@{}", p.name, p.version)))
                    .collect(),
                state,
            },
            health,
            epochs: blocks.to_vec(),
            miners: miner_series(&latest, &holders, &sets),
            flows,
            holders: holders.iter().map(holder_view).collect(),
            shadow,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(block: u64, uid: u16, hotkey: &str, multiplier: u64) -> MultiplierRow {
        MultiplierRow {
            block,
            uid,
            hotkey: hotkey.into(),
            holder: format!("cold-{hotkey}"),
            multiplier,
            held_factor: 0,
            duration_factor: 0,
            eligible: true,
        }
    }

    fn holder(name: &str, held: u64, days: u64) -> HolderStats {
        HolderStats {
            block: 10,
            holder: name.into(),
            total_stake: 3_000_000_000,
            earned_in_window: 0,
            held_in_window: 0,
            held_fraction: held,
            holding_blocks: 0,
            holding_days: days,
            vested: 1_000_000_000,
            locked: 2_000_000_000,
        }
    }

    #[test]
    fn series_follow_uid_and_hotkey_and_leave_gaps() {
        let epochs = vec![
            (
                10,
                vec![row(10, 0, "a", 1_000_000_000), row(10, 1, "old", 0)],
            ),
            (20, vec![row(20, 0, "a", 1_200_000_000)]),
            (
                30,
                vec![row(30, 0, "a", 1_500_000_000), row(30, 1, "b", 500_000_000)],
            ),
        ];
        let latest = vec![row(30, 0, "a", 1_500_000_000), row(31, 1, "b", 750_000_000)];
        let holders = vec![holder("cold-a", 800_000_000, 2_500_000_000)];
        let s = miner_series(&latest, &holders, &epochs);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].series, vec![Some(1.0), Some(1.2), Some(1.5)]);
        assert_eq!((s[0].held_fraction, s[0].holding_days), (0.8, 2.5));
        // uid 1 was another hotkey at epoch 10: not b's history; b is missing at 20.
        assert_eq!(s[1].series, vec![None, None, Some(0.5)]);
        // The current value is the latest row (written between epochs), not the last epoch's.
        assert_eq!(s[1].multiplier, 0.75);
        // A holder without holding metrics yet.
        assert_eq!((s[1].held_fraction, s[1].holding_days), (0.0, 0.0));
    }

    fn flow(block: u64, kind: FlowKind, coldkey: &str, alpha: u64) -> Flow {
        Flow {
            block,
            extrinsic: None,
            event_index: 0,
            kind,
            hotkey: "h".into(),
            coldkey: coldkey.into(),
            netuid: 1,
            alpha,
            counterparty: None,
        }
    }

    #[test]
    fn flows_per_epoch_earned_at_the_epoch_and_manual_since_the_previous_one() {
        let change = |earned| MinerHistoryRow {
            epoch_block: 0,
            hotkey: "h".into(),
            coldkey: "c".into(),
            before: 0,
            after: 0,
            manual_in: 0,
            manual_out: 0,
            earned,
            residue: 0,
        };
        let tracked: BTreeSet<String> = ["c".to_string()].into();
        let g = 1_000_000_000;
        let flows = [
            // At the previous epoch (before the window): not counted.
            flow(100, FlowKind::Removed, "c", 9 * g),
            flow(150, FlowKind::Added, "c", 2 * g),
            flow(160, FlowKind::Removed, "c", g / 2),
            // Emission is earned, not manual; an untracked coldkey is not shown.
            flow(170, FlowKind::Incentive, "c", 5 * g),
            flow(180, FlowKind::Removed, "nominator", 7 * g),
            // The epoch block's own flows belong to it.
            flow(200, FlowKind::TransferredOut, "c", g),
            flow(250, FlowKind::MovedIn, "c", g / 4),
            // After the last epoch: no epoch's yet.
            flow(301, FlowKind::Added, "c", g),
        ];
        let changes = vec![vec![change(g), change(2 * g)], vec![]];
        let f = epoch_flows(&[200, 300], Some(100), &changes, &flows, &tracked);
        assert_eq!(
            f,
            vec![
                EpochFlows {
                    block: 200,
                    earned: 3.0,
                    manual_in: 2.0,
                    manual_out: 1.5
                },
                EpochFlows {
                    block: 300,
                    earned: 0.0,
                    manual_in: 0.25,
                    manual_out: 0.0
                },
            ]
        );
        // From the start: the first epoch takes every earlier flow.
        let f = epoch_flows(&[200], None, &changes[..1], &flows, &tracked);
        assert_eq!((f[0].manual_in, f[0].manual_out), (2.0, 10.5));
        let huge = epoch_flows(
            &[1],
            None,
            &[vec![change(u64::MAX), change(u64::MAX)]],
            &[],
            &tracked,
        );
        assert_eq!(huge[0].earned, u64::MAX as f64 / UNIT);
        assert!(epoch_flows(&[], None, &[], &flows, &tracked).is_empty());
    }

    #[test]
    fn every_flow_kind_has_a_side() {
        use FlowKind::*;
        assert_eq!(manual_direction(Added), Some(true));
        assert_eq!(manual_direction(Removed), Some(false));
        assert_eq!(manual_direction(AlphaFee), Some(false));
        assert_eq!(manual_direction(Dividend), None);
    }

    #[test]
    fn holders_and_shadow_runs_become_plain_numbers() {
        let h = holder_view(&holder("x", 1_000_000_000, 30_000_000_000));
        assert_eq!(
            (
                h.held_fraction,
                h.holding_days,
                h.total_stake,
                h.vested,
                h.locked
            ),
            (1.0, 30.0, 3.0, 1.0, 2.0)
        );
        let run = crate::store::ShadowRun {
            block: 99,
            candidate: "c".into(),
            active: "a".into(),
            total_weight_diff: 100_000_000,
            max_weight_diff: 50_000_000,
            miners_changed: 2,
            error: None,
        };
        let diff = ShadowDiff {
            uid: 3,
            hotkey: "h".into(),
            active_multiplier: 1_000_000_000,
            candidate_multiplier: 1_100_000_000,
            active_weight: 250_000_000,
            candidate_weight: 300_000_000,
        };
        let v = shadow_view(&run, &[diff]);
        assert_eq!(
            (v.block, v.total_weight_diff, v.max_weight_diff),
            (99, 0.1, 0.05)
        );
        assert_eq!(v.miners[0].candidate_multiplier, 1.1);
        assert_eq!(v.miners[0].candidate_weight, 0.3);
    }

    #[test]
    fn the_series_cover_the_latest_epochs() {
        assert_eq!(last_n(&[1, 2, 3, 4], 2), &[3, 4]);
        assert_eq!(last_n(&[1, 2], 5), &[1, 2]);
        assert!(last_n(&[], 3).is_empty());
    }
}
