//! The catch-up pipeline (backfill, and every gap between the checkpoint and the finalized
//! head): owns reading blocks ahead of their processing and writing them in batches. A
//! reader task fetches block hashes a batch ahead and `System.Events` with many reads in
//! flight, and starts each epoch or registration block's state reads as soon as its events
//! are in (`prefetch.rs`, through a [`ReadMemo`] the processing shares), so a block's reads
//! are answered by the time it is processed and speed is bounded by bandwidth, not by the
//! round trip. Processing and commits stay in block order: blocks are applied one after
//! another and written with the checkpoint in one transaction per [`BATCH`] blocks, as
//! before; what was read ahead and not yet applied is simply dropped on a stop or an error.

use std::sync::Arc;

use futures::{StreamExt, TryStreamExt};
use tokio::sync::mpsc;

use super::IngestError;
use super::monitor::Monitor;
use super::prefetch::{Decoded, ReadAhead};
use crate::chain::client::ReadMemo;
use crate::chain::{ChainClient, ChainError, Hash};

/// Blocks per transaction while catching up.
pub(super) const BATCH: usize = 64;

/// A block read ahead of its processing.
struct Fetched {
    number: u64,
    hash: Hash,
    events: Vec<u8>,
    /// The events as the read-ahead decoded them (not decoded again when they fit).
    decoded: Option<Decoded>,
}

/// Aborts the reader task (and with it its read-ahead tasks) when the catch-up ends.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What the reader reads: `from..=to`, hashes in batches of `chunk` (the next batch
/// requested while this one is read), `in_flight` events reads at once, at most `lead`
/// blocks waiting for processing; `parent` is the hash of `from - 1` when known.
struct Plan {
    from: u64,
    to: u64,
    chunk: u64,
    in_flight: usize,
    lead: usize,
    parent: Option<Hash>,
}

/// Reads the plan's blocks ahead, in order, into a channel, and starts each block's state
/// reads through `ahead`. The first error ends it.
fn read_ahead(
    c: ChainClient,
    plan: Plan,
    ahead: Arc<ReadAhead>,
) -> (mpsc::Receiver<Result<Fetched, ChainError>>, AbortOnDrop) {
    let Plan {
        from,
        to,
        chunk,
        in_flight,
        lead,
        parent,
    } = plan;
    let (tx, rx) = mpsc::channel(lead.max(1));
    let task = tokio::spawn(async move {
        let ranges = (from..=to)
            .step_by(chunk.max(1) as usize)
            .map(move |a| (a, (a + chunk.max(1) - 1).min(to)));
        let hc = c.clone();
        let hashes = futures::stream::iter(ranges)
            .map(move |(a, b)| {
                let c = hc.clone();
                async move { c.block_hashes(a, b).await.map(|v| (a, v)) }
            })
            .buffered(2)
            .map_ok(|(a, v)| {
                futures::stream::iter(
                    v.into_iter()
                        .enumerate()
                        .map(move |(i, h)| Ok::<_, ChainError>((a + i as u64, h))),
                )
            })
            .try_flatten();
        let ec = c.clone();
        let mut blocks = hashes
            .map(move |r| {
                let c = ec.clone();
                async move {
                    let (number, hash) = r?;
                    let hash = hash.ok_or(ChainError::UnknownBlock(number))?;
                    let events = c.events(number, &hash).await?;
                    Ok(Fetched {
                        number,
                        hash,
                        events,
                        decoded: None,
                    })
                }
            })
            .buffered(in_flight.max(1));
        let mut reads = tokio::task::JoinSet::new();
        let mut parent = parent;
        while let Some(mut item) = blocks.next().await {
            let ok = item.is_ok();
            if let Ok(b) = &mut item {
                if let Some(p) = parent {
                    b.decoded = ahead.start(&c, b.number, b.hash, p, &b.events, &mut reads);
                }
                parent = Some(b.hash);
                while reads.try_join_next().is_some() {}
            }
            if tx.send(item).await.is_err() || !ok {
                break;
            }
        }
        while reads.join_next().await.is_some() {}
    });
    (rx, AbortOnDrop(task))
}

impl Monitor {
    /// Processes `from..=to` in order, with reads pipelined ahead and writes batched;
    /// whatever was processed is written before returning, also on error.
    pub(super) async fn catch_up(
        &mut self,
        client: &ChainClient,
        from: u64,
        to: u64,
    ) -> Result<(), IngestError> {
        let r = self.catch_up_inner(client, from, to).await;
        let f = self.flush();
        r.and(f)
    }

    /// Writes the pending blocks in one transaction.
    pub(super) fn flush(&mut self) -> Result<(), IngestError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let t = std::time::Instant::now();
        let r = self.store.apply_blocks(&self.pending);
        let n = self.pending.len() as u32;
        let epochs = self
            .pending
            .iter()
            .filter(|r| !(r.attributions.is_empty() && r.epochs.is_empty()))
            .count() as u32;
        self.pending.clear();
        r?;
        self.metrics.wrote();
        // The batch's time, shared by its blocks.
        let d = t.elapsed();
        self.timings.store_other += d * (n - epochs) / n;
        self.timings.store_epoch += d * epochs / n;
        if let Some(p) = self.progress.as_mut()
            && let Some((last, _)) = self.last
        {
            p.block(last);
        }
        Ok(())
    }

    async fn catch_up_inner(
        &mut self,
        client: &ChainClient,
        from: u64,
        to: u64,
    ) -> Result<(), IngestError> {
        if *self.stop.borrow() || from > to {
            return Ok(());
        }
        let parent = self.last.filter(|(n, _)| n + 1 == from).map(|(_, h)| h);
        // The read-ahead decodes events with the metadata the first block runs with (read
        // here rather than at its apply, which then finds it).
        if self.meta.is_none() || self.refresh_meta {
            self.load_meta(client, from, None, parent).await?;
        }
        let memo = ReadMemo::new();
        let client = client.with_memo(memo.clone());
        let ahead = Arc::new(ReadAhead::new(self.cfg.netuid));
        ahead.set_meta(self.meta.clone(), from - 1);
        ahead.set_tracked(&self.tracker);
        let plan = Plan {
            from,
            to,
            chunk: self.cfg.chunk,
            in_flight: self.cfg.concurrency,
            lead: self.cfg.chunk.clamp(1, 4096) as usize,
            parent,
        };
        let (mut rx, _reader) = read_ahead(client.clone(), plan, ahead.clone());
        let r = self
            .apply_in_order(&client, &memo, &ahead, &mut rx, from, to)
            .await;
        self.timings.reads_ahead += memo.shared();
        r
    }

    /// Applies the reader's blocks as they come, in order, flushing every [`BATCH`].
    async fn apply_in_order(
        &mut self,
        client: &ChainClient,
        memo: &ReadMemo,
        ahead: &ReadAhead,
        rx: &mut mpsc::Receiver<Result<Fetched, ChainError>>,
        from: u64,
        to: u64,
    ) -> Result<(), IngestError> {
        let mut tracked = self.tracker.tracked.len();
        let mut next = from;
        while let Some(item) = rx.recv().await {
            let b = item?;
            if b.number != next {
                return Err(IngestError::Corrupt(format!(
                    "the block reader gave block #{} where #{next} was due",
                    b.number
                )));
            }
            self.apply(
                client,
                b.number,
                b.hash,
                &b.events,
                b.decoded.as_ref(),
                true,
            )
            .await?;
            next += 1;
            // Reads at older blocks are not asked for again (block b reads at b-1 and b).
            memo.forget_before(b.number);
            if self.refresh_meta || self.tracker.tracked.len() != tracked {
                tracked = self.tracker.tracked.len();
                ahead.set_tracked(&self.tracker);
            }
            ahead.set_meta(self.meta.clone(), b.number);
            if self.pending.len() >= BATCH {
                self.flush()?;
            }
            if *self.stop.borrow() {
                return Ok(());
            }
        }
        if next <= to {
            return Err(ChainError::Connection {
                url: self.cfg.url.clone(),
                message: format!("the block reader stopped before block #{next}"),
            }
            .into());
        }
        Ok(())
    }
}
