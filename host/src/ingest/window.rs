//! The span an attribution covers: one block, b-1 -> b, for some coldkeys (every tracked
//! holder at an epoch, the claiming coldkey at a root claim between epochs). Owns reading
//! their positions at both ends, recording them as snapshots, and choosing the flows that
//! may enter attribution.

use std::collections::{BTreeMap, BTreeSet};

use super::IngestError;
use crate::chain::positions::{self, At};
use crate::chain::{Account, ChainClient, ChainMeta, ss58};
use crate::policy::{AttributionInput, Flow, Position};
use crate::store::{BlockRecord, SnapshotPhase, SnapshotRow};

fn position_list(netuid: u16, m: &BTreeMap<(Account, Account), u64>) -> Vec<Position> {
    m.iter()
        .filter(|(_, a)| **a > 0)
        .map(|((h, c), a)| Position {
            hotkey: ss58(h),
            coldkey: ss58(c),
            netuid,
            alpha: *a,
        })
        .collect()
}

pub(super) fn snapshots(
    epoch_block: u64,
    phase: SnapshotPhase,
    at: u64,
    netuid: u16,
    m: &BTreeMap<(Account, Account), u64>,
) -> Vec<SnapshotRow> {
    m.iter()
        .filter(|(_, a)| **a > 0)
        .map(|((h, c), a)| SnapshotRow {
            epoch_block,
            phase,
            at_block: at,
            hotkey: ss58(h),
            coldkey: ss58(c),
            netuid,
            alpha: *a,
        })
        .collect()
}

/// Reads positions of `coldkeys` on the subnet at both blocks (hotkeys from both blocks).
pub(super) async fn read_positions(
    c: &ChainClient,
    meta: &ChainMeta,
    netuid: u16,
    coldkeys: &BTreeSet<Account>,
    blocks: &[At],
) -> Result<Vec<BTreeMap<(Account, Account), u64>>, IngestError> {
    let mut pairs = BTreeSet::new();
    let reads = blocks
        .iter()
        .map(|at| positions::hotkeys_of(c, meta, coldkeys, *at));
    for m in futures::future::try_join_all(reads).await? {
        for (ck, hks) in m {
            pairs.extend(hks.into_iter().map(|h| (h, ck)));
        }
    }
    let reads = blocks
        .iter()
        .map(|at| positions::positions(c, meta, netuid, &pairs, *at));
    let out = futures::future::try_join_all(reads).await?;
    Ok(out)
}

/// Only flows of tracked holders enter attribution (and those that name no coldkey, such
/// as dividends): the positions of any other coldkey were never read, so its flows would
/// stand against a before and after of 0.
fn of_tracked(flows: &[Flow], tracked: &BTreeMap<String, Account>) -> Vec<Flow> {
    flows
        .iter()
        .filter(|f| f.coldkey.is_empty() || tracked.contains_key(&f.coldkey))
        .cloned()
        .collect()
}

/// A span of one block (b-1 -> b) attributed for some coldkeys.
pub(super) struct Window {
    pub pre: At,
    pub now: At,
    pub netuid: u16,
}

impl Window {
    /// Reads the coldkeys' positions at both ends (recorded as snapshots) and builds the
    /// attribution input from the block's flows of tracked holders.
    pub async fn input(
        &self,
        c: &ChainClient,
        meta: &ChainMeta,
        coldkeys: &BTreeSet<Account>,
        flows: &[Flow],
        tracked: &BTreeMap<String, Account>,
        rec: &mut BlockRecord,
    ) -> Result<AttributionInput, IngestError> {
        let (pre, now, netuid) = (self.pre, self.now, self.netuid);
        let mut both = read_positions(c, meta, netuid, coldkeys, &[pre, now]).await?;
        let after = both.pop().unwrap_or_default();
        let before = both.pop().unwrap_or_default();
        for (phase, at, m) in [
            (SnapshotPhase::Pre, pre.number, &before),
            (SnapshotPhase::Post, now.number, &after),
        ] {
            rec.snapshots
                .extend(snapshots(now.number, phase, at, netuid, m));
        }
        Ok(AttributionInput {
            netuid,
            before_block: pre.number,
            after_block: now.number,
            before: position_list(netuid, &before),
            after: position_list(netuid, &after),
            flows: of_tracked(flows, tracked),
        })
    }
}
