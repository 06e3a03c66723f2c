//! `VestingSystem`: what a validator embeds. It owns the policy in service (hot-swappable),
//! the monitor on its background thread, and a read connection to the store; it applies
//! the latest multipliers to the validator's weights on demand.

use super::VestingConfig;
use crate::ingest::{Monitor, MonitorConfig, MonitorMetrics, StopHandle};
use crate::policy::*;
use crate::registry::{InstallReport, Registry, install_check};
use crate::store::{HolderStats, MultiplierRow, PolicyRow, PolicyState, Store};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

mod health;
use super::stats::VestingStats;
pub use health::Health;

/// Counters the service exposes (stats, `/metrics`).
#[derive(Default, Debug)]
pub struct Metrics {
    pub apply_requests: AtomicU64,
    pub apply_refused: AtomicU64,
    /// Calls where the policy in service failed and the fallback answered.
    pub policy_failures: AtomicU64,
    pub apply_nanos: AtomicU64,
    /// The monitor's figures: blocks, finalized head, epoch time, policy failures.
    pub monitor: Arc<MonitorMetrics>,
    /// Times the service started a new monitor after an error it can retry.
    pub monitor_restarts: AtomicU64,
    /// Weight requests refused because the multipliers were stale.
    pub apply_stale_refused: AtomicU64,
    /// The HTTP server's figures.
    pub http: HttpMetrics,
}

/// What the HTTP server counts (`/metrics`).
#[derive(Default, Debug)]
pub struct HttpMetrics {
    /// Connections open now.
    pub connections: AtomicU64,
    /// Idle connections closed to make room for a new one (`api_max_connections`).
    pub evicted: AtomicU64,
    /// Connections closed at once: every open one was busy with a request.
    pub refused: AtomicU64,
    /// Requests answered 503 at once: `api_max_requests` were in progress.
    pub shed: AtomicU64,
    /// Requests holding one of the `api_max_requests` slots now.
    pub in_progress: AtomicU64,
    /// Requests answered 408: not read and answered within the request timeout.
    pub timeouts: AtomicU64,
    /// Time per request by route, from the router's first look at it to its answer's
    /// headers (`vesting_http_request_duration_seconds`).
    pub durations: super::durations::RequestDurations,
}

struct Background {
    /// Set to stop: the supervisor starts no new monitor.
    stop: Arc<AtomicBool>,
    /// The monitor running now, if any.
    current: Arc<Mutex<Option<StopHandle>>>,
    thread: JoinHandle<Result<(), String>>,
}

/// The latest multipliers as read at a checkpoint.
type Latest = (Option<crate::store::Checkpoint>, Arc<Vec<MultiplierRow>>);

/// The vesting system of a validator.
pub struct VestingSystem {
    config: VestingConfig,
    /// The policies in service (active, pending, shadow), mirrored from the store.
    registry: Arc<Registry>,
    /// Answers when the policy in service fails: the built-in default policy.
    fallback: Arc<Policy>,
    params: Vec<Param>,
    /// A read-write handle for policy lifecycle changes (the monitor has its own).
    writer: Mutex<Store>,
    reader: Mutex<Option<Store>>,
    /// The latest multipliers and the checkpoint they were read at.
    latest: Mutex<Option<Latest>>,
    background: Mutex<Option<Background>>,
    metrics: Arc<Metrics>,
    started: std::time::Instant,
}

impl VestingSystem {
    /// Opens the store and puts a policy in service: the configured one (`policy`), else
    /// the store's active policy, else the built-in default. Checks the configuration with
    /// it; nothing touches the chain yet.
    pub fn new(config: VestingConfig) -> anyhow::Result<Self> {
        let engine = PolicyEngine::new(Limits::default(), default_cache_dir())?;
        let fallback = engine.load(DEFAULT_POLICY_WASM)?;
        let configured = match &config.policy {
            Some(path) => Some(
                std::fs::read(path)
                    .map_err(|e| anyhow::anyhow!("cannot read policy {}: {e}", path.display()))?,
            ),
            None => None,
        };
        let store = Store::open(&config.db_path)?;
        let registry = Arc::new(Registry::new(engine, fallback.clone()));
        let policy = registry.start(&store, configured.as_deref())?;
        // The configuration's parameters, not a list resolved against one policy: every
        // policy in service fills in its own defaults (a swapped-in policy may declare
        // other parameters than the first one).
        // ... or those the database's history was computed with (checked when the monitor
        // starts: `wiring::params_in_force`).
        let params = super::wiring::params_recorded_or_configured(&store, &config, &policy)?;
        let system = VestingSystem {
            config,
            registry,
            fallback,
            params,
            writer: Mutex::new(store),
            reader: Mutex::new(None),
            latest: Mutex::new(None),
            background: Mutex::new(None),
            metrics: Arc::new(Metrics::default()),
            started: std::time::Instant::now(),
        };
        // The chain settings are checked now, not when the monitor starts.
        system.monitor_config()?;
        Ok(system)
    }

    pub fn config(&self) -> &VestingConfig {
        &self.config
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    pub fn engine(&self) -> &PolicyEngine {
        self.registry.engine()
    }

    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// The configured parameters (each policy fills in its own defaults).
    pub fn params(&self) -> &[Param] {
        &self.params
    }

    /// The policy in service.
    pub fn policy(&self) -> Arc<Policy> {
        self.registry.active()
    }

    fn lifecycle<T>(
        &self,
        f: impl FnOnce(&Store) -> anyhow::Result<T>,
    ) -> anyhow::Result<(T, PolicyState)> {
        let store = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let out = f(&store)?;
        self.registry.sync(&store)?;
        Ok((out, store.policy_state()?))
    }

    /// Checks a policy component (contract, imports, typed refusals, the conformance vectors,
    /// the configured parameters, a dry run on the store's current state) and stores it if
    /// every check passes; the report either way. Storing does not activate.
    pub fn install(&self, wasm: &[u8]) -> anyhow::Result<(InstallReport, Option<Arc<Policy>>)> {
        // The checks (compiling, the dry runs) read the store through a connection of their
        // own and hold no lock: reads and other changes go on while a policy compiles.
        let check_store = Store::open_read_only(&self.config.db_path)?;
        let report = install_check(
            self.engine(),
            wasm,
            &self.params,
            Some((&check_store, self.config.netuid)),
        );
        drop(check_store);
        if !report.passed() {
            return Ok((report, None));
        }
        let policy = self.engine().load(wasm)?;
        let store = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        crate::registry::put(
            &store,
            &policy,
            wasm,
            "checked",
            &serde_json::to_string(&report)?,
        )?;
        tracing::info!("policy {} installed", policy.label());
        Ok((report, Some(policy)))
    }

    /// Puts a stored policy (sha256, prefix or name) in service now, or at the next epoch
    /// boundary. A swap is atomic: calls in flight finish on the policy they started with.
    pub fn activate(&self, key: &str, at_next_epoch: bool) -> anyhow::Result<PolicyState> {
        // Loading (and resolving the parameters) before the switch, outside the writer's
        // lock (compiling takes a while): a policy that cannot serve is refused, the one
        // in service stays.
        let (sha, wasm) = self.read(|s| {
            let p = s.find_policy(key)?;
            let wasm = s.policy_wasm(&p.sha256)?;
            Ok((p.sha256, wasm))
        })?;
        let loaded = self.engine().load(&wasm)?;
        loaded.resolve_params(&self.params)?;
        Ok(self
            .lifecycle(|s| {
                let p = s.find_policy(&sha)?;
                if at_next_epoch {
                    s.schedule_policy(&p.sha256, "requested")?;
                } else {
                    s.activate_policy(&p.sha256, "requested")?;
                }
                Ok(())
            })?
            .1)
    }

    /// Installs (with every check) and activates at once; the report either way.
    pub fn install_and_activate(
        &self,
        wasm: &[u8],
    ) -> anyhow::Result<(InstallReport, Option<Arc<Policy>>)> {
        let (report, policy) = self.install(wasm)?;
        if let Some(p) = &policy {
            self.activate(&p.sha256_hex(), false)?;
        }
        Ok((report, policy))
    }

    /// Puts the policy before the last activation back in service.
    pub fn rollback(&self) -> anyhow::Result<Arc<Policy>> {
        self.lifecycle(|s| Ok(s.rollback_policy("requested")?))?;
        let p = self.policy();
        tracing::info!("rolled back to policy {}", p.label());
        Ok(p)
    }

    /// Runs a stored policy in shadow at every epoch (None stops it).
    pub fn shadow(&self, key: Option<&str>) -> anyhow::Result<PolicyState> {
        Ok(self
            .lifecycle(|s| {
                let sha = key.map(|k| s.find_policy(k)).transpose()?.map(|p| p.sha256);
                s.set_shadow_policy(sha.as_deref(), "requested")?;
                Ok(())
            })?
            .1)
    }

    /// The latest shadow runs with their per-miner rows, newest first.
    pub fn shadow_runs(
        &self,
        last: usize,
    ) -> anyhow::Result<Vec<(crate::store::ShadowRun, Vec<crate::store::ShadowDiff>)>> {
        self.read(|store| {
            let mut out = vec![];
            for run in store.shadow_runs(last)? {
                let diffs = store.shadow_diffs(run.block, &run.candidate)?;
                out.push((run, diffs));
            }
            Ok(out)
        })
    }

    /// The policy lifecycle log, newest first.
    pub fn policy_log(&self, last: usize) -> anyhow::Result<Vec<crate::store::PolicyLogRow>> {
        self.read(|s| s.policy_log(last))
    }

    /// The stored policies and the state.
    pub fn policies(&self) -> anyhow::Result<(Vec<PolicyRow>, PolicyState)> {
        self.read(|s| Ok((s.policies()?, s.policy_state()?)))
    }

    /// The parameters the store records as in force and the change pending for the next
    /// epoch boundary (`vesting params set`).
    pub fn param_state(&self) -> anyhow::Result<crate::store::ParamState> {
        self.read(|s| s.param_state())
    }

    fn monitor_config(&self) -> anyhow::Result<MonitorConfig> {
        super::wiring::monitor_config(&self.config)
    }

    /// Refuses parameters other than those the history was computed with (or schedules
    /// the change, or records them on a fresh database): see `wiring::params_in_force`.
    fn check_params(&self) -> anyhow::Result<()> {
        let store = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        super::wiring::params_in_force(&store, &self.config, &self.policy())?;
        Ok(())
    }

    fn monitor(&self, cfg: MonitorConfig) -> anyhow::Result<Monitor> {
        Ok(self.monitor_parts(cfg).build()?)
    }

    fn monitor_parts(&self, cfg: MonitorConfig) -> super::supervisor::MonitorParts {
        super::supervisor::MonitorParts {
            cfg,
            registry: self.registry.clone(),
            params: self.params.clone(),
            fallback: self.fallback.clone(),
            metrics: self.metrics.clone(),
            max_backoff: Duration::from_secs(self.config.query_interval_seconds.clamp(1, 30)),
        }
    }

    /// Opens the store and, with `use_background_thread`, starts following the chain on a
    /// thread of its own (with its own async runtime); the caller is never blocked. A
    /// monitor that fails on something that may pass (disk full, read-only or locked
    /// database, the node gone) is logged, counted and started again with backoff; one that
    /// fails otherwise is logged and reported (`/health` answers 503).
    pub fn initialize(&self) -> anyhow::Result<()> {
        self.check_params()?;
        let parts = self.monitor_parts(self.monitor_config()?);
        let monitor = parts.build()?;
        *self.reader.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(Store::open_read_only(&self.config.db_path)?);
        if self.config.use_background_thread {
            let stop = Arc::new(AtomicBool::new(false));
            let current = Arc::new(Mutex::new(None));
            let (s, c) = (stop.clone(), current.clone());
            let thread = std::thread::Builder::new()
                .name("vesting-monitor".into())
                .spawn(move || super::supervisor::supervise(parts, monitor, s, c))?;
            *self.background.lock().unwrap_or_else(|e| e.into_inner()) = Some(Background {
                stop,
                current,
                thread,
            });
        }
        Ok(())
    }

    /// Whether the monitor's thread is alive (following, catching up or retrying).
    pub fn monitor_running(&self) -> bool {
        self.background
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .is_some_and(|b| !b.thread.is_finished())
    }

    fn background_started(&self) -> bool {
        self.background
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }

    /// Seed 000's service shape (`await service.start()`): opens the store and starts
    /// following the chain on the background thread. The same as [`Self::initialize`].
    pub fn start(&self) -> anyhow::Result<()> {
        self.initialize()
    }

    /// Seed 000's `await service.stop()`: the same as [`Self::shutdown`].
    pub fn stop(&self) -> anyhow::Result<()> {
        self.shutdown()
    }

    /// Without a background thread: ingest up to the finalized head, then return.
    pub fn update(&self) -> anyhow::Result<()> {
        self.check_params()?;
        let mut cfg = self.monitor_config()?;
        cfg.follow = false;
        let mut monitor = self.monitor(cfg)?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        rt.block_on(monitor.run())?;
        Ok(())
    }

    fn read<T>(&self, f: impl FnOnce(&Store) -> crate::store::Result<T>) -> anyhow::Result<T> {
        let mut guard = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        if guard.is_none() {
            *guard = Some(Store::open_read_only(&self.config.db_path)?);
        }
        let store = guard
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("store is not open"))?;
        Ok(f(store)?)
    }

    /// The latest multipliers, one per uid.
    pub fn multipliers(&self) -> anyhow::Result<Vec<MultiplierRow>> {
        Ok(self.latest()?.as_ref().clone())
    }

    /// The latest multipliers, read from the store only when its checkpoint has moved
    /// since the last read (a weight request costs one single-row query otherwise).
    fn latest(&self) -> anyhow::Result<Arc<Vec<MultiplierRow>>> {
        let checkpoint = self.read(|s| s.checkpoint())?;
        if let Some((at, rows)) = &*self.latest.lock().unwrap_or_else(|e| e.into_inner())
            && *at == checkpoint
        {
            return Ok(rows.clone());
        }
        let rows = Arc::new(self.read(|s| s.latest_multipliers())?);
        *self.latest.lock().unwrap_or_else(|e| e.into_inner()) = Some((checkpoint, rows.clone()));
        Ok(rows)
    }

    /// The validator's weights by uid times the latest multipliers, normalised, with the
    /// u16 vector for `set_weights`. Bad input is refused with the policy's typed error;
    /// if the policy in service fails otherwise, the built-in policy answers.
    pub fn apply_vesting_multipliers(
        &self,
        weights: &[f64],
        uids: &[u16],
        hotkeys: &[String],
    ) -> anyhow::Result<WeightsOutput> {
        let started = std::time::Instant::now();
        self.metrics.apply_requests.fetch_add(1, Ordering::Relaxed);
        let multipliers = self.latest()?.iter().map(|m| m.to_policy()).collect();
        let input = WeightsInput {
            uids: uids.to_vec(),
            weights: weights.to_vec(),
            hotkeys: hotkeys.to_vec(),
            multipliers,
        };
        let policy = self.policy();
        // A parameter change the monitor put in force while running counts at once.
        let params = self.params_in_force();
        let out = match policy.apply_weights(&params, &input) {
            Ok(out) => Ok(out),
            Err(
                e @ CallError {
                    failure: Failure::Refused { .. },
                    ..
                },
            ) => {
                self.metrics.apply_refused.fetch_add(1, Ordering::Relaxed);
                Err(e.into())
            }
            Err(e) => {
                self.metrics.policy_failures.fetch_add(1, Ordering::Relaxed);
                tracing::error!("{e}; the built-in policy answers instead");
                self.fallback
                    .apply_weights(&params, &input)
                    .map_err(Into::into)
            }
        };
        self.metrics
            .apply_nanos
            .fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
        out
    }

    /// The parameters in force: those the store records (changed at an epoch block while
    /// running), else the configured ones.
    fn params_in_force(&self) -> Vec<Param> {
        self.read(|s| s.param_state())
            .ok()
            .and_then(|s| s.in_force)
            .unwrap_or_else(|| self.params.clone())
    }

    /// Why `hotkey` has its latest multiplier.
    pub fn explain(&self, hotkey: &str) -> anyhow::Result<super::explain::Explanation> {
        let params = self.policy().resolve_params(&self.params)?;
        let store = Store::open_read_only(&self.config.db_path)?;
        super::explain::explain(&store, hotkey, params)
    }

    /// Replays the decision at `block` (the latest epoch's when None) with the policy that
    /// made it; whether it is bit-identical.
    pub fn replay(&self, block: Option<u64>) -> anyhow::Result<super::explain::Replay> {
        let store = Store::open_read_only(&self.config.db_path)?;
        let d = store
            .decision_at_or_before(block.unwrap_or(u64::MAX >> 1))?
            .filter(|d| block.is_none_or(|b| d.block == b))
            .ok_or_else(|| match block {
                Some(b) => anyhow::anyhow!("no epoch decision is recorded at block #{b}"),
                None => anyhow::anyhow!("no epoch decision is recorded yet"),
            })?;
        super::explain::replay(&store, self.engine(), &d)
    }

    /// Replays every recorded decision, oldest first (one store handle for all).
    pub fn replay_all(&self) -> anyhow::Result<Vec<super::explain::Replay>> {
        let store = Store::open_read_only(&self.config.db_path)?;
        let mut out = vec![];
        for b in store.decision_blocks()? {
            if let Some(d) = store.decision_at_or_before(b)? {
                out.push(super::explain::replay(&store, self.engine(), &d)?);
            }
        }
        Ok(out)
    }

    /// Holders' latest metrics.
    pub fn holders(&self) -> anyhow::Result<Vec<HolderStats>> {
        self.read(|s| s.holder_stats())
    }

    /// Statistics: the policy, progress, and every miner's multiplier and holding.
    pub fn get_vesting_stats(&self) -> anyhow::Result<VestingStats> {
        let (policy, in_force) = (self.policy(), self.params_in_force());
        let netuid = self.config.netuid;
        let mut stats = self.read(|s| super::stats::of_store(s, netuid, &policy, &in_force))?;
        stats.apply_requests = self.metrics.apply_requests.load(Ordering::Relaxed);
        stats.policy_failures = self.metrics.policy_failures.load(Ordering::Relaxed)
            + self.metrics.monitor.policy_failures.load(Ordering::Relaxed);
        stats.monitor_running = self.monitor_running();
        Ok(stats)
    }

    /// Stops the monitor after the block it is writing and waits for its thread.
    pub fn shutdown(&self) -> anyhow::Result<()> {
        let background = self
            .background
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(b) = background {
            b.stop.store(true, Ordering::SeqCst);
            if let Some(h) = b.current.lock().unwrap_or_else(|e| e.into_inner()).take() {
                h.stop();
            }
            match b.thread.join() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => anyhow::bail!("the monitor stopped with an error: {e}"),
                Err(_) => anyhow::bail!("the monitor thread panicked"),
            }
        }
        *self.reader.lock().unwrap_or_else(|e| e.into_inner()) = None;
        Ok(())
    }
}

impl Drop for VestingSystem {
    fn drop(&mut self) {
        if let Err(e) = self.shutdown() {
            tracing::warn!("vesting system shutdown: {e:#}");
        }
    }
}
