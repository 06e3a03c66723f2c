//! `vesting ingest` (follow finalized blocks into the store) and `vesting backfill --from`
//! (catch up from a block with a progress bar, then follow), with the options bittensor
//! operators know: `--netuid`, `--subtensor.network`, `--subtensor.chain_endpoint`, `--db`,
//! and the same configuration as `vesting run` (`--config`, `VESTING_*`, parameter flags),
//! the monitor wired by `service::wiring`.
//! Both are writers: they hold the database's writer lock while they run and refuse a
//! subnet the chain does not have.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::lock::WriterLock;
use super::service_cmd::ServiceArgs;
use crate::chain::endpoint;
use crate::ingest::{Monitor, MonitorMetrics, Progress, StartAt};
use crate::service::{VestingConfig, wiring};
use crate::store::Store;

/// Options shared by `ingest` and `backfill`: the configuration every decision-making
/// command reads (`--config`, `VESTING_*`, flags), then how to ingest.
#[derive(Args, Debug, Clone)]
pub struct ChainArgs {
    #[command(flatten)]
    pub service: ServiceArgs,
    /// Stop after this block instead of following forever.
    #[arg(long)]
    pub until: Option<u64>,
    /// Also track this coldkey's positions (SS58; repeatable), e.g. nominators.
    #[arg(long = "track-coldkey")]
    pub track_coldkeys: Vec<String>,
    /// Events reads in flight while catching up.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
}

#[derive(Args, Debug, Clone)]
pub struct IngestArgs {
    #[command(flatten)]
    pub chain: ChainArgs,
    /// With an empty database, start at this block (default: the finalized head).
    #[arg(long)]
    pub from: Option<u64>,
}

#[derive(Args, Debug, Clone)]
pub struct BackfillArgs {
    #[command(flatten)]
    pub chain: ChainArgs,
    /// First block to ingest (an archive endpoint is needed for old blocks).
    #[arg(long)]
    pub from: u64,
    /// Stop at the finalized head instead of following.
    #[arg(long)]
    pub no_follow: bool,
}

struct Bar {
    bar: ProgressBar,
    started: Instant,
    from: u64,
}

impl Progress for Bar {
    fn range(&mut self, from: u64, to: u64) {
        self.from = from;
        self.started = Instant::now();
        self.bar.set_length(to - from + 1);
        self.bar.set_position(0);
        self.bar.reset_eta();
    }
    fn block(&mut self, number: u64) {
        self.bar.set_position(number + 1 - self.from);
        self.bar.set_message(format!("#{number}"));
    }
    fn following(&mut self) {
        let n = self.bar.position();
        let secs = self.started.elapsed().as_secs_f64().max(1e-9);
        self.bar.finish_with_message(format!(
            "caught up: {n} blocks in {secs:.1} s ({:.0} blocks/s); following finalized blocks",
            n as f64 / secs
        ));
    }
}

/// What a writer checks before it writes: the endpoint, the writer lock of the database
/// (held until the returned lock drops), the database can be written, the subnet exists.
pub(super) fn start_writer(
    rt: &tokio::runtime::Runtime,
    network: &str,
    chain_endpoint: Option<&str>,
    db: &Path,
    netuid: u16,
    command: &str,
) -> anyhow::Result<(String, WriterLock)> {
    let url = endpoint::resolve(Some(network), chain_endpoint)?;
    let lock = super::lock::acquire(db, command)?;
    rt.block_on(super::subnets::check_netuid(&url, netuid))?;
    Ok((url, lock))
}

fn monitor(
    a: &ChainArgs,
    config: &VestingConfig,
    start: StartAt,
    follow: bool,
) -> anyhow::Result<Monitor> {
    let store = Store::open(&config.db_path)?;
    let (registry, fallback) = wiring::policies(config, &store)?;
    let params = wiring::params_in_force(&store, config, &registry.active())?;
    drop(store);
    let mut cfg = wiring::monitor_config(config)?;
    cfg.start = start;
    cfg.until = a.until;
    cfg.follow = follow;
    cfg.concurrency = a.concurrency;
    for ck in &a.track_coldkeys {
        use std::str::FromStr;
        let id = subxt::utils::AccountId32::from_str(ck)
            .map_err(|e| anyhow::anyhow!("--track-coldkey {ck:?} is not an SS58 address: {e}"))?;
        cfg.track_coldkeys.push(id.0);
    }
    Ok(wiring::monitor(
        cfg,
        &registry,
        params,
        fallback,
        Arc::new(MonitorMetrics::default()),
    )?)
}

async fn drive(mut m: Monitor) -> anyhow::Result<bool> {
    let stop = m.stop_handle();
    let ctrl_c = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            stop.stop();
        }
    });
    let r = m.run().await;
    ctrl_c.abort();
    r?;
    eprintln!(
        "stopped at block #{} ({} RPC requests, {} reconnects)",
        m.last_block().map_or("-".into(), |b| b.to_string()),
        m.stats().calls(),
        m.reconnects()
    );
    Ok(true)
}

fn start(
    c: &VestingConfig,
    rt: &tokio::runtime::Runtime,
    command: &str,
) -> anyhow::Result<WriterLock> {
    let (_url, lock) = start_writer(
        rt,
        &c.network,
        c.chain_endpoint.as_deref(),
        &c.db_path,
        c.netuid,
        command,
    )?;
    Ok(lock)
}

/// `vesting ingest`.
pub fn run_ingest(a: IngestArgs) -> anyhow::Result<bool> {
    let config = a.chain.service.config()?;
    let rt = super::runtime()?;
    let _lock = start(&config, &rt, "ingest")?;
    let start = match (a.from, config.start_block) {
        (Some(b), _) | (None, Some(b)) => StartAt::Block(b),
        (None, None) => StartAt::Head,
    };
    let m = monitor(&a.chain, &config, start, true)?;
    rt.block_on(drive(m))
}

/// `vesting backfill --from`.
pub fn run_backfill(a: BackfillArgs) -> anyhow::Result<bool> {
    let config = a.chain.service.config()?;
    let rt = super::runtime()?;
    let _lock = start(&config, &rt, "backfill")?;
    let mut m = monitor(&a.chain, &config, StartAt::Block(a.from), !a.no_follow)?;
    if let Some(cp) = m.store().checkpoint()? {
        if a.from > cp.block + 1 {
            anyhow::bail!(
                "the database ends at block #{} and --from is #{}: refusing to skip blocks #{}..#{} (use --from {} or a new --db)",
                cp.block,
                a.from,
                cp.block + 1,
                a.from - 1,
                cp.block + 1
            );
        }
        eprintln!(
            "resuming after block #{} (already in {})",
            cp.block,
            config.db_path.display()
        );
    }
    let bar = ProgressBar::new(0);
    bar.set_style(ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} blocks {per_sec} ETA {eta} {msg}",
    )?);
    m.set_progress(Box::new(Bar {
        bar,
        started: Instant::now(),
        from: a.from,
    }));
    rt.block_on(drive(m))
}
