//! How every command that makes decisions (`run`, `demo`, `ingest`, `backfill`) builds
//! its monitor from one resolved [`VestingConfig`]: the policy in service, the parameters
//! in force (the configuration's, checked against those the database's history was
//! computed with), the monitor's chain settings and the monitor itself. A command whose
//! parameters differ from the recorded ones is refused, unless it asks for a parameter
//! change at the next epoch boundary (`accept_param_change`).

use super::VestingConfig;
use crate::chain::endpoint;
use crate::ingest::{Follow, IngestError, Monitor, MonitorConfig, MonitorMetrics, StartAt};
use crate::policy::{DEFAULT_POLICY_WASM, Limits, Param, Policy, PolicyEngine, default_cache_dir};
use crate::registry::Registry;
use crate::store::{Store, describe_params, params_diff};
use std::sync::Arc;
use std::time::Duration;

/// The policies in service for a writer: the configured policy (`policy`), else the
/// store's active one, else the built-in default; and the built-in fallback.
pub fn policies(
    config: &VestingConfig,
    store: &Store,
) -> anyhow::Result<(Arc<Registry>, Arc<Policy>)> {
    let engine = PolicyEngine::new(Limits::default(), default_cache_dir())?;
    let fallback = engine.load(DEFAULT_POLICY_WASM)?;
    let configured = match &config.policy {
        Some(path) => Some(
            std::fs::read(path)
                .map_err(|e| anyhow::anyhow!("cannot read policy {}: {e}", path.display()))?,
        ),
        None => None,
    };
    let registry = Arc::new(Registry::new(engine, fallback.clone()));
    // The policy is stored with the history it makes, so every decision can be replayed.
    registry.start(store, configured.as_deref())?;
    Ok((registry, fallback))
}

/// The parameters a writer computes with: the configuration's when they are the ones the
/// database's history was computed with (or it has none yet: they are recorded). Else a
/// parameter change already pending for these parameters, or asked for with
/// `accept_param_change`, goes into force at the next epoch boundary and the recorded
/// parameters are returned until then; otherwise the command is refused with the
/// difference and the ways forward.
pub fn params_in_force(
    store: &Store,
    config: &VestingConfig,
    policy: &Policy,
) -> anyhow::Result<Vec<Param>> {
    let configured = config.params()?;
    policy.resolve_params(&configured)?;
    let state = store.param_state()?;
    let has_history = store.checkpoint()?.is_some();
    let recorded = match state.in_force.clone() {
        Some(p) => Some(p),
        None => match store.latest_decision_params()? {
            // Written before the parameters were recorded: its decisions say.
            Some(p) => {
                store.record_params(&p, "as the latest recorded epoch decision used them")?;
                Some(p)
            }
            None => None,
        },
    };
    let recorded = match recorded {
        Some(r) if has_history => r,
        _ => {
            if state.in_force.as_ref() != Some(&configured) {
                store.record_params(
                    &configured,
                    "the configured parameters, from the first block",
                )?;
            }
            return Ok(configured);
        }
    };
    if recorded == configured {
        if let Some(p) = &state.pending {
            tracing::warn!(
                "a parameter change is pending for the next epoch boundary ({}); this \
                 configuration has the parameters in force (`vesting params set` with them \
                 cancels the change)",
                diff_line(&recorded, p)
            );
        }
        return Ok(recorded);
    }
    if state.pending.as_ref() == Some(&configured) {
        tracing::info!(
            "the configured parameters go into force at the next epoch boundary ({}); \
             until then the recorded ones apply",
            diff_line(&recorded, &configured)
        );
        return Ok(recorded);
    }
    if config.accept_param_change {
        store.schedule_params(&configured, "requested (accept_param_change)")?;
        tracing::warn!(
            "parameter change scheduled for the next epoch boundary: {}",
            diff_line(&recorded, &configured)
        );
        return Ok(recorded);
    }
    anyhow::bail!("{}", mismatch(store, &recorded, &configured))
}

/// The parameters a system computes with before it starts its monitor (`policy install`,
/// weights, explain): those the database's history was computed with, else the
/// configuration's. Nothing is recorded or refused; [`params_in_force`] is, when the
/// monitor starts, and returns the same.
pub fn params_recorded_or_configured(
    store: &Store,
    config: &VestingConfig,
    policy: &Policy,
) -> anyhow::Result<Vec<Param>> {
    let configured = config.params()?;
    policy.resolve_params(&configured)?;
    if store.checkpoint()?.is_none() {
        return Ok(configured);
    }
    let recorded = match store.param_state()?.in_force {
        Some(p) => Some(p),
        None => store.latest_decision_params()?,
    };
    Ok(recorded.unwrap_or(configured))
}

fn diff_line(recorded: &[Param], new: &[Param]) -> String {
    params_diff(recorded, new)
        .iter()
        .map(|(n, a, b)| format!("{n} {a} -> {b}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The refusal: what differs and the two ways forward.
fn mismatch(store: &Store, recorded: &[Param], configured: &[Param]) -> String {
    let db = store.path().display();
    let mut out = format!(
        "the database {db} holds history computed with other parameters than this \
         configuration's:\n"
    );
    for (n, a, b) in params_diff(recorded, configured) {
        out += &format!("  {n}: recorded {a}, configured {b}\n");
    }
    out += &format!(
        "Refusing to mix two parameter sets in one history. Either\n  \
         - use the recorded parameters: set them in the configuration (--config, VESTING_* \
         or flags); they are\n    {}\n  \
         - or change the parameters from the next epoch boundary on: `vesting params set \
         --db {db}` with this configuration, or start this command again with \
         --accept-param-change (the change is logged: `vesting policy list`)",
        describe_params(recorded).replace('\n', "\n    ")
    );
    out
}

/// The monitor's settings from the configuration: the endpoint, the subnet, the database,
/// how to follow the chain, the backoff, the ledger history kept, where to start.
pub fn monitor_config(config: &VestingConfig) -> anyhow::Result<MonitorConfig> {
    let url = endpoint::resolve(Some(&config.network), config.chain_endpoint.as_deref())?;
    let mut cfg = MonitorConfig::new(url, config.netuid, &config.db_path);
    cfg.max_backoff = Duration::from_secs(config.query_interval_seconds.max(1));
    cfg.ledger_history_blocks = (config.ledger_history_days > 0)
        .then(|| config.ledger_history_days * config.blocks_per_day);
    cfg.follow_mode = match config.follow.as_str() {
        "subscribe" => Follow::Subscribe,
        "poll" => Follow::Poll {
            block_time: Duration::from_millis(config.block_time_ms.max(1)),
            max: Duration::from_secs(config.query_interval_seconds.max(1)),
        },
        other => anyhow::bail!("follow must be \"subscribe\" or \"poll\", not {other:?}"),
    };
    if let Some(b) = config.start_block {
        cfg.start = StartAt::Block(b);
    }
    Ok(cfg)
}

/// The monitor every command runs: the policies in service, the parameters in force
/// (following the store's recorded parameters and a pending change at the next epoch
/// block), the built-in policy when the one in service fails.
pub fn monitor(
    cfg: MonitorConfig,
    registry: &Arc<Registry>,
    params: Vec<Param>,
    fallback: Arc<Policy>,
    metrics: Arc<MonitorMetrics>,
) -> Result<Monitor, IngestError> {
    Monitor::new(cfg, registry.active_slot().clone(), params)?
        .with_registry(registry.clone(), fallback, metrics)
        .with_recorded_params()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::BlockRecord;

    fn default_policy() -> Arc<Policy> {
        PolicyEngine::new(Limits::default(), default_cache_dir())
            .unwrap()
            .load(DEFAULT_POLICY_WASM)
            .unwrap()
    }

    fn config(max: f64) -> VestingConfig {
        VestingConfig {
            max_multiplier: max,
            ..VestingConfig::default()
        }
    }

    #[test]
    fn recorded_parameters_decide_and_other_ones_are_refused_or_scheduled() {
        let policy = default_policy();
        let mut s = Store::in_memory().unwrap();
        // A fresh database records the configuration's parameters.
        let a = params_in_force(&s, &config(2.0), &policy).unwrap();
        assert_eq!(s.param_state().unwrap().in_force.as_ref(), Some(&a));
        s.apply_block(&BlockRecord {
            number: 1,
            hash: format!("0x{:064x}", 1),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(params_in_force(&s, &config(2.0), &policy).unwrap(), a);
        // Other parameters on a database with history: refused, saying what and how.
        let e = params_in_force(&s, &config(1.5), &policy)
            .unwrap_err()
            .to_string();
        for want in [
            "max_multiplier: recorded 2, configured 1.5",
            "use the recorded parameters",
            "vesting params set",
            "--accept-param-change",
        ] {
            assert!(e.contains(want), "{want:?} not in {e}");
        }
        assert_eq!(s.param_state().unwrap().pending, None);
        // Reads use the recorded parameters whatever is configured.
        assert_eq!(
            params_recorded_or_configured(&s, &config(1.5), &policy).unwrap(),
            a
        );
        // Accepted: scheduled, the recorded ones apply until the epoch boundary; a start
        // with the scheduled parameters is then accepted as well.
        let b = config(1.5).params().unwrap();
        let accept = VestingConfig {
            accept_param_change: true,
            ..config(1.5)
        };
        assert_eq!(params_in_force(&s, &accept, &policy).unwrap(), a);
        assert_eq!(s.param_state().unwrap().pending.as_ref(), Some(&b));
        assert_eq!(params_in_force(&s, &config(1.5), &policy).unwrap(), a);
        // Parameters the policy refuses are refused before anything is recorded.
        assert!(params_in_force(&s, &config(f64::NAN), &policy).is_err());
    }
}
