//! Applying one block: owns taking a block (number, hash, `System.Events`) into the
//! monitor's state: the metadata of the runtime that executed it (read at the parent, again
//! after a runtime upgrade), the registry sync, processing with the policy in service (the
//! built-in one when it fails), a pending parameter change put in force at an epoch block,
//! the write (at once when following; queued for the catch-up's batch otherwise), and the
//! timings and live figures.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::IngestError;
use super::monitor::Monitor;
use super::prefetch::Decoded;
use super::processor::{Context, Tracker, process};
use super::status::MonitorMetrics;
use crate::chain::events::{self, BlockEvents};
use crate::chain::{ChainClient, ChainMeta, Hash};
use crate::policy::{Param, Policy};

impl Monitor {
    /// Reads the metadata block `number` was executed with. Block b was executed by the
    /// runtime in the state at b-1: the block that carries an upgrade (`System.CodeUpdated`)
    /// still ran the old one, and its events are encoded with the old metadata, though the
    /// node already answers the new version at b. So metadata is read at the parent (at the
    /// block itself, `hash`, only when it has none). False when neither is known.
    pub(super) async fn load_meta(
        &mut self,
        client: &ChainClient,
        number: u64,
        hash: Option<Hash>,
        parent: Option<Hash>,
    ) -> Result<bool, IngestError> {
        let parent = match parent {
            Some(h) => Some(h),
            None if number > 0 => client
                .block_hashes(number - 1, number - 1)
                .await?
                .pop()
                .flatten(),
            None => None,
        };
        let at = match (parent, hash) {
            (Some(h), _) => (number - 1, h),
            (None, Some(h)) => (number, h),
            (None, None) => return Ok(false),
        };
        let m = client.metadata(at.0, &at.1).await?;
        if self.meta.as_ref().map(|o| o.profile.spec) != Some(m.profile.spec) {
            tracing::info!(block = number, "{}", m.profile.describe());
        }
        self.meta = Some(Arc::new(m));
        self.refresh_meta = false;
        Ok(true)
    }

    /// The parameter change to put in force at this block: one pending in the store, if
    /// the block is an epoch block and the monitor follows the recorded parameters.
    fn pending_params(
        &self,
        rec: &crate::store::BlockRecord,
    ) -> Result<Option<Vec<Param>>, IngestError> {
        if !self.recorded_params || rec.decision.is_none() {
            return Ok(None);
        }
        Ok(self
            .store
            .param_state()?
            .pending
            .filter(|p| *p != self.ctx.params))
    }

    pub(super) async fn apply(
        &mut self,
        client: &ChainClient,
        number: u64,
        hash: Hash,
        events: &[u8],
        decoded: Option<&Decoded>,
        batch: bool,
    ) -> Result<(), IngestError> {
        let parent = match self.last {
            Some((n, h)) if n + 1 == number => Some(h),
            _ => None,
        };
        if self.meta.is_none() || self.refresh_meta {
            self.load_meta(client, number, Some(hash), parent).await?;
        }
        let meta = self.meta.clone().expect("metadata was just set");
        // Decoded once, here or by the read-ahead with this same metadata, for every
        // processing of the block below (the fallback, a parameter change).
        let events = match decoded.and_then(|d| d.for_meta(&meta)) {
            Some(e) => {
                self.timings.decoded_ahead += 1;
                e
            }
            None => Arc::new(events::decode(&meta, events)?),
        };
        if let Some(r) = &self.ctx.registry
            && let Err(e) = r.sync(&self.store)
        {
            tracing::error!("policy state: {e:#}; the policies in service stay as they are");
        }
        let t0 = std::time::Instant::now();
        let run = |fallback| {
            process(
                client,
                &meta,
                &self.ctx,
                &self.tracker,
                number,
                hash,
                parent,
                &events,
                fallback,
            )
        };
        let (rec, tracker, code_updated) = match run(None).await {
            Err(IngestError::Policy(e)) if self.fallback.is_some() => {
                self.metrics.policy_failures.fetch_add(1, Ordering::Relaxed);
                tracing::error!("block #{number}: {e}; the built-in policy processes it instead");
                run(self.fallback.clone()).await?
            }
            r => r?,
        };
        // A parameter change pending in the store goes into force at an epoch block: the
        // block is computed again with the new parameters and written with the change.
        let (mut rec, tracker, code_updated) = match self.pending_params(&rec)? {
            Some(next) => {
                let old = std::mem::replace(&mut self.ctx.params, next);
                let again = process_again(
                    client,
                    &meta,
                    &self.ctx,
                    &self.tracker,
                    self.fallback.clone(),
                    &self.metrics,
                    number,
                    hash,
                    parent,
                    &events,
                )
                .await;
                match again {
                    Ok(mut r) => {
                        tracing::info!(block = number, "the pending parameter change is in force");
                        r.0.param_activation = Some(crate::store::params_json(&self.ctx.params));
                        r
                    }
                    Err(e) => {
                        self.ctx.params = old;
                        return Err(e);
                    }
                }
            }
            None => (rec, tracker, code_updated),
        };
        if rec.activation.is_some()
            && let Some(r) = &self.ctx.registry
            && let Some(p) = r.pending()
        {
            r.promoted(p);
        }
        let t1 = std::time::Instant::now();
        let is_epoch = !(rec.attributions.is_empty() && rec.epochs.is_empty());
        if let (Some(keep), Some(_)) = (self.cfg.ledger_history_blocks, &rec.decision) {
            rec.prune_ledger_history_before = Some(number.saturating_sub(keep));
        }
        if batch {
            self.pending.push(rec);
        } else {
            self.store.apply_block(&rec)?;
            self.metrics.wrote();
        }
        let t2 = std::time::Instant::now();
        let t = &mut self.timings;
        t.blocks += 1;
        self.metrics.blocks.fetch_add(1, Ordering::Relaxed);
        self.metrics.last_block.store(number, Ordering::Relaxed);
        if is_epoch {
            self.metrics.epochs.fetch_add(1, Ordering::Relaxed);
            self.metrics
                .epoch_nanos
                .fetch_add((t2 - t0).as_nanos() as u64, Ordering::Relaxed);
            t.epochs += 1;
            t.process_epoch += t1 - t0;
            t.store_epoch += t2 - t1;
        } else {
            t.process_other += t1 - t0;
            t.store_other += t2 - t1;
        }
        self.tracker = tracker;
        self.last = Some((number, hash));
        if code_updated {
            self.refresh_meta = true;
        }
        if !batch && let Some(p) = self.progress.as_mut() {
            p.block(number);
        }
        Ok(())
    }
}

/// Processes a block again (with the parameters now in the context); the built-in policy
/// answers when the one in service fails (and `fallback` is set).
#[allow(clippy::too_many_arguments)]
async fn process_again(
    client: &ChainClient,
    meta: &ChainMeta,
    ctx: &Context,
    tracker: &Tracker,
    fallback: Option<Arc<Policy>>,
    metrics: &MonitorMetrics,
    number: u64,
    hash: Hash,
    parent: Option<Hash>,
    events: &BlockEvents,
) -> Result<(crate::store::BlockRecord, Tracker, bool), IngestError> {
    let run = |fallback| {
        process(
            client, meta, ctx, tracker, number, hash, parent, events, fallback,
        )
    };
    match run(None).await {
        Err(IngestError::Policy(e)) if fallback.is_some() => {
            metrics.policy_failures.fetch_add(1, Ordering::Relaxed);
            tracing::error!("block #{number}: {e}; the built-in policy processes it instead");
            run(fallback).await
        }
        r => r,
    }
}
