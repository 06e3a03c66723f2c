//! The monitor: owns following finalized blocks into the store, and its lifecycle. On
//! start (and after every reconnect) it resumes at checkpoint + 1, catches up to the
//! finalized head (the pipelined catch-up: `backfill.rs`), then follows the finalized-heads
//! subscription (or polls: `polling.rs`), one events read per block, each block applied
//! (`apply.rs`) and written on its own. Transport errors reconnect with exponential
//! backoff; nothing is ever skipped. Its live figures: `status.rs`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use tokio::sync::watch;

use super::IngestError;
use super::polling::{Follow, blocks_to_next_epoch, poll_interval};
use super::processor::{Context, Tracker};
use crate::chain::{
    ChainClient, ChainError, ChainMeta, Hash, RpcStats, header_hash, hex0x, parse_hash,
};
use crate::policy::{Param, Policy};
use crate::registry::Registry;
use crate::store::Store;
use std::sync::atomic::Ordering;

pub use super::status::{MonitorMetrics, MonitorState};

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
    /// Blocks per hash batch during catch-up; also how many fetched blocks may wait for
    /// processing (the read-ahead's lead).
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
    /// State reads the processing found already started by the catch-up's read-ahead.
    pub reads_ahead: u64,
    /// Blocks whose events the processing took decoded from the read-ahead.
    pub decoded_ahead: u64,
}

/// A monitor running on a tokio task: it hands the monitor back with its result.
pub type MonitorTask = tokio::task::JoinHandle<(Monitor, Result<(), IngestError>)>;

/// Follows the chain into the store.
pub struct Monitor {
    pub(super) timings: Timings,
    pub(super) cfg: MonitorConfig,
    pub(super) ctx: Context,
    pub(super) store: Store,
    pub(super) tracker: Tracker,
    pub(super) stats: Arc<RpcStats>,
    pub(super) meta: Option<Arc<ChainMeta>>,
    pub(super) refresh_meta: bool,
    pub(super) last: Option<(u64, Hash)>,
    pub(super) progress: Option<Box<dyn Progress>>,
    pub(super) stop: watch::Receiver<bool>,
    pub(super) stop_tx: Arc<watch::Sender<bool>>,
    pub(super) reconnects: u64,
    /// Processed blocks not yet written (catch-up writes them in batches).
    pub(super) pending: Vec<crate::store::BlockRecord>,
    /// Answers a block when the policy in service fails on it (the built-in policy).
    pub(super) fallback: Option<Arc<Policy>>,
    pub(super) metrics: Arc<MonitorMetrics>,
    /// Follows the parameters recorded in the store (a change goes into force at the next
    /// epoch block); see [`Monitor::with_recorded_params`].
    pub(super) recorded_params: bool,
}

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

    pub(super) fn done(&self) -> bool {
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
                self.apply(&client, n, hash, &ev, None, false).await?;
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
}
