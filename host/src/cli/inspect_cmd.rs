//! `vesting miner`, `explain` and `replay`: read-only views of the store (opened
//! read-only; a missing database is an error, never created).

use super::reader::Reader;
use super::service_cmd::ServiceArgs;
use crate::service::explain::fixed;
use clap::Args;

#[derive(Args, Debug)]
pub struct HotkeyArgs {
    /// The miner's hotkey (SS58).
    pub hotkey: String,
    #[command(flatten)]
    pub service: ServiceArgs,
}

#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// The epoch block to replay (default: the latest decision).
    #[arg(long, conflicts_with = "all")]
    pub block: Option<u64>,
    /// Replay every recorded decision.
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub service: ServiceArgs,
}

pub fn miner(args: HotkeyArgs, json: bool) -> anyhow::Result<bool> {
    let config = args.service.config()?;
    let store = super::reader::open(&config.db_path)?;
    let multipliers = store.miner_multipliers(&args.hotkey)?;
    let Some(latest) = multipliers.last() else {
        anyhow::bail!(
            "no miner with hotkey `{}` has a multiplier in {}; `vesting stats` lists the miners",
            args.hotkey,
            config.db_path.display()
        );
    };
    let holding = store.holding_at(&latest.holder, latest.block)?;
    let history = store.miner_history(&args.hotkey)?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "hotkey": args.hotkey,
                "latest": latest,
                "holding": holding,
                "multipliers": multipliers,
                "epochs": history,
            }))?
        );
        return Ok(true);
    }
    let st = super::style::Style::stdout(json);
    println!(
        "{} {} uid {} holder {}",
        st.bold("miner"),
        st.cyan(&args.hotkey),
        latest.uid,
        st.dim(&latest.holder)
    );
    let m = latest.multiplier as f64 / 1e9;
    println!(
        "{} {} (held factor {}, duration factor {}, eligible {}) at #{}",
        st.bold("multiplier"),
        st.multiplier(&fixed(latest.multiplier), m, 1.5),
        fixed(latest.held_factor),
        fixed(latest.duration_factor),
        latest.eligible,
        latest.block
    );
    // The multiplier in force at each epoch (the latest computed at or before its
    // block; sales recompute it between epochs), one glyph each, on a scale from 1.0
    // (or 0 if it was ever 0) to max_multiplier (1.5 by default) or the highest seen.
    let mut epochs: Vec<u64> = history.iter().map(|e| e.epoch_block).collect();
    epochs.dedup();
    let values: Vec<f64> = epochs
        .iter()
        .filter_map(|b| {
            multipliers
                .iter()
                .rev()
                .find(|r| r.block <= *b)
                .map(|r| r.multiplier as f64 / 1e9)
        })
        .collect();
    let hi = values.iter().copied().fold(0.0, f64::max);
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    println!(
        "over {} epochs: {} {} (min {lo:.3}, max {hi:.3})",
        values.len(),
        st.green(&super::style::sparkline(&values, lo.min(1.0), hi.max(1.5))),
        fixed(latest.multiplier),
    );
    if let Some(h) = &holding {
        println!(
            "holding: {} α staked, held fraction {}, {} days; vested {} α, locked {} α",
            fixed(h.total_stake),
            fixed(h.held_fraction),
            fixed(h.holding_days),
            fixed(h.vested),
            fixed(h.locked)
        );
    }
    println!(
        "{}",
        st.bold(&format!(
            "{:>10} {:>16} {:>16} {:>16} {:>16} {:>12}",
            "epoch", "before α", "after α", "earned α", "manual net α", "multiplier"
        ))
    );
    for e in &history {
        let mult = multipliers
            .iter()
            .find(|r| r.block == e.epoch_block)
            .map(|r| {
                let text = format!("{:>12}", fixed(r.multiplier));
                st.multiplier(&text, r.multiplier as f64 / 1e9, 1.5)
            })
            .unwrap_or_default();
        println!(
            "{:>10} {:>16} {:>16} {:>16} {:>16} {}",
            e.epoch_block,
            fixed(e.before),
            fixed(e.after),
            fixed(e.earned),
            format!(
                "{}{}",
                if e.manual_out > e.manual_in { "-" } else { "" },
                fixed(e.manual_in.abs_diff(e.manual_out))
            ),
            mult
        );
    }
    Ok(true)
}

pub fn explain(args: HotkeyArgs, json: bool) -> anyhow::Result<bool> {
    let e = Reader::open(args.service.config()?)?.explain(&args.hotkey)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&e)?);
    } else {
        println!("{e}");
    }
    Ok(true)
}

pub fn replay(args: ReplayArgs, json: bool) -> anyhow::Result<bool> {
    let reader = Reader::open(args.service.config()?)?;
    let replays = if args.all {
        reader.replay_all()?
    } else {
        vec![reader.replay(args.block)?]
    };
    let ok = replays.iter().all(|r| r.identical() || r.pruned);
    if json {
        println!("{}", serde_json::to_string_pretty(&replays)?);
    } else {
        for r in &replays {
            println!(
                "#{} policy {}: {}",
                r.block,
                &r.policy_sha256[..12],
                if r.pruned {
                    "ledgers pruned (older than ledger_history_days): not replayable".to_string()
                } else if r.identical() {
                    "bit-identical".to_string()
                } else {
                    format!(
                        "DIFFERS (input hash {}, output hash {}, stored rows {})",
                        if r.input_matches { "same" } else { "differs" },
                        if r.output_matches { "same" } else { "differs" },
                        if r.rows_match { "same" } else { "differ" }
                    )
                }
            );
        }
        let pruned = replays.iter().filter(|r| r.pruned).count();
        println!(
            "{} replayed, {} bit-identical, {pruned} pruned",
            replays.len() - pruned,
            replays.iter().filter(|r| r.identical()).count()
        );
    }
    Ok(ok)
}
