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
    println!(
        "miner {} uid {} holder {}",
        args.hotkey, latest.uid, latest.holder
    );
    println!(
        "multiplier {} (held factor {}, duration factor {}, eligible {}) at #{}",
        fixed(latest.multiplier),
        fixed(latest.held_factor),
        fixed(latest.duration_factor),
        latest.eligible,
        latest.block
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
        "{:>10} {:>16} {:>16} {:>16} {:>16}",
        "epoch", "before α", "after α", "earned α", "manual net α"
    );
    for e in &history {
        println!(
            "{:>10} {:>16} {:>16} {:>16} {:>16}",
            e.epoch_block,
            fixed(e.before),
            fixed(e.after),
            fixed(e.earned),
            format!(
                "{}{}",
                if e.manual_out > e.manual_in { "-" } else { "" },
                fixed(e.manual_in.abs_diff(e.manual_out))
            )
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
