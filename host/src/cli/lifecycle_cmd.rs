//! `vesting policy list|install|activate|rollback|shadow`: the stored policies and which
//! one serves. Changes go to the database; a running `vesting run` on the same database
//! picks them up at its next block.

use super::service_cmd::ServiceArgs;
use crate::policy::ONE;
use crate::service::VestingSystem;
use crate::store::{PolicyRow, PolicyState};
use clap::Args;

#[derive(Args, Debug)]
pub struct InstallArgs {
    /// The policy component (.wasm).
    pub file: String,
    /// Activate it once installed.
    #[arg(long)]
    pub activate: bool,
    /// With --activate: at the next epoch boundary instead of now.
    #[arg(long, requires = "activate")]
    pub at_next_epoch: bool,
    #[command(flatten)]
    pub service: ServiceArgs,
}

#[derive(Args, Debug)]
pub struct ActivateArgs {
    /// A stored policy: sha256 (or its first 6+ hex digits) or name.
    #[arg(value_name = "POLICY")]
    pub key: String,
    /// Activate at the next epoch boundary instead of now.
    #[arg(long)]
    pub at_next_epoch: bool,
    #[command(flatten)]
    pub service: ServiceArgs,
}

#[derive(Args, Debug)]
pub struct ShadowArgs {
    /// A stored policy to run beside the active one at every epoch; without it, the
    /// recent shadow runs are shown.
    #[arg(value_name = "POLICY")]
    pub key: Option<String>,
    /// Stop the shadow run.
    #[arg(long, conflicts_with = "key")]
    pub stop: bool,
    /// How many recent runs to show.
    #[arg(long, default_value_t = 10)]
    pub last: usize,
    #[command(flatten)]
    pub service: ServiceArgs,
}

fn roles(p: &PolicyRow, st: &PolicyState) -> String {
    let mut r = vec![];
    for (role, sha) in [
        ("active", &st.active),
        ("pending", &st.pending),
        ("shadow", &st.shadow),
        ("previous", &st.previous),
    ] {
        if sha.as_deref() == Some(p.sha256.as_str()) {
            r.push(role);
        }
    }
    r.join(",")
}

fn print_state(st: &PolicyState, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(st)?);
    } else {
        let s = |o: &Option<String>| {
            o.as_deref()
                .map_or("-".to_string(), |h| h[..12].to_string())
        };
        println!(
            "active {}  pending {}  shadow {}  previous {}",
            s(&st.active),
            s(&st.pending),
            s(&st.shadow),
            s(&st.previous)
        );
    }
    Ok(())
}

pub fn list(service: ServiceArgs, json: bool) -> anyhow::Result<bool> {
    // A read: the database opened read-only, never created.
    let store = super::reader::open(&service.config()?.db_path)?;
    let (policies, state) = (store.policies()?, store.policy_state()?);
    let log = store.policy_log(20)?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({ "policies": policies, "state": state, "log": log })
            )?
        );
        return Ok(true);
    }
    println!(
        "{:<14} {:<16} {:<10} {:>9} {:<11} {:<22}",
        "sha256", "name", "version", "bytes", "origin", "roles"
    );
    for p in &policies {
        println!(
            "{:<14} {:<16} {:<10} {:>9} {:<11} {:<22}",
            &p.sha256[..12],
            p.name,
            p.version,
            p.size_bytes,
            p.origin,
            roles(p, &state)
        );
    }
    println!("recent changes:");
    for l in log.iter().take(10) {
        println!(
            "  {} {:<15} {} {}{}",
            l.at,
            l.action,
            l.sha256.as_deref().map_or("-", |h| &h[..12]),
            l.note,
            l.block.map_or(String::new(), |b| format!(" (block #{b})"))
        );
    }
    Ok(true)
}

pub fn install(args: InstallArgs, json: bool) -> anyhow::Result<bool> {
    let wasm = super::policy_cmd::read_policy(&args.file)?;
    let system = VestingSystem::new(args.service.config()?)?;
    let (report, policy) = system.install(&wasm)?;
    let state = match (&policy, args.activate) {
        (Some(p), true) => Some(system.activate(&p.sha256_hex(), args.at_next_epoch)?),
        _ => None,
    };
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "installed": policy.as_ref().map(|p| p.sha256_hex()),
                "report": report,
                "state": state,
            }))?
        );
    } else {
        println!("{report}");
        match &policy {
            Some(p) => println!("installed {} ({})", p.label(), p.sha256_hex()),
            None => println!("refused: the policy failed the checks above; nothing was stored"),
        }
        if let Some(st) = &state {
            print_state(st, false)?;
        }
    }
    Ok(policy.is_some())
}

pub fn activate(args: ActivateArgs, json: bool) -> anyhow::Result<bool> {
    let system = VestingSystem::new(args.service.config()?)?;
    let st = system.activate(&args.key, args.at_next_epoch)?;
    if !json {
        println!(
            "{}",
            if args.at_next_epoch {
                "scheduled for the next epoch boundary"
            } else {
                "activated"
            }
        );
    }
    print_state(&st, json)?;
    Ok(true)
}

pub fn rollback(service: ServiceArgs, json: bool) -> anyhow::Result<bool> {
    let system = VestingSystem::new(service.config()?)?;
    let p = system.rollback()?;
    if !json {
        println!("rolled back to {}", p.label());
    }
    print_state(&system.policies()?.1, json)?;
    Ok(true)
}

pub fn shadow(args: ShadowArgs, json: bool) -> anyhow::Result<bool> {
    if args.stop || args.key.is_some() {
        let system = VestingSystem::new(args.service.config()?)?;
        let st = system.shadow(args.key.as_deref())?;
        print_state(&st, json)?;
        return Ok(true);
    }
    // Showing the runs is a read: the database opened read-only, never created.
    let store = super::reader::open(&args.service.config()?.db_path)?;
    let mut runs = vec![];
    for run in store.shadow_runs(args.last)? {
        let diffs = store.shadow_diffs(run.block, &run.candidate)?;
        runs.push((run, diffs));
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&runs)?);
        return Ok(true);
    }
    if runs.is_empty() {
        println!(
            "no shadow runs yet; `vesting policy shadow <policy>` starts one (it runs at each epoch)"
        );
    }
    for (run, diffs) in &runs {
        let f = |v: u64| v as f64 / ONE as f64;
        match &run.error {
            Some(e) => println!(
                "#{} candidate {} FAILED: {e}",
                run.block,
                &run.candidate[..12]
            ),
            None => println!(
                "#{} candidate {} vs active {}: {} miners differ, total |Δweight| {:.6}, max {:.6}",
                run.block,
                &run.candidate[..12],
                &run.active[..12],
                run.miners_changed,
                f(run.total_weight_diff),
                f(run.max_weight_diff)
            ),
        }
        let mut top: Vec<_> = diffs.iter().collect();
        top.sort_by_key(|d| std::cmp::Reverse(d.active_weight.abs_diff(d.candidate_weight)));
        for d in top
            .iter()
            .take(5)
            .filter(|d| d.active_weight != d.candidate_weight)
        {
            println!(
                "    uid {:>3} {}…  multiplier {:.4} -> {:.4}  weight {:.6} -> {:.6}",
                d.uid,
                &d.hotkey[..9.min(d.hotkey.len())],
                f(d.active_multiplier),
                f(d.candidate_multiplier),
                f(d.active_weight),
                f(d.candidate_weight)
            );
        }
    }
    Ok(true)
}
