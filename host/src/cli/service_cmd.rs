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
    /// Simulated days of chain history (days of --blocks-per-day blocks: 720 in the
    /// demo unless a --config or the flag sets it; at least 800 blocks).
    #[arg(long, default_value_t = 28.0)]
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

fn alpha(rao: u64) -> String {
    format!("{:.3}", rao as f64 / 1e9)
}

fn short(s: &str) -> String {
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
fn header(weights: bool) -> String {
    let mut h = format!(
        "{:>4} {:<11} {:<11} {:>10} {:>7} {:>6} {:>6}",
        "uid", "miner", "coldkey", "earned α", "held %", "days", "mult"
    );
    if weights {
        h += &format!(" {:>8} {:>8}", "w before", "w after");
    }
    h
}

fn row(
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

/// By SS58 hotkey: the hotkey's name, its coldkey's name, its behaviour.
type DemoLabels = std::collections::HashMap<String, (String, String, String)>;

/// Who each subnet-1 miner of the demo scenario is: its hotkey's and coldkey's names
/// and the behaviour its neuron group is labelled with, by SS58 hotkey; and the
/// behaviours in the scenario's order.
fn demo_labels(scenario: &vesting_devnet::Scenario) -> (DemoLabels, Vec<String>) {
    let mut by_hotkey = std::collections::HashMap::new();
    let mut order: Vec<String> = vec![];
    for g in scenario.neuron_groups.iter().filter(|g| g.netuid == 1) {
        let label = g.label.clone().unwrap_or_else(|| {
            if g.dividends > 0 {
                "validator".to_string()
            } else {
                g.prefix.clone()
            }
        });
        if !order.contains(&label) {
            order.push(label.clone());
        }
        for i in 0..g.count {
            let hotkey = format!("{}-{i}", g.prefix);
            let coldkey = format!("{}-ck-{}", g.prefix, i % g.coldkeys);
            let ss58 = crate::chain::ss58(&vesting_devnet::named_account(&hotkey));
            by_hotkey.insert(ss58, (hotkey, coldkey, label.clone()));
        }
    }
    (by_hotkey, order)
}

/// One miner of the demo's table.
#[derive(serde::Serialize)]
struct DemoMiner {
    uid: u16,
    hotkey: String,
    name: String,
    coldkey: String,
    behaviour: String,
    multiplier: f64,
    held_fraction: f64,
    holding_days: f64,
    earned_in_window: f64,
    total_stake: f64,
    weight_before: f64,
    weight_after: f64,
}

/// One behaviour's line of the demo's summary.
#[derive(serde::Serialize)]
struct DemoSummary {
    behaviour: String,
    miners: usize,
    mean_multiplier: f64,
    min_multiplier: f64,
    max_multiplier: f64,
    weight_before: f64,
    weight_after: f64,
    /// weight_after / weight_before - 1.
    weight_change: f64,
}

/// `vesting demo`: the devnet's demo scenario, the full service against it over
/// JSON-RPC through some simulated days, a table of the miners grouped by behaviour
/// and a summary, then the API until Ctrl-C.
pub fn demo(args: DemoArgs, json: bool) -> anyhow::Result<bool> {
    if !(args.days > 0.0 && args.days <= 60.0) {
        anyhow::bail!("--days must be in (0, 60], got {}", args.days);
    }
    let started = std::time::Instant::now();
    // The same configuration as every other command (file, then flags), on the demo's
    // chain and database. Without a file the demo's own defaults: short days (two of
    // the subnet's 360-block epochs a day) and a 7-day window, so that a few simulated
    // weeks spread the multipliers over their whole range.
    let mut config = match &args.config {
        Some(path) => VestingConfig::from_toml_file(path)?,
        None => VestingConfig {
            blocks_per_day: 720,
            retention_window_days: 7,
            ..VestingConfig::default()
        },
    };
    args.params.apply(&mut config);
    // At least two epochs of subnet 1 (tempo 360), so there are multipliers to show.
    let blocks = ((args.days * config.blocks_per_day as f64) as u64).max(800);
    let rt = runtime()?;
    let scenario = vesting_devnet::Scenario::builtin("demo")?;
    let (labels, order) = demo_labels(&scenario);
    let mut devnet_cfg = vesting_devnet::DevnetConfig::new(scenario);
    devnet_cfg.prefill_blocks = blocks;
    devnet_cfg.block_time_ms = 500;
    // The service reads positions at past epoch blocks while it catches up.
    devnet_cfg.pruning = vesting_devnet::Pruning::Archive;
    eprintln!(
        "demo: producing {blocks} blocks ({} simulated days of {} blocks) of the demo subnet...",
        args.days, config.blocks_per_day
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
    config.netuid = 1;
    config.chain_endpoint = Some(devnet.ws_url());
    config.db_path = db.clone();
    config.start_block = Some(1);
    let params = config.clone();
    let system = Arc::new(VestingSystem::new(config)?);
    system.initialize()?;
    eprintln!(
        "demo: the service follows {} into {}",
        devnet.ws_url(),
        db.display()
    );
    loop {
        std::thread::sleep(Duration::from_millis(250));
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
    let miners: Vec<DemoMiner> = stats
        .miners
        .iter()
        .zip(&weights)
        .map(|(m, (_, b, a))| {
            let (name, coldkey, behaviour) = labels
                .get(&m.hotkey)
                .cloned()
                .unwrap_or_else(|| (short(&m.hotkey), short(&m.holder), "unknown".to_string()));
            DemoMiner {
                uid: m.uid,
                hotkey: m.hotkey.clone(),
                name,
                coldkey,
                behaviour,
                multiplier: m.multiplier as f64 / 1e9,
                held_fraction: m.held_fraction as f64 / 1e9,
                holding_days: m.holding_days as f64 / 1e9,
                earned_in_window: m.earned_in_window as f64 / 1e9,
                total_stake: m.total_stake as f64 / 1e9,
                weight_before: *b,
                weight_after: *a,
            }
        })
        .collect();
    let mut order = order;
    for m in &miners {
        if !order.contains(&m.behaviour) {
            order.push(m.behaviour.clone());
        }
    }
    let summary: Vec<DemoSummary> = order
        .iter()
        .filter_map(|b| {
            let group: Vec<&DemoMiner> = miners.iter().filter(|m| &m.behaviour == b).collect();
            if group.is_empty() {
                return None;
            }
            let ms: Vec<f64> = group.iter().map(|m| m.multiplier).collect();
            let before: f64 = group.iter().map(|m| m.weight_before).sum();
            let after: f64 = group.iter().map(|m| m.weight_after).sum();
            Some(DemoSummary {
                behaviour: b.clone(),
                miners: group.len(),
                mean_multiplier: ms.iter().sum::<f64>() / ms.len() as f64,
                min_multiplier: ms.iter().copied().fold(f64::INFINITY, f64::min),
                max_multiplier: ms.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                weight_before: before,
                weight_after: after,
                weight_change: if before > 0.0 {
                    after / before - 1.0
                } else {
                    0.0
                },
            })
        })
        .collect();
    let api_url = format!("http://{}", args.api);
    let seconds = started.elapsed().as_secs_f64();
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "netuid": stats.netuid,
                "policy": stats.policy,
                "last_block": stats.last_block,
                "epochs": stats.epochs,
                "simulated_days": args.days,
                "params": {
                    "blocks_per_day": params.blocks_per_day,
                    "retention_window_days": params.retention_window_days,
                    "vesting_duration_days": params.vesting_duration_days,
                    "retention_target": params.retention_target,
                    "max_multiplier": params.max_multiplier,
                    "minimum_stake": params.minimum_stake,
                },
                "miners": miners,
                "summary": summary,
                "api_url": api_url,
                "dashboard_url": format!("{api_url}/"),
                "seconds": seconds,
            }))?
        );
    } else {
        let st = super::style::Style::stdout(false);
        print!(
            "{}",
            demo_text(&stats, &miners, &summary, &order, &params, args.days, st)
        );
        println!(
            "{} {:.1} s. The dashboard{}: {api_url}/ (the API: {api_url}/stats, {api_url}/multipliers, POST {api_url}/weights/apply)",
            st.bold("ran in"),
            seconds,
            if args.exit {
                " (served without --exit)"
            } else {
                ""
            }
        );
    }
    if args.exit {
        system.shutdown()?;
        rt.block_on(devnet.stop());
        return Ok(true);
    }
    eprintln!("demo: the dashboard on {api_url}/ and the API beside it; Ctrl-C to stop");
    rt.block_on(api::serve(system.clone(), args.api, ctrl_c()))?;
    system.shutdown()?;
    rt.block_on(devnet.stop());
    Ok(true)
}

/// The demo's table, grouped by behaviour, and its summary. Every miner's row starts
/// with its uid; no other line starts with a digit.
fn demo_text(
    stats: &VestingStats,
    miners: &[DemoMiner],
    summary: &[DemoSummary],
    order: &[String],
    p: &VestingConfig,
    days: f64,
    st: super::style::Style,
) -> String {
    let mut out = format!(
        "{} {} · netuid {} · block {} · {} epochs · {days} simulated days\n\
         parameters: a day is {} blocks (2 epochs), window {} days, vesting {} days, \
         retention_target {}, max_multiplier {}, minimum_stake {} α\n\
         multiplier = 1 + sqrt(held factor × duration factor) × (max_multiplier − 1); \
         0 under minimum_stake\n",
        st.bold("policy"),
        st.cyan(&stats.policy),
        stats.netuid,
        stats.last_block.unwrap_or(0),
        stats.epochs,
        p.blocks_per_day,
        p.retention_window_days,
        p.vesting_duration_days,
        p.retention_target,
        p.max_multiplier,
        p.minimum_stake,
    );
    out += &st.bold(&header(true));
    out.push('\n');
    for b in order {
        let group: Vec<&DemoMiner> = miners.iter().filter(|m| &m.behaviour == b).collect();
        if group.is_empty() {
            continue;
        }
        out += &st.yellow(&format!("── {b} ──"));
        out.push('\n');
        for m in group {
            let s = stats.miners.iter().find(|s| s.uid == m.uid).expect("a row");
            let w = [(m.uid, m.weight_before, m.weight_after)];
            out += &row(
                s,
                &short(&m.name),
                &short(&m.coldkey),
                Some(&w),
                st,
                p.max_multiplier,
            );
        }
    }
    out += &st.bold("\nsummary by behaviour");
    out.push('\n');
    out += &st.bold(&format!(
        "  {:<60} {:>6} {:>6} {:>13} {:>8} {:>8} {:>8}",
        "behaviour", "miners", "mean", "range", "w before", "w after", "change"
    ));
    out.push('\n');
    for s in summary {
        out += &format!(
            "  {:<60} {:>6} {} {:>13} {:>8.4} {:>8.4} {:>+7.1}%\n",
            s.behaviour,
            s.miners,
            st.multiplier(
                &format!("{:>6.3}", s.mean_multiplier),
                s.mean_multiplier,
                p.max_multiplier
            ),
            format!("{:.3}-{:.3}", s.min_multiplier, s.max_multiplier),
            s.weight_before,
            s.weight_after,
            s.weight_change * 100.0
        );
    }
    out
}
