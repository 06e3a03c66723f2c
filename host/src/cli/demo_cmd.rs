//! `vesting demo`: the devnet's demo scenario (labelled behaviour groups) prefilled in
//! process, the full service against it over JSON-RPC, a table of the miners grouped by
//! behaviour and a summary; then the demo's validator (`super::demo_validator`, `//Alice`)
//! sets weights on chain with the vesting multipliers off and then on, and the table
//! gains what the chain's epochs paid each behaviour; then the API until Ctrl-C.

use super::demo_validator::{self, Phase, Validator};
use super::service_cmd::{ParamArgs, ctrl_c, header, row, runtime, short};
use crate::api;
use crate::service::{VestingConfig, VestingStats, VestingSystem};
use anyhow::Context;
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

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
    /// Skip the on-chain phase (`//Alice` setting weights with the multipliers off, then
    /// on, and the incentive the chain's epochs paid by them).
    #[arg(long)]
    pub no_validator: bool,
    #[command(flatten)]
    pub params: ParamArgs,
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
    /// What the chain's epoch paid it by //Alice's weights, vesting off / on (rao).
    #[serde(skip_serializing_if = "Option::is_none")]
    chain_incentive_off: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    chain_incentive_on: Option<u64>,
}

/// One behaviour's share of the incentive the chain's epochs paid by //Alice's weights:
/// with the base weights (vesting off) and the adjusted ones (vesting on).
#[derive(serde::Serialize)]
struct ChainShare {
    behaviour: String,
    miners: usize,
    /// The behaviour's incentive (rao of alpha) over the epoch's, vesting off and on.
    share_off: f64,
    share_on: f64,
    /// share_on / share_off - 1.
    change: f64,
    incentive_off: u64,
    incentive_on: u64,
}

/// The on-chain phase: who set the weights, and the two epochs.
#[derive(serde::Serialize)]
struct ChainRun {
    hotkey: String,
    uid: u16,
    netuid: u16,
    /// Vesting off, then on.
    phases: Vec<Phase>,
}

/// `//Alice` sets `base` (vesting off), then `adjusted` (vesting on) on subnet 1 and
/// reads what each following epoch paid.
async fn chain_phases(
    url: &str,
    uids: &[u16],
    base: &[f64],
    adjusted: &[u64],
) -> anyhow::Result<ChainRun> {
    let v = Validator::connect(url, 1).await?;
    let off = v
        .phase(false, uids, &demo_validator::to_fixed(base))
        .await
        .context("the on-chain phase with vesting off")?;
    let on = v
        .phase(true, uids, adjusted)
        .await
        .context("the on-chain phase with vesting on")?;
    Ok(ChainRun {
        hotkey: demo_validator::alice_ss58(),
        uid: v.uid,
        netuid: 1,
        phases: vec![off, on],
    })
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
    let mut stats = system.get_vesting_stats()?;
    // The demo's validator (//Alice, registered by the scenario's actions) is not one of
    // the story's miners: her uid is in the on-chain section only.
    let alice = demo_validator::alice_ss58();
    stats.miners.retain(|m| m.hotkey != alice);
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
    // On chain: the same weights set by //Alice, the multipliers off and then on (the
    // multipliers of the table), each paid by the subnet's next epoch.
    let chain = if args.no_validator {
        None
    } else {
        eprintln!(
            "demo: //Alice sets these weights on chain, vesting off then on, and the devnet runs an epoch after each..."
        );
        Some(rt.block_on(chain_phases(&devnet.ws_url(), &uids, &raw, &out.weights))?)
    };
    let paid = |phase: usize, uid: u16| {
        chain
            .as_ref()
            .and_then(|c| c.phases.get(phase))
            .map(|p| p.incentive_of(uid))
    };
    let miners: Vec<DemoMiner> = stats
        .miners
        .iter()
        .map(|m| {
            let (name, coldkey, behaviour) = labels
                .get(&m.hotkey)
                .cloned()
                .unwrap_or_else(|| (short(&m.hotkey), short(&m.holder), "unknown".to_string()));
            let (b, a) = weights
                .iter()
                .find(|w| w.0 == m.uid)
                .map_or((0.0, 0.0), |w| (w.1, w.2));
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
                weight_before: b,
                weight_after: a,
                chain_incentive_off: paid(0, m.uid),
                chain_incentive_on: paid(1, m.uid),
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
    let shares = chain
        .as_ref()
        .map(|c| chain_shares(&order, &miners, c))
        .unwrap_or_default();
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
                "validator": chain,
                "chain_incentive": shares,
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
        if let Some(c) = &chain {
            print!("{}", chain_text(c, &shares, st));
        }
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

/// Each behaviour's share of the incentive the two epochs paid (vesting off, on).
fn chain_shares(order: &[String], miners: &[DemoMiner], chain: &ChainRun) -> Vec<ChainShare> {
    let (Some(off), Some(on)) = (chain.phases.first(), chain.phases.get(1)) else {
        return vec![];
    };
    let share = |part: u64, total: u64| {
        if total == 0 {
            0.0
        } else {
            part as f64 / total as f64
        }
    };
    order
        .iter()
        .filter_map(|b| {
            let group: Vec<&DemoMiner> = miners.iter().filter(|m| &m.behaviour == b).collect();
            if group.is_empty() {
                return None;
            }
            let paid_off: u64 = group.iter().map(|m| off.incentive_of(m.uid)).sum();
            let paid_on: u64 = group.iter().map(|m| on.incentive_of(m.uid)).sum();
            let (share_off, share_on) = (share(paid_off, off.total()), share(paid_on, on.total()));
            Some(ChainShare {
                behaviour: b.clone(),
                miners: group.len(),
                share_off,
                share_on,
                change: if share_off > 0.0 {
                    share_on / share_off - 1.0
                } else {
                    0.0
                },
                incentive_off: paid_off,
                incentive_on: paid_on,
            })
        })
        .collect()
}

/// The on-chain phase: who set the weights when, and each behaviour's share of what the
/// epochs paid, vesting off and on.
fn chain_text(c: &ChainRun, shares: &[ChainShare], st: super::style::Style) -> String {
    let mut out = st.bold("\non chain");
    out.push('\n');
    for p in &c.phases {
        out += &format!(
            "  //Alice (uid {}) set_weights on netuid {} in block {} (vesting {}); the epoch at block {} paid {} α of incentive\n",
            c.uid,
            c.netuid,
            p.set_block,
            if p.vesting { "on" } else { "off" },
            p.epoch_block,
            super::service_cmd::alpha(p.total()),
        );
    }
    out += &st.bold(&format!(
        "  {:<60} {:>6} {:>9} {:>9} {:>8}",
        "incentive share by behaviour", "miners", "share off", "share on", "change"
    ));
    out.push('\n');
    for s in shares {
        out += &format!(
            "  {:<60} {:>6} {:>9.4} {:>9.4} {:>+7.1}%\n",
            s.behaviour,
            s.miners,
            s.share_off,
            s.share_on,
            s.change * 100.0
        );
    }
    out
}
