//! `vesting run` (the service: monitor + HTTP API), `stats` and `apply`, and the miners'
//! table they and `vesting demo` (`super::demo_cmd`) print.

use crate::api;
use crate::service::{VestingConfig, VestingStats, VestingSystem};
use clap::Args;
use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

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

pub(super) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

pub(super) async fn ctrl_c() {
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
        let st = super::style::Style::stdout(json);
        let max = crate::policy::invariants::max_multiplier(&resolved) as f64 / 1e9;
        print!("{}", styled_table(&stats, None, st, max));
        println!("{}", st.bold("parameters in force:"));
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

pub(super) fn alpha(rao: u64) -> String {
    format!("{:.3}", rao as f64 / 1e9)
}

pub(super) fn short(s: &str) -> String {
    if s.chars().count() > 10 {
        format!("{}…", s.chars().take(9).collect::<String>())
    } else {
        s.to_string()
    }
}

/// The miners as a table, aligned, coloured by `st` (plain off a terminal), with
/// weights (before, after) by uid when given.
fn styled_table(
    stats: &VestingStats,
    weights: Option<&[(u16, f64, f64)]>,
    st: super::style::Style,
    max_multiplier: f64,
) -> String {
    let mut out = format!(
        "{} {} · netuid {} · block {} · {} epochs\n{}\n",
        st.bold("policy"),
        st.cyan(&stats.policy),
        stats.netuid,
        stats.last_block.unwrap_or(0),
        stats.epochs,
        st.bold(&header(weights.is_some()))
    );
    for m in &stats.miners {
        out += &row(
            m,
            &short(&m.hotkey),
            &short(&m.holder),
            weights,
            st,
            max_multiplier,
        );
    }
    out
}

/// The table's header; the weight columns only with weights.
pub(super) fn header(weights: bool) -> String {
    let mut h = format!(
        "{:>4} {:<11} {:<11} {:>10} {:>7} {:>6} {:>6}",
        "uid", "miner", "coldkey", "earned α", "held %", "days", "mult"
    );
    if weights {
        h += &format!(" {:>8} {:>8}", "w before", "w after");
    }
    h
}

pub(super) fn row(
    m: &crate::service::MinerStats,
    name: &str,
    coldkey: &str,
    weights: Option<&[(u16, f64, f64)]>,
    st: super::style::Style,
    max_multiplier: f64,
) -> String {
    let weights = weights.map(|w| {
        w.iter()
            .find(|(u, _, _)| *u == m.uid)
            .map_or(format!(" {:>8} {:>8}", "", ""), |(_, b, a)| {
                format!(" {b:>8.4} {a:>8.4}")
            })
    });
    let mult = m.multiplier as f64 / 1e9;
    format!(
        "{:>4} {} {} {:>10} {:>7.1} {:>6.1} {}{}\n",
        m.uid,
        st.cyan(&format!("{name:<11}")),
        st.dim(&format!("{coldkey:<11}")),
        alpha(m.earned_in_window),
        m.held_fraction as f64 / 1e7,
        m.holding_days as f64 / 1e9,
        st.multiplier(&format!("{mult:>6.3}"), mult, max_multiplier),
        weights.unwrap_or_default()
    )
}
