//! The read commands' view of a database (`stats`, `apply`, `explain`, `replay`, `miner`,
//! `policy list`, `policy shadow` without a policy): the database opened read-only, never
//! created, never migrated, never written, so reading works beside a running writer, on a
//! read-only disk, and a mistyped `--db` is an error instead of a new empty database.
//! The policy in service is the store's active one (a configured `--policy` is used in
//! memory, not stored).

use std::path::Path;
use std::sync::Arc;

use super::lock::shown;
use crate::policy::{
    CallError, DEFAULT_POLICY_WASM, Failure, Limits, Param, Policy, PolicyEngine, WeightsInput,
    WeightsOutput, default_cache_dir,
};
use crate::registry::Registry;
use crate::service::explain::{Explanation, Replay};
use crate::service::{VestingConfig, VestingStats};
use crate::store::Store;

/// Opens an existing database read-only; a missing one is an error saying which file was
/// looked for and how to name the right one.
pub fn open(db: &Path) -> anyhow::Result<Store> {
    match std::fs::metadata(db) {
        Ok(m) if m.is_dir() => anyhow::bail!(
            "{} is a folder, not a database; point --db (or VESTING_DB, or db_path in the \
             config) at the database file",
            shown(db)
        ),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => anyhow::bail!(
            "no database at {}: read commands never create one. Point at the database \
             `vesting run`, `ingest` or `backfill` writes with --db <path> (or VESTING_DB, or \
             db_path in the --config file); the default is vesting.db in the current folder",
            shown(db)
        ),
        Err(e) => anyhow::bail!("cannot read database {}: {e}", shown(db)),
    }
    Ok(Store::open_read_only(db)?)
}

/// A database opened for reading with the policy that serves it.
pub struct Reader {
    pub config: VestingConfig,
    pub store: Store,
    pub registry: Registry,
    pub fallback: Arc<Policy>,
    pub params: Vec<Param>,
}

impl Reader {
    pub fn open(config: VestingConfig) -> anyhow::Result<Self> {
        let store = open(&config.db_path)?;
        let engine = PolicyEngine::new(Limits::default(), default_cache_dir())?;
        let fallback = engine.load(DEFAULT_POLICY_WASM)?;
        let registry = Registry::new(engine, fallback.clone());
        // The store's state, read only (a database no writer has started yet has no
        // active policy: the built-in one answers).
        registry.sync(&store)?;
        if let Some(path) = &config.policy {
            let wasm = std::fs::read(path)
                .map_err(|e| anyhow::anyhow!("cannot read policy {}: {e}", path.display()))?;
            let p = registry.engine().load(&wasm)?;
            registry.active_slot().store(p);
        }
        // The parameters the database's history is computed with, when it records them.
        let params = match store.param_state().ok().and_then(|s| s.in_force) {
            Some(p) => p,
            None => config.params()?,
        };
        registry.active().resolve_params(&params)?;
        Ok(Reader {
            config,
            store,
            registry,
            fallback,
            params,
        })
    }

    pub fn policy(&self) -> Arc<Policy> {
        self.registry.active()
    }

    /// The policy, the parameters in force, progress, and every miner's multiplier and
    /// holding.
    pub fn stats(&self) -> anyhow::Result<VestingStats> {
        Ok(crate::service::stats::of_store(
            &self.store,
            self.config.netuid,
            &self.policy(),
            &self.params,
        )?)
    }

    /// Weights by uid times the latest multipliers (the built-in policy answers if the
    /// policy in service fails other than by refusing the input).
    pub fn apply(
        &self,
        weights: &[f64],
        uids: &[u16],
        hotkeys: &[String],
    ) -> anyhow::Result<WeightsOutput> {
        let input = WeightsInput {
            uids: uids.to_vec(),
            weights: weights.to_vec(),
            hotkeys: hotkeys.to_vec(),
            multipliers: self
                .store
                .latest_multipliers()?
                .iter()
                .map(|m| m.to_policy())
                .collect(),
        };
        match self.policy().apply_weights(&self.params, &input) {
            Ok(out) => Ok(out),
            Err(
                e @ CallError {
                    failure: Failure::Refused { .. },
                    ..
                },
            ) => Err(e.into()),
            Err(e) => {
                tracing::error!("{e}; the built-in policy answers instead");
                Ok(self.fallback.apply_weights(&self.params, &input)?)
            }
        }
    }

    pub fn explain(&self, hotkey: &str) -> anyhow::Result<Explanation> {
        let params = self.policy().resolve_params(&self.params)?;
        crate::service::explain::explain(&self.store, hotkey, params)
    }

    /// Replays the decision at `block` (the latest when None).
    pub fn replay(&self, block: Option<u64>) -> anyhow::Result<Replay> {
        let d = self
            .store
            .decision_at_or_before(block.unwrap_or(u64::MAX >> 1))?
            .filter(|d| block.is_none_or(|b| d.block == b))
            .ok_or_else(|| match block {
                Some(b) => anyhow::anyhow!("no epoch decision is recorded at block #{b}"),
                None => anyhow::anyhow!("no epoch decision is recorded yet"),
            })?;
        crate::service::explain::replay(&self.store, self.registry.engine(), &d)
    }

    /// Replays every recorded decision, oldest first.
    pub fn replay_all(&self) -> anyhow::Result<Vec<Replay>> {
        let mut out = vec![];
        for b in self.store.decision_blocks()? {
            if let Some(d) = self.store.decision_at_or_before(b)? {
                out.push(crate::service::explain::replay(
                    &self.store,
                    self.registry.engine(),
                    &d,
                )?);
            }
        }
        Ok(out)
    }
}
