//! `VestingSystem`: what a validator embeds. It owns the policy in service (hot-swappable),
//! the monitor on its background thread, and a read connection to the store; it applies
//! the latest multipliers to the validator's weights on demand.

use super::VestingConfig;
use crate::chain::endpoint;
use crate::ingest::{Monitor, MonitorConfig, StartAt, StopHandle};
use crate::policy::*;
use crate::store::{HolderStats, MultiplierRow, Store};
use arc_swap::ArcSwap;
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Counters the service exposes (stats, `/metrics`).
#[derive(Default, Debug)]
pub struct Metrics {
    pub apply_requests: AtomicU64,
    pub apply_refused: AtomicU64,
    /// Calls where the policy in service failed and the fallback answered.
    pub policy_failures: AtomicU64,
    pub apply_nanos: AtomicU64,
}

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

struct Background {
    stop: StopHandle,
    thread: JoinHandle<Result<(), String>>,
}

/// The vesting system of a validator.
pub struct VestingSystem {
    config: VestingConfig,
    engine: PolicyEngine,
    policy: Arc<ArcSwap<Policy>>,
    /// Answers when the policy in service fails: the built-in default policy.
    fallback: Arc<Policy>,
    params: Vec<Param>,
    /// The policy before the last activation, for rollback.
    previous: Mutex<Option<Arc<Policy>>>,
    reader: Mutex<Option<Store>>,
    background: Mutex<Option<Background>>,
    metrics: Arc<Metrics>,
}

impl VestingSystem {
    /// Loads the policy and checks the configuration; nothing touches the chain yet.
    pub fn new(config: VestingConfig) -> anyhow::Result<Self> {
        let engine = PolicyEngine::new(Limits::default(), None)?;
        let fallback = engine.load(DEFAULT_POLICY_WASM)?;
        let policy = match &config.policy {
            Some(path) => {
                let wasm = std::fs::read(path)
                    .map_err(|e| anyhow::anyhow!("cannot read policy {}: {e}", path.display()))?;
                engine.load(&wasm)?
            }
            None => fallback.clone(),
        };
        // The configuration's parameters, not a list resolved against one policy: every
        // policy in service fills in its own defaults (a swapped-in policy may declare
        // other parameters than the first one).
        let params = config.params()?;
        policy.resolve_params(&params)?;
        Ok(VestingSystem {
            config,
            engine,
            policy: Arc::new(ArcSwap::new(policy)),
            fallback,
            params,
            previous: Mutex::new(None),
            reader: Mutex::new(None),
            background: Mutex::new(None),
            metrics: Arc::new(Metrics::default()),
        })
    }

    pub fn config(&self) -> &VestingConfig {
        &self.config
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    pub fn engine(&self) -> &PolicyEngine {
        &self.engine
    }

    /// The policy in service.
    pub fn policy(&self) -> Arc<Policy> {
        self.policy.load_full()
    }

    /// Puts `policy` in service at once; calls in flight finish on the old one.
    pub fn activate(&self, policy: Arc<Policy>) {
        let old = self.policy.swap(policy);
        *self.previous.lock().unwrap_or_else(|e| e.into_inner()) = Some(old);
    }

    /// Checks a policy component (contract, imports, typed refusals, a dry run with the
    /// service's parameters) and activates it if every check passes; the report either way.
    pub fn install(
        &self,
        wasm: &[u8],
    ) -> anyhow::Result<(crate::policy::check::Report, Option<Arc<Policy>>)> {
        let report = crate::policy::check::check(&self.engine, wasm);
        if !report.passed() {
            return Ok((report, None));
        }
        let policy = self.engine.load(wasm)?;
        policy.resolve_params(&self.params)?;
        self.activate(policy.clone());
        tracing::info!("policy {} activated", policy.label());
        Ok((report, Some(policy)))
    }

    /// Puts the policy before the last activation back in service.
    pub fn rollback(&self) -> anyhow::Result<Arc<Policy>> {
        let previous = self
            .previous
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let Some(previous) = previous else {
            anyhow::bail!("there is no previous policy to roll back to");
        };
        self.activate(previous.clone());
        tracing::info!("rolled back to policy {}", previous.label());
        Ok(previous)
    }

    fn monitor_config(&self) -> anyhow::Result<MonitorConfig> {
        let url = endpoint::resolve(
            Some(&self.config.network),
            self.config.chain_endpoint.as_deref(),
        )?;
        let mut cfg = MonitorConfig::new(url, self.config.netuid, &self.config.db_path);
        cfg.max_backoff = Duration::from_secs(self.config.query_interval_seconds.max(1));
        if let Some(b) = self.config.start_block {
            cfg.start = StartAt::Block(b);
        }
        Ok(cfg)
    }

    /// Opens the store and, with `use_background_thread`, starts following the chain on a
    /// thread of its own (with its own async runtime); the caller is never blocked.
    pub fn initialize(&self) -> anyhow::Result<()> {
        let monitor = Monitor::new(
            self.monitor_config()?,
            self.policy.clone(),
            self.params.clone(),
        )?;
        *self.reader.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(Store::open_read_only(&self.config.db_path)?);
        if self.config.use_background_thread {
            let stop = monitor.stop_handle();
            let thread = std::thread::Builder::new()
                .name("vesting-monitor".into())
                .spawn(move || {
                    let rt = tokio::runtime::Builder::new_multi_thread()
                        .worker_threads(2)
                        .enable_all()
                        .build()
                        .map_err(|e| e.to_string())?;
                    let mut monitor = monitor;
                    rt.block_on(monitor.run()).map_err(|e| e.to_string())
                })?;
            *self.background.lock().unwrap_or_else(|e| e.into_inner()) =
                Some(Background { stop, thread });
        }
        Ok(())
    }

    /// Without a background thread: ingest up to the finalized head, then return.
    pub fn update(&self) -> anyhow::Result<()> {
        let mut cfg = self.monitor_config()?;
        cfg.follow = false;
        let mut monitor = Monitor::new(cfg, self.policy.clone(), self.params.clone())?;
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
        self.read(|s| s.latest_multipliers())
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
        let multipliers = self
            .multipliers()?
            .into_iter()
            .map(|m| MinerMultiplier {
                uid: m.uid,
                hotkey: m.hotkey,
                holder: m.holder,
                multiplier: m.multiplier,
                held_factor: m.held_factor,
                duration_factor: m.duration_factor,
                eligible: m.eligible,
            })
            .collect();
        let input = WeightsInput {
            uids: uids.to_vec(),
            weights: weights.to_vec(),
            hotkeys: hotkeys.to_vec(),
            multipliers,
        };
        let policy = self.policy.load_full();
        let out = match policy.apply_weights(&self.params, &input) {
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
                    .apply_weights(&self.params, &input)
                    .map_err(Into::into)
            }
        };
        self.metrics
            .apply_nanos
            .fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
        out
    }

    /// Holders' latest metrics.
    pub fn holders(&self) -> anyhow::Result<Vec<HolderStats>> {
        self.read(|s| s.holder_stats())
    }

    /// Statistics: the policy, progress, and every miner's multiplier and holding.
    pub fn get_vesting_stats(&self) -> anyhow::Result<VestingStats> {
        let multipliers = self.multipliers()?;
        let holders = self.holders()?;
        let last_block = self.read(|s| s.checkpoint())?.map(|c| c.block);
        let epochs = self.read(|s| s.epochs(self.config.netuid))?.len();
        let policy = self.policy.load_full();
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
            netuid: self.config.netuid,
            policy: policy.label(),
            policy_sha256: policy.sha256_hex(),
            last_block,
            epochs,
            multipliers_block: multipliers.first().map(|m| m.block),
            miners,
            apply_requests: self.metrics.apply_requests.load(Ordering::Relaxed),
            policy_failures: self.metrics.policy_failures.load(Ordering::Relaxed),
            monitor_running: self
                .background
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .as_ref()
                .is_some_and(|b| !b.thread.is_finished()),
        })
    }

    /// Stops the monitor after the block it is writing and waits for its thread.
    pub fn shutdown(&self) -> anyhow::Result<()> {
        let background = self
            .background
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(b) = background {
            b.stop.stop();
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
