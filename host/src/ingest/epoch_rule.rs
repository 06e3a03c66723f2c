//! The epoch rules the ingest checks events against: storage after a run (dynamic
//! tempo: `LastEpochBlock`, `SubnetEpochIndex`) or the legacy rule before spec 423.

use super::IngestError;
use crate::chain::positions::EpochState;

/// Cross-checks an epoch run or skip at `b` against storage; returns the rule it matches.
pub fn check_epoch(
    netuid: u16,
    b: u64,
    pre: &EpochState,
    post: &EpochState,
    last_index: Option<u64>,
) -> Result<String, IngestError> {
    let legacy = pre.tempo > 0 && (b + netuid as u64 + 1).is_multiple_of(pre.tempo + 1);
    match (pre.epoch_index, post.epoch_index, post.last_epoch_block) {
        (Some(i0), Some(i1), Some(leb)) => {
            if leb != b {
                return Err(IngestError::Epoch(format!(
                    "block #{b}: the events say subnet {netuid}'s epoch ran, but LastEpochBlock is {leb}"
                )));
            }
            if i1 != i0 + 1 {
                return Err(IngestError::Epoch(format!(
                    "block #{b}: SubnetEpochIndex went from {i0} to {i1}, expected one epoch"
                )));
            }
            if let Some(last) = last_index
                && last != i0
            {
                return Err(IngestError::Epoch(format!(
                    "block #{b}: SubnetEpochIndex before it is {i0}, but the last epoch recorded had {last}: an epoch was missed"
                )));
            }
            let dynamic = pre
                .last_epoch_block
                .is_some_and(|l| b.saturating_sub(l) >= pre.tempo);
            Ok(if dynamic || !legacy {
                "dynamic"
            } else {
                "legacy"
            }
            .to_string())
        }
        _ if legacy => Ok("legacy".to_string()),
        _ => Err(IngestError::Epoch(format!(
            "block #{b}: the events say subnet {netuid}'s epoch ran, but neither dynamic-tempo storage nor the legacy rule (tempo {}) agree",
            pre.tempo
        ))),
    }
}

/// The legacy rule: whether block `b` runs subnet `netuid`'s epoch with `tempo`.
pub fn legacy_epoch(b: u64, netuid: u16, tempo: u64) -> bool {
    tempo > 0 && (b + netuid as u64 + 1).is_multiple_of(tempo + 1)
}
