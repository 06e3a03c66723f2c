//! Poll mode of the monitor, for nodes where a subscription is not wanted (rate-limited
//! public endpoints): the wait before the next finalized-head query shrinks as the next
//! epoch of the subnet approaches (every block near it) and grows far from it, up to
//! `query_interval_seconds`. Blocks in between are never skipped: each poll catches up on
//! everything since the checkpoint.

use std::time::Duration;

use crate::store::EpochRow;

/// How the monitor learns of new finalized blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Follow {
    /// The finalized-heads subscription: every block as it is finalized.
    Subscribe,
    /// Query the finalized head; wait between `block_time` (near an epoch) and `max`.
    Poll { block_time: Duration, max: Duration },
}

/// Blocks from `now` until the subnet's next epoch is due, from the last epoch seen
/// (`last.block + tempo`, the dynamic-tempo rule); None without one. After a skipped
/// epoch the next may come in the very next block: newer runtimes retry a skipped epoch
/// at once (RaoFoundation/subtensor `pallets/subtensor/src/coinbase/run_coinbase.rs`,
/// safety net capped at tempo + 1; `chain::runtime` spec 459), so it is due now.
pub fn blocks_to_next_epoch(last: Option<&EpochRow>, now: u64) -> Option<u64> {
    let last = last?;
    if last.status == "skipped" {
        return Some(0);
    }
    let tempo = last.tempo.filter(|t| *t > 0)?;
    Some((last.block + tempo).saturating_sub(now))
}

/// The wait before the next poll: half the time until the next epoch, at least one block
/// and at most `max`; one block when the next epoch is unknown.
pub fn poll_interval(
    blocks_to_epoch: Option<u64>,
    block_time: Duration,
    max: Duration,
) -> Duration {
    let max = max.max(block_time);
    match blocks_to_epoch {
        None => block_time,
        Some(n) => (block_time * (n / 2).min(u32::MAX as u64) as u32).clamp(block_time, max),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn epoch(block: u64, tempo: u64) -> EpochRow {
        EpochRow {
            netuid: 1,
            block,
            block_hash: String::new(),
            status: "run".into(),
            epoch_index: Some(1),
            tempo: Some(tempo),
            rule: "dynamic".into(),
            deferred_to: None,
        }
    }

    #[test]
    fn polls_every_block_near_an_epoch_and_rarely_far_from_it() {
        let (bt, max) = (Duration::from_secs(12), Duration::from_secs(300));
        let e = epoch(1000, 360);
        let at = |now| poll_interval(blocks_to_next_epoch(Some(&e), now), bt, max);
        assert_eq!(at(1001), max, "359 blocks away: the longest wait");
        assert_eq!(
            at(1320),
            Duration::from_secs(12 * 20),
            "40 blocks away: 20 blocks"
        );
        assert_eq!(at(1357), bt, "3 blocks away: every block");
        assert_eq!(at(1360), bt, "due: every block");
        assert_eq!(at(1400), bt, "overdue (deferred): every block");
        let waits: Vec<Duration> = (1001..=1360).map(at).collect();
        assert!(
            waits.windows(2).all(|w| w[0] >= w[1]),
            "never longer closer to the epoch"
        );
    }

    #[test]
    fn a_skipped_epoch_polls_every_block() {
        let (bt, max) = (Duration::from_secs(12), Duration::from_secs(300));
        let mut e = epoch(1000, 360);
        e.status = "skipped".into();
        assert_eq!(
            poll_interval(blocks_to_next_epoch(Some(&e), 1001), bt, max),
            bt
        );
    }

    #[test]
    fn unknown_epoch_polls_every_block() {
        let (bt, max) = (Duration::from_secs(12), Duration::from_secs(300));
        assert_eq!(poll_interval(blocks_to_next_epoch(None, 5), bt, max), bt);
        assert_eq!(
            poll_interval(Some(10_000), bt, Duration::from_secs(1)),
            bt,
            "max below a block"
        );
    }
}
