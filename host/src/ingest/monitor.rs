//! The monitor: follows finalized blocks into the store. On start (and after every
//! reconnect) it resumes at checkpoint + 1, catches up with pipelined requests (block
//! hashes in batches, `System.Events` reads in flight while earlier blocks are written),
//! then follows the finalized-heads subscription, one events read per block. Transport
//! errors reconnect with exponential backoff; nothing is ever skipped.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use futures::StreamExt;
use tokio::sync::watch;

use super::IngestError;
use super::polling::{Follow, blocks_to_next_epoch, poll_interval};
use super::processor::{Context, Tracker, process};
use crate::chain::{
    ChainClient, ChainError, ChainMeta, Hash, RpcStats, header_hash, hex0x, parse_hash,
};
use crate::policy::{Param, Policy};
use crate::registry::Registry;
use crate::store::Store;
use std::sync::atomic::{AtomicU64, Ordering};

/// Where an empty store starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartAt {
    /// At the finalized head when the monitor starts.
    Head,
    /// At this block (backfill).
    Block(u64),
}

/// How to run a monitor.
#[derive(Debug, Clone)]
pub struct MonitorConfig {
    pub url: String,
    pub netuid: u16,
    pub db: PathBuf,
    pub start: StartAt,
    /// Stop after this block (tests, benchmarks); None follows forever.
    pub until: Option<u64>,
    /// Stop at the finalized head instead of following.
    pub follow: bool,
    /// Events reads in flight during catch-up.
    pub concurrency: usize,
    /// Blocks per hash batch during catch-up.
    pub chunk: u64,
    /// Longest wait between reconnect attempts.
    pub max_backoff: Duration,
    /// Coldkeys to track besides the neurons' owners (nominators, holders of interest).
    pub track_coldkeys: Vec<[u8; 32]>,
    /// Subscribe to finalized heads, or poll paced by the next epoch.
    pub follow_mode: Follow,
    /// Keep per-step ledger history (what replays need) for this many blocks; None: all.
    pub ledger_history_blocks: Option<u64>,
}

impl MonitorConfig {
    pub fn new(url: impl Into<String>, netuid: u16, db: impl Into<PathBuf>) -> Self {
        MonitorConfig {
            url: url.into(),
            netuid,
            db: db.into(),
            start: StartAt::Head,
            until: None,
            follow: true,
            concurrency: 64,
            chunk: 512,
            max_backoff: Duration::from_secs(30),
            track_coldkeys: Vec::new(),
            follow_mode: Follow::Subscribe,
            ledger_history_blocks: None,
        }
    }
}

/// Progress reports (the CLI's progress bar).
pub trait Progress: Send {
    /// Catching up from `from` to `to`.
    fn range(&mut self, from: u64, to: u64);
    /// A block was written.
    fn block(&mut self, number: u64);
    /// Catch-up done; following.
    fn following(&mut self) {}
}

/// Where the time went (benchmarks).
#[derive(Debug, Clone, Copy, Default)]
pub struct Timings {
    pub blocks: u64,
    pub epochs: u64,
    /// SQLite time of epoch blocks / of other blocks.
    pub store_epoch: Duration,
    pub store_other: Duration,
    /// Reads and policy calls of epoch blocks (processing before the write).
    pub process_epoch: Duration,
    pub process_other: Duration,
}

/// Live figures of a running monitor (the service's `/metrics`).
#[derive(Debug, Default)]
pub struct MonitorMetrics {
    /// Blocks processed by this process.
    pub blocks: AtomicU64,
    /// The last block written.
    pub last_block: AtomicU64,
    /// The highest finalized head seen.
    pub finalized_head: AtomicU64,
    /// Epoch blocks processed and the time spent on them (reads and policy calls).
    pub epochs: AtomicU64,
    pub epoch_nanos: AtomicU64,
    /// Blocks where the policy in service failed and the built-in one processed it.
    pub policy_failures: AtomicU64,
    /// Connection errors that led to a reconnect.
    pub reconnects: AtomicU64,
    /// What the monitor is doing (a [`MonitorState`] as u8).
    pub state: std::sync::atomic::AtomicU8,
    /// When the node last reported the finalized head (ms since the Unix epoch; 0: never).
    pub head_seen_ms: AtomicU64,
    /// Errors the monitor hit (each retried transient error, and the last one).
    pub failures: AtomicU64,
    /// The latest error, until the monitor writes a block again.
    pub last_error: std::sync::Mutex<Option<String>>,
}

/// What a monitor is doing, as `/health` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MonitorState {
    /// Not started yet, or connecting for the first time.
    Starting = 0,
    /// Writing blocks between the checkpoint and the finalized head.
    CatchingUp = 1,
    /// At the finalized head, writing each block as it is finalized.
    Following = 2,
    /// Waiting to retry after an error (`last_error`).
    Retrying = 3,
    /// Ended: stopped on request or on an error that retrying cannot fix.
    Stopped = 4,
}

impl MonitorMetrics {
    pub fn state(&self) -> MonitorState {
        match self.state.load(Ordering::Relaxed) {
            1 => MonitorState::CatchingUp,
            2 => MonitorState::Following,
            3 => MonitorState::Retrying,
            4 => MonitorState::Stopped,
            _ => MonitorState::Starting,
        }
    }

    pub fn set_state(&self, s: MonitorState) {
        self.state.store(s as u8, Ordering::Relaxed);
    }

    /// The node reported `head` as finalized, now.
    pub fn saw_head(&self, head: u64) {
        self.finalized_head.fetch_max(head, Ordering::Relaxed);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        self.head_seen_ms.store(now, Ordering::Relaxed);
    }

    /// Records an error (counted; kept as the latest until a block is written again).
    pub fn failed(&self, error: &str) {
        self.failures.fetch_add(1, Ordering::Relaxed);
        *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(error.to_string());
    }

    /// A block was written: the latest error is over.
    pub fn wrote(&self) {
        if let Ok(mut e) = self.last_error.lock()
            && e.is_some()
        {
            *e = None;
        }
    }

    /// The latest error, if no block was written since.
    pub fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// A monitor running on a tokio task: it hands the monitor back with its result.
pub type MonitorTask = tokio::task::JoinHandle<(Monitor, Result<(), IngestError>)>;

/// Follows the chain into the store.
pub struct Monitor {
    timings: Timings,
    cfg: MonitorConfig,
    ctx: Context,
    store: Store,
    tracker: Tracker,
    stats: Arc<RpcStats>,
    meta: Option<Arc<ChainMeta>>,
    refresh_meta: bool,
    last: Option<(u64, Hash)>,
    progress: Option<Box<dyn Progress>>,
    stop: watch::Receiver<bool>,
    stop_tx: Arc<watch::Sender<bool>>,
    reconnects: u64,
    /// Processed blocks not yet written (catch-up writes them in batches).
    pending: Vec<crate::store::BlockRecord>,
    /// Answers a block when the policy in service fails on it (the built-in policy).
    fallback: Option<Arc<Policy>>,
    metrics: Arc<MonitorMetrics>,
    /// Follows the parameters recorded in the store (a change goes into force at the next
    /// epoch block); see [`Monitor::with_recorded_params`].
    recorded_params: bool,
}

/// Blocks per transaction while catching up.
const BATCH: usize = 64;

/// Stops a running monitor after the block it is writing.
#[derive(Clone)]
pub struct StopHandle(Arc<watch::Sender<bool>>);

impl StopHandle {
    pub fn stop(&self) {
        let _ = self.0.send(true);
    }
}

impl Monitor {
    /// Opens the store and checks the parameters with the policy (defaults filled in).
    pub fn new(
        cfg: MonitorConfig,
        policy: Arc<ArcSwap<Policy>>,
        params: Vec<Param>,
    ) -> Result<Self, IngestError> {
        let store = Store::open(&cfg.db)?;
        // Checked here, but kept as configured: each policy in service (it can be swapped)
        // fills in its own defaults.
        policy.load().resolve_params(&params)?;
        let tracker = Tracker::load(&store, cfg.netuid)?;
        if let Some(n) = store.meta("netuid")?
            && n != cfg.netuid.to_string()
        {
            return Err(IngestError::Config(format!(
                "database {} tracks netuid {n}, not {}; use another --db",
                cfg.db.display(),
                cfg.netuid
            )));
        }
        let last = match store.checkpoint()? {
            Some(cp) => Some((cp.block, parse_hash(&cp.hash)?)),
            None => None,
        };
        let (stop_tx, stop) = watch::channel(false);
        Ok(Monitor {
            ctx: Context {
                netuid: cfg.netuid,
                policy,
                params,
                extra_coldkeys: cfg.track_coldkeys.clone(),
                registry: None,
            },
            cfg,
            store,
            tracker,
            stats: RpcStats::new(),
            meta: None,
            refresh_meta: false,
            last,
            progress: None,
            stop,
            stop_tx: Arc::new(stop_tx),
            reconnects: 0,
            timings: Timings::default(),
            pending: Vec::new(),
            fallback: None,
            metrics: Arc::new(MonitorMetrics::default()),
            recorded_params: false,
        })
    }

    /// Computes with the parameters the store records as in force (when it records any),
    /// and puts a parameter change the store has pending into force at the next epoch
    /// block: that block is computed with the new parameters and the change is written
    /// with it, in the same transaction.
    pub fn with_recorded_params(mut self) -> Result<Self, IngestError> {
        if let Some(p) = self.store.param_state()?.in_force {
            self.ctx.policy.load().resolve_params(&p)?;
            self.ctx.params = p;
        }
        self.recorded_params = true;
        Ok(self)
    }

    /// The parameters the monitor computes with now.
    pub fn params(&self) -> &[Param] {
        &self.ctx.params
    }

    /// Follows the store's policy lifecycle (activation at epoch boundaries, shadow runs,
    /// changes by other processes); when the policy in service fails on a block, `fallback`
    /// processes it instead and `metrics` counts it.
    pub fn with_registry(
        mut self,
        registry: Arc<Registry>,
        fallback: Arc<Policy>,
        metrics: Arc<MonitorMetrics>,
    ) -> Self {
        self.ctx.policy = registry.active_slot().clone();
        self.ctx.registry = Some(registry);
        self.fallback = Some(fallback);
        self.metrics = metrics;
        self
    }

    /// The shadow candidate's own ledger chain, if one runs.
    pub fn shadow_chain(&self) -> Option<&super::shadow::ShadowChain> {
        self.tracker.shadow.as_ref()
    }

    /// The live figures (shared; they keep counting while the monitor runs).
    pub fn metrics(&self) -> Arc<MonitorMetrics> {
        self.metrics.clone()
    }

    /// Requests counted across reconnects.
    pub fn stats(&self) -> Arc<RpcStats> {
        self.stats.clone()
    }

    pub fn set_progress(&mut self, p: Box<dyn Progress>) {
        self.progress = Some(p);
    }

    pub fn stop_handle(&self) -> StopHandle {
        StopHandle(self.stop_tx.clone())
    }

    /// The last written block.
    pub fn last_block(&self) -> Option<u64> {
        self.last.map(|l| l.0)
    }

    pub fn timings(&self) -> Timings {
        self.timings
    }

    /// Times the connection was re-established.
    pub fn reconnects(&self) -> u64 {
        self.reconnects
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    fn done(&self) -> bool {
        *self.stop.borrow()
            || matches!((self.cfg.until, self.last), (Some(u), Some((n, _))) if n >= u)
    }

    /// Runs until `until`, a stop request, or a permanent error; reconnects on transport errors.
    pub async fn run(&mut self) -> Result<(), IngestError> {
        let mut backoff = Duration::from_millis(100);
        loop {
            let before = self.last;
            match self.session().await {
                Ok(()) => return Ok(()),
                Err(e) if e.is_transient() => {
                    if self.last != before {
                        backoff = Duration::from_millis(100);
                    }
                    if self.last != before || backoff <= Duration::from_millis(100) {
                        tracing::warn!("{e}; reconnecting in {backoff:?}");
                    } else {
                        // Failing again without progress: say what to do.
                        let advice = match &e {
                            IngestError::Chain(_) => {
                                "check that the node is up and reachable at the configured \
                                 endpoint"
                            }
                            _ => "another process holds the database's write lock",
                        };
                        tracing::error!(
                            "{e}; {advice}; retrying in {backoff:?}, the monitor resumes at \
                             its checkpoint"
                        );
                    }
                    self.metrics.set_state(MonitorState::Retrying);
                    self.metrics.failed(&e.to_string());
                    tokio::time::sleep(backoff).await;
                    self.reload()?;
                    backoff = (backoff * 2).min(self.cfg.max_backoff);
                    self.reconnects += 1;
                    self.metrics.reconnects.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Resumes from what the store holds (after an error, memory may be ahead of it: a
    /// batch that failed to write); the policy roles are re-read from the store too.
    fn reload(&mut self) -> Result<(), IngestError> {
        self.pending.clear();
        self.tracker = Tracker::load(&self.store, self.cfg.netuid)?;
        self.last = match self.store.checkpoint()? {
            Some(cp) => Some((cp.block, parse_hash(&cp.hash)?)),
            None => None,
        };
        if let Some(r) = &self.ctx.registry {
            r.resync();
        }
        Ok(())
    }

    /// Runs on a tokio task; the result when it stops.
    pub fn spawn(mut self) -> (StopHandle, MonitorTask) {
        let h = self.stop_handle();
        (
            h,
            tokio::spawn(async move {
                let r = self.run().await;
                (self, r)
            }),
        )
    }

    async fn session(&mut self) -> Result<(), IngestError> {
        if self.done() {
            return Ok(());
        }
        let client = ChainClient::connect(&self.cfg.url, self.stats.clone()).await?;
        self.store
            .bind(&hex0x(&client.genesis()), self.cfg.netuid)?;
        self.meta = None;
        loop {
            let (head, _) = client.finalized_head().await?;
            self.metrics.saw_head(head);
            let next = match self.last {
                Some((n, _)) => n + 1,
                None => match self.cfg.start {
                    StartAt::Head => head,
                    StartAt::Block(b) => b,
                },
            };
            if next == 0 {
                return Err(IngestError::Config(
                    "cannot start at block 0 (it has no parent state); start at 1 or later".into(),
                ));
            }
            let target = self.cfg.until.map_or(head, |u| u.min(head));
            if next <= target {
                self.metrics.set_state(MonitorState::CatchingUp);
                if let Some(p) = self.progress.as_mut() {
                    p.range(next, target);
                }
                self.catch_up(&client, next, target).await?;
            }
            if self.done() {
                return Ok(());
            }
            if !self.cfg.follow {
                return Ok(());
            }
            if next > target || target == head {
                break;
            }
        }
        self.metrics.set_state(MonitorState::Following);
        if let Some(p) = self.progress.as_mut() {
            p.following();
        }
        if let Follow::Poll { block_time, max } = self.cfg.follow_mode {
            return self.poll(&client, block_time, max).await;
        }
        let mut sub = client.subscribe_finalized().await?;
        loop {
            if self.done() {
                return Ok(());
            }
            let mut stop = self.stop.clone();
            let item = tokio::select! {
                h = sub.next() => h,
                _ = stop.changed() => return Ok(()),
            };
            let header = match item {
                None => {
                    return Err(ChainError::Connection {
                        url: self.cfg.url.clone(),
                        message: "the finalized-heads subscription ended".into(),
                    }
                    .into());
                }
                Some(Err(e)) => {
                    return Err(crate::chain::rpc::classify(
                        &self.cfg.url,
                        "chain_finalizedHead",
                        e,
                    )
                    .into());
                }
                Some(Ok(h)) => h,
            };
            let n = header.number;
            self.metrics.saw_head(n);
            let Some((cp, cp_hash)) = self.last else {
                self.catch_up(
                    &client,
                    match self.cfg.start {
                        StartAt::Block(b) => b,
                        StartAt::Head => n,
                    },
                    n,
                )
                .await?;
                continue;
            };
            if n <= cp {
                continue;
            }
            let target = self.cfg.until.map_or(n, |u| u.min(n));
            if n == cp + 1 && header.parent_hash.0 == cp_hash && target == n {
                let hash = header_hash(&header);
                let ev = client.events(n, &hash).await?;
                self.apply(&client, n, hash, &ev, false).await?;
            } else {
                self.catch_up(&client, cp + 1, target).await?;
            }
        }
    }

    /// Poll mode: waits (shorter near the next epoch), queries the finalized head, catches
    /// up on every block since the checkpoint; until stopped.
    async fn poll(
        &mut self,
        client: &ChainClient,
        block_time: Duration,
        max: Duration,
    ) -> Result<(), IngestError> {
        loop {
            let now = self.last.map_or(0, |l| l.0);
            let last_epoch = self.store.last_epoch(self.cfg.netuid)?;
            let wait = poll_interval(
                blocks_to_next_epoch(last_epoch.as_ref(), now),
                block_time,
                max,
            );
            let mut stop = self.stop.clone();
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.changed() => return Ok(()),
            }
            if self.done() {
                return Ok(());
            }
            let (head, _) = client.finalized_head().await?;
            self.metrics.saw_head(head);
            let target = self.cfg.until.map_or(head, |u| u.min(head));
            let from = match (self.last, self.cfg.start) {
                (Some((cp, _)), _) => cp + 1,
                (None, StartAt::Block(b)) => b,
                (None, StartAt::Head) => target,
            };
            if target >= from {
                self.catch_up(client, from, target).await?;
            }
            if self.done() {
                return Ok(());
            }
        }
    }

    /// Processes `from..=to` in order, with events reads pipelined and writes batched;
    /// whatever was processed is written before returning, also on error.
    async fn catch_up(
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
    fn flush(&mut self) -> Result<(), IngestError> {
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
        let mut n = from;
        while n <= to {
            if *self.stop.borrow() {
                return Ok(());
            }
            let end = (n + self.cfg.chunk - 1).min(to);
            let hashes = client.block_hashes(n, end).await?;
            let mut blocks = vec![];
            for (i, h) in hashes.into_iter().enumerate() {
                let num = n + i as u64;
                blocks.push((num, h.ok_or(ChainError::UnknownBlock(num))?));
            }
            let c = client.clone();
            let mut stream = futures::stream::iter(blocks)
                .map(move |(num, h)| {
                    let c = c.clone();
                    async move { c.events(num, &h).await.map(|ev| (num, h, ev)) }
                })
                .buffered(self.cfg.concurrency.max(1));
            while let Some(item) = stream.next().await {
                let (num, h, ev) = item?;
                self.apply(client, num, h, &ev, true).await?;
                if *self.stop.borrow() {
                    return Ok(());
                }
            }
            n = end + 1;
        }
        Ok(())
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

    async fn apply(
        &mut self,
        client: &ChainClient,
        number: u64,
        hash: Hash,
        events: &[u8],
        batch: bool,
    ) -> Result<(), IngestError> {
        let parent = match self.last {
            Some((n, h)) if n + 1 == number => Some(h),
            _ => None,
        };
        if self.meta.is_none() || self.refresh_meta {
            // Block b was executed by the runtime in the state at b-1: the block that
            // carries an upgrade (`System.CodeUpdated`) still ran the old one, and its
            // events are encoded with the old metadata, though the node already answers
            // the new version at b. So metadata is read at the parent.
            let at = match parent {
                Some(h) => (number - 1, h),
                None if number > 0 => match client
                    .block_hashes(number - 1, number - 1)
                    .await?
                    .pop()
                    .flatten()
                {
                    Some(h) => (number - 1, h),
                    None => (number, hash),
                },
                None => (number, hash),
            };
            let m = client.metadata(at.0, &at.1).await?;
            if self.meta.as_ref().map(|o| o.profile.spec) != Some(m.profile.spec) {
                tracing::info!(block = number, "{}", m.profile.describe());
            }
            self.meta = Some(Arc::new(m));
            self.refresh_meta = false;
        }
        let meta = self.meta.clone().expect("metadata was just set");
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
                events,
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
                    events,
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
        if self.pending.len() >= BATCH {
            self.flush()?;
        } else if !batch && let Some(p) = self.progress.as_mut() {
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
    events: &[u8],
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
