//! `vesting ingest` (follow finalized blocks into the store) and `vesting backfill --from`
//! (catch up from a block with a progress bar, then follow), with the options bittensor
//! operators know: `--netuid`, `--subtensor.network`, `--subtensor.chain_endpoint`, `--db`.
//! Both are writers: they hold the database's writer lock while they run and refuse a
//! subnet the chain does not have.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::lock::WriterLock;
use crate::chain::endpoint;
use crate::ingest::{Monitor, MonitorConfig, MonitorMetrics, Progress, StartAt};
use crate::policy::{DEFAULT_POLICY_WASM, Limits, PolicyEngine, default_cache_dir};
use crate::registry::Registry;
use crate::store::Store;

/// Options shared by `ingest` and `backfill`.
#[derive(Args, Debug, Clone)]
pub struct ChainArgs {
    /// The subnet to track.
    #[arg(long)]
    pub netuid: u16,
    /// finney, test, local or archive (or a ws:// / wss:// URL).
    #[arg(long = "subtensor.network", default_value = "finney")]
    pub network: String,
    /// A node's URL; overrides --subtensor.network.
    #[arg(long = "subtensor.chain_endpoint")]
    pub chain_endpoint: Option<String>,
    /// The SQLite database.
    #[arg(long, default_value = "vesting.db")]
    pub db: PathBuf,
    /// A policy component (.wasm); the built-in default policy otherwise.
    #[arg(long)]
    pub policy: Option<PathBuf>,
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

fn monitor(a: &ChainArgs, url: String, start: StartAt, follow: bool) -> anyhow::Result<Monitor> {
    let engine = PolicyEngine::new(Limits::default(), default_cache_dir())?;
    let configured = match &a.policy {
        Some(p) => {
            Some(std::fs::read(p).with_context(|| format!("reading policy {}", p.display()))?)
        }
        None => None,
    };
    // The policy is stored with the history it makes, so every decision can be replayed.
    let fallback = engine.load(DEFAULT_POLICY_WASM)?;
    let registry = Arc::new(Registry::new(engine, fallback.clone()));
    registry.start(&Store::open(&a.db)?, configured.as_deref())?;
    let mut cfg = MonitorConfig::new(url, a.netuid, &a.db);
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
    Ok(
        Monitor::new(cfg, registry.active_slot().clone(), Vec::new())?.with_registry(
            registry,
            fallback,
            Arc::new(MonitorMetrics::default()),
        ),
    )
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
    a: &ChainArgs,
    rt: &tokio::runtime::Runtime,
    command: &str,
) -> anyhow::Result<(String, WriterLock)> {
    start_writer(
        rt,
        &a.network,
        a.chain_endpoint.as_deref(),
        &a.db,
        a.netuid,
        command,
    )
}

/// `vesting ingest`.
pub fn run_ingest(a: IngestArgs) -> anyhow::Result<bool> {
    let rt = super::runtime()?;
    let (url, _lock) = start(&a.chain, &rt, "ingest")?;
    let start = a.from.map_or(StartAt::Head, StartAt::Block);
    let m = monitor(&a.chain, url, start, true)?;
    rt.block_on(drive(m))
}

/// `vesting backfill --from`.
pub fn run_backfill(a: BackfillArgs) -> anyhow::Result<bool> {
    let rt = super::runtime()?;
    let (url, _lock) = start(&a.chain, &rt, "backfill")?;
    let mut m = monitor(&a.chain, url, StartAt::Block(a.from), !a.no_follow)?;
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
            a.chain.db.display()
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
