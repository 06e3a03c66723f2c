//! `vesting run` (the service: monitor + HTTP API), `stats`, `apply`, and `demo` (the
//! devnet with the demo scenario, the full service against it over JSON-RPC, a table).

use crate::api;
use crate::service::{VestingConfig, VestingStats, VestingSystem};
use clap::Args;
use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Options of every service command: a config file, then flags over it.
#[derive(Args, Debug, Clone)]
pub struct ServiceArgs {
    /// A TOML file of `VestingConfig` keys (netuid, minimum_stake, retention_window_days, ...).
    #[arg(long, env = "VESTING_CONFIG")]
    pub config: Option<PathBuf>,
    /// The subnet to track.
    #[arg(long, env = "VESTING_NETUID")]
    pub netuid: Option<u16>,
    /// finney, test, local or archive (or a ws:// / wss:// URL).
    #[arg(long = "subtensor.network", env = "VESTING_NETWORK")]
    pub network: Option<String>,
    /// A node's URL; overrides --subtensor.network.
    #[arg(long = "subtensor.chain_endpoint", env = "VESTING_CHAIN_ENDPOINT")]
    pub chain_endpoint: Option<String>,
    /// The SQLite database.
    #[arg(long, env = "VESTING_DB")]
    pub db: Option<PathBuf>,
    /// A policy component (.wasm); the built-in default policy otherwise.
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// How to learn of new blocks: `subscribe` (every block as it is finalized) or `poll`
    /// (more often near the subnet's next epoch, up to query_interval_seconds far from it).
    #[arg(long, env = "VESTING_FOLLOW", value_parser = ["subscribe", "poll"])]
    pub follow: Option<String>,
    /// Bearer token of the API's policy endpoints (off without one).
    #[arg(long, env = "VESTING_API_TOKEN", hide_env_values = true)]
    pub api_token: Option<String>,
    #[command(flatten)]
    pub params: ParamArgs,
}

/// The policy's parameters as flags (each over the config file's key of the same name).
#[derive(Args, Debug, Clone, Default)]
pub struct ParamArgs {
    /// Miners whose holder holds less alpha than this get weight 0.
    #[arg(long = "minimum-stake", env = "VESTING_MINIMUM_STAKE")]
    pub minimum_stake: Option<f64>,
    /// Window (days) for earnings and holding.
    #[arg(long = "retention-window-days", env = "VESTING_RETENTION_WINDOW_DAYS")]
    pub retention_window_days: Option<u64>,
    /// Held fraction for the full held factor.
    #[arg(long = "retention-target", env = "VESTING_RETENTION_TARGET")]
    pub retention_target: Option<f64>,
    /// Multiplier for holding everything for the whole window.
    #[arg(long = "max-multiplier", env = "VESTING_MAX_MULTIPLIER")]
    pub max_multiplier: Option<f64>,
    /// Vesting duration (days) of earned rewards.
    #[arg(long = "vesting-duration-days", env = "VESTING_VESTING_DURATION_DAYS")]
    pub vesting_duration_days: Option<u64>,
    /// Days between vesting payments.
    #[arg(long = "vesting-interval-days", env = "VESTING_VESTING_INTERVAL_DAYS")]
    pub vesting_interval_days: Option<u64>,
    /// Smaller earnings (alpha) vest at once.
    #[arg(long = "min-vesting-amount", env = "VESTING_MIN_VESTING_AMOUNT")]
    pub min_vesting_amount: Option<f64>,
    /// Blocks in a day (7200 with 12 s blocks).
    #[arg(long = "blocks-per-day", env = "VESTING_BLOCKS_PER_DAY")]
    pub blocks_per_day: Option<u64>,
    /// If these parameters differ from those the database's history was computed with,
    /// schedule a parameter change for the next epoch boundary instead of refusing.
    #[arg(long = "accept-param-change", env = "VESTING_ACCEPT_PARAM_CHANGE")]
    pub accept_param_change: bool,
}

impl ParamArgs {
    /// Sets the given flags over `c`.
    pub fn apply(&self, c: &mut VestingConfig) {
        macro_rules! set {
            ($($f:ident),*) => { $(if let Some(v) = self.$f { c.$f = v; })* };
        }
        set!(
            minimum_stake,
            retention_window_days,
            retention_target,
            max_multiplier,
            vesting_duration_days,
            vesting_interval_days,
            min_vesting_amount,
            blocks_per_day
        );
        if self.accept_param_change {
            c.accept_param_change = true;
        }
    }
}

impl ServiceArgs {
    pub fn config(&self) -> anyhow::Result<VestingConfig> {
        let mut c = match &self.config {
            Some(path) => VestingConfig::from_toml_file(path)?,
            None => VestingConfig::default(),
        };
        if let Some(n) = self.netuid {
            c.netuid = n;
        }
        if let Some(n) = &self.network {
            c.network = n.clone();
        }
        if let Some(e) = &self.chain_endpoint {
            c.chain_endpoint = Some(e.clone());
        }
        if let Some(d) = &self.db {
            c.db_path = d.clone();
        }
        if let Some(p) = &self.policy {
            c.policy = Some(p.clone());
        }
        if let Some(f) = &self.follow {
            c.follow = f.clone();
        }
        if let Some(t) = &self.api_token {
            c.api_token = Some(t.clone());
        }
        self.params.apply(&mut c);
        Ok(c)
    }
}

#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    #[command(flatten)]
    pub service: ServiceArgs,
    /// Address of the HTTP API.
    #[arg(long, default_value = "127.0.0.1:8090")]
    pub api: SocketAddr,
}

#[derive(Args, Debug, Clone)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub service: ServiceArgs,
    /// A JSON file {"uids": [...], "weights": [...], "hotkeys": [...]}; stdin without it.
    #[arg(long)]
    pub file: Option<PathBuf>,
}

#[derive(Args, Debug, Clone)]
pub struct DemoArgs {
    /// Simulated days of chain history (7,200 blocks a day).
    #[arg(long, default_value_t = 2.0)]
    pub days: f64,
    /// Address of the HTTP API kept up after the table.
    #[arg(long, default_value = "127.0.0.1:8090")]
    pub api: SocketAddr,
    /// Exit after printing the table instead of serving the API.
    #[arg(long)]
    pub exit: bool,
    /// The SQLite database (a fresh temporary one by default).
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// A TOML file of `VestingConfig` keys: the policy's parameters and settings (the
    /// chain, the database and the start are the demo's own).
    #[arg(long)]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub params: ParamArgs,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

async fn ctrl_c() {
    let _ = tokio::signal::ctrl_c().await;
}

/// `vesting run`: follow the chain on a background thread and serve the API.
pub fn run(args: RunArgs) -> anyhow::Result<bool> {
    let config = args.service.config()?;
    let rt = runtime()?;
    // The one writer of this database until it exits; the subnet must exist.
    let (_url, _lock) = super::ingest_cmd::start_writer(
        &rt,
        &config.network,
        config.chain_endpoint.as_deref(),
        &config.db_path,
        config.netuid,
        "run",
    )?;
    let system = Arc::new(VestingSystem::new(config)?);
    system.initialize()?;
    rt.block_on(api::serve(system.clone(), args.api, ctrl_c()))?;
    system.shutdown()?;
    Ok(true)
}

/// `vesting stats`: the store's latest multipliers and holdings.
pub fn stats(args: ServiceArgs, json: bool) -> anyhow::Result<bool> {
    let reader = super::reader::Reader::open(args.config()?)?;
    let stats = reader.stats()?;
    // The parameters in force (with the policy's defaults) and a change pending.
    let resolved = reader.policy().resolve_params(&reader.params)?;
    let pending = reader.store.param_state().ok().and_then(|s| s.pending);
    if json {
        let mut v = serde_json::to_value(&stats)?;
        if let Some(o) = v.as_object_mut() {
            o.insert("params".into(), serde_json::to_value(&resolved)?);
            o.insert("pending_params".into(), serde_json::to_value(&pending)?);
        }
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print!("{}", table(&stats, None));
        println!("parameters in force:");
        for line in crate::store::describe_params(&resolved).lines() {
            println!("  {line}");
        }
        if let Some(p) = &pending {
            println!("parameter change at the next epoch boundary:");
            for (n, a, b) in crate::store::params_diff(&reader.params, p) {
                println!("  {n}: {a} -> {b}");
            }
        }
    }
    Ok(true)
}

/// `vesting apply`: weights from a file or stdin, adjusted by the latest multipliers.
pub fn apply(args: ApplyArgs) -> anyhow::Result<bool> {
    let text = match &args.file {
        Some(p) => std::fs::read_to_string(p)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", p.display()))?,
        None => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s)?;
            s
        }
    };
    let req: api::ApplyRequest = serde_json::from_str(&text).map_err(|e| {
        anyhow::anyhow!("weights must be {{\"uids\", \"weights\", \"hotkeys\"}}: {e}")
    })?;
    let reader = super::reader::Reader::open(args.service.config()?)?;
    let out = reader.apply(&req.weights, &req.uids, &req.hotkeys)?;
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(true)
}

fn alpha(rao: u64) -> String {
    format!("{:.3}", rao as f64 / 1e9)
}

fn short(s: &str) -> String {
    if s.len() > 10 {
        format!("{}…", &s[..9])
    } else {
        s.to_string()
    }
}

/// The miners as a table; with weights (before, after) by uid when given.
pub fn table(stats: &VestingStats, weights: Option<&[(u16, f64, f64)]>) -> String {
    let mut out = format!(
        "policy {} · netuid {} · block {} · {} epochs\n{:>4} {:<11} {:<11} {:>10} {:>7} {:>6} {:>6} {:>8} {:>8}\n",
        stats.policy,
        stats.netuid,
        stats.last_block.unwrap_or(0),
        stats.epochs,
        "uid",
        "miner",
        "coldkey",
        "earned α",
        "held %",
        "days",
        "mult",
        "w before",
        "w after"
    );
    for m in &stats.miners {
        let (before, after) = weights
            .and_then(|w| w.iter().find(|(u, _, _)| *u == m.uid))
            .map_or((String::new(), String::new()), |(_, b, a)| {
                (format!("{b:.4}"), format!("{a:.4}"))
            });
        out += &format!(
            "{:>4} {:<11} {:<11} {:>10} {:>7.1} {:>6.1} {:>6.3} {:>8} {:>8}\n",
            m.uid,
            short(&m.hotkey),
            short(&m.holder),
            alpha(m.earned_in_window),
            m.held_fraction as f64 / 1e7,
            m.holding_days as f64 / 1e9,
            m.multiplier as f64 / 1e9,
            before,
            after
        );
    }
    out
}

/// `vesting demo`: the devnet's demo scenario, the full service against it over
/// JSON-RPC through a few simulated days, a table, then the API until Ctrl-C.
pub fn demo(args: DemoArgs) -> anyhow::Result<bool> {
    if !(args.days > 0.0 && args.days <= 60.0) {
        anyhow::bail!("--days must be in (0, 60], got {}", args.days);
    }
    let rt = runtime()?;
    let blocks = (args.days * 7200.0) as u64;
    let mut devnet_cfg =
        vesting_devnet::DevnetConfig::new(vesting_devnet::Scenario::builtin("demo")?);
    devnet_cfg.prefill_blocks = blocks;
    devnet_cfg.block_time_ms = 500;
    // The service reads positions at past epoch blocks while it catches up.
    devnet_cfg.pruning = vesting_devnet::Pruning::Archive;
    eprintln!(
        "demo: producing {blocks} blocks ({} simulated days) of the demo subnet...",
        args.days
    );
    let devnet = rt.block_on(vesting_devnet::start(devnet_cfg))?;
    let db = match &args.db {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!("vesting-demo-{}.db", std::process::id())),
    };
    // A --db given is started afresh: refused while another writer has it (the default
    // one is this process's own).
    let _lock = args
        .db
        .as_ref()
        .map(|d| super::lock::acquire(d, "demo"))
        .transpose()?;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    // The same configuration as every other command (file, then flags), on the demo's
    // chain and database.
    let mut config = match &args.config {
        Some(path) => VestingConfig::from_toml_file(path)?,
        None => VestingConfig::default(),
    };
    args.params.apply(&mut config);
    config.netuid = 1;
    config.chain_endpoint = Some(devnet.ws_url());
    config.db_path = db.clone();
    config.start_block = Some(1);
    let system = Arc::new(VestingSystem::new(config)?);
    system.initialize()?;
    eprintln!(
        "demo: the service follows {} into {}",
        devnet.ws_url(),
        db.display()
    );
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let s = system.get_vesting_stats()?;
        let at = s.last_block.unwrap_or(0);
        eprint!(
            "\rdemo: ingested block {at}/{blocks}, {} epochs   ",
            s.epochs
        );
        if at >= blocks.saturating_sub(10) && !s.miners.is_empty() {
            eprintln!();
            break;
        }
        if !s.monitor_running {
            anyhow::bail!("the monitor stopped; see the log above");
        }
    }
    let stats = system.get_vesting_stats()?;
    // The validator's own weights: uneven, so the effect of the multipliers shows.
    let uids: Vec<u16> = stats.miners.iter().map(|m| m.uid).collect();
    let hotkeys: Vec<String> = stats.miners.iter().map(|m| m.hotkey.clone()).collect();
    let raw: Vec<f64> = uids.iter().map(|u| 1.0 + (*u % 4) as f64).collect();
    let sum: f64 = raw.iter().sum();
    let out = system.apply_vesting_multipliers(&raw, &uids, &hotkeys)?;
    let weights: Vec<(u16, f64, f64)> = uids
        .iter()
        .zip(&raw)
        .zip(&out.weights)
        .map(|((u, b), a)| (*u, b / sum, *a as f64 / 1e9))
        .collect();
    print!("{}", table(&stats, Some(&weights)));
    if args.exit {
        system.shutdown()?;
        rt.block_on(devnet.stop());
        return Ok(true);
    }
    eprintln!(
        "demo: API on http://{} (GET /stats, /multipliers, POST /weights/apply); Ctrl-C to stop",
        args.api
    );
    rt.block_on(api::serve(system.clone(), args.api, ctrl_c()))?;
    system.shutdown()?;
    rt.block_on(devnet.stop());
    Ok(true)
}
