//! `vesting params show|set`: the parameters the database's history is computed with, a
//! change pending for the next epoch boundary, and scheduling one from the configuration
//! (`--config`, `VESTING_*`, flags; the same as `run`, `ingest` and `backfill` read).

use super::service_cmd::ServiceArgs;
use crate::store::{ParamState, Store, describe_params, params_diff};
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum ParamsCommand {
    /// The parameters in force, a change pending, and how the configuration differs.
    Show(ServiceArgs),
    /// Schedule the configuration's parameters for the next epoch boundary (or cancel a
    /// pending change by setting the parameters in force). Works while `vesting run`
    /// serves the database: the change goes into force at its next epoch block.
    Set(ServiceArgs),
}

fn print(state: &ParamState, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(state)?);
        return Ok(());
    }
    match &state.in_force {
        Some(p) => println!(
            "parameters in force:\n  {}",
            describe_params(p).replace('\n', "\n  ")
        ),
        None => println!("no parameters recorded yet (the first writer records its own)"),
    }
    if let Some(p) = &state.pending {
        println!("at the next epoch boundary:");
        for (n, a, b) in params_diff(state.in_force.as_deref().unwrap_or_default(), p) {
            println!("  {n}: {a} -> {b}");
        }
    }
    Ok(())
}

/// Runs `vesting params ...`.
pub fn run(cmd: ParamsCommand, json: bool) -> anyhow::Result<bool> {
    match cmd {
        ParamsCommand::Show(args) => {
            let config = args.config()?;
            let reader = super::reader::Reader::open(config.clone())?;
            let state = reader.store.param_state()?;
            print(&state, json)?;
            if !json && let Some(p) = &state.in_force {
                let d = params_diff(p, &config.params()?);
                if !d.is_empty() {
                    println!("this configuration differs:");
                    for (n, a, b) in d {
                        println!("  {n}: recorded {a}, configured {b}");
                    }
                }
            }
            Ok(true)
        }
        ParamsCommand::Set(args) => {
            let config = args.config()?;
            let params = config.params()?;
            // Checked with the policy in service before anything is recorded.
            let reader = super::reader::Reader::open(config.clone())?;
            reader.policy().resolve_params(&params)?;
            drop(reader);
            let store = Store::open(&config.db_path)?;
            let state = if store.param_state()?.in_force.is_none() {
                store.record_params(&params, "set before any history")?;
                store.param_state()?
            } else {
                store.schedule_params(&params, "requested (vesting params set)")?
            };
            print(&state, json)?;
            Ok(true)
        }
    }
}
