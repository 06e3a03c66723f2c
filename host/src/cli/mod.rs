//! The `vesting` command line: parses arguments (clap), sets up logging (tracing) and
//! dispatches to the subcommands. Exit code 0 on success, 1 when a check or test fails,
//! 2 on a usage or I/O error.

mod demo_cmd;
mod demo_validator;
mod ingest_cmd;
mod inspect_cmd;
mod lifecycle_cmd;
mod lock;
mod params_cmd;
mod policy_cmd;
mod reader;
mod service_cmd;
mod style;
mod subnets;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "vesting",
    version,
    about = "Vesting multipliers for Bittensor validators"
)]
pub struct Cli {
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check, test and manage vesting policies (wasm components).
    #[command(subcommand)]
    Policy(policy_cmd::PolicyCommand),
    /// Run the local Subtensor chain (real metadata, real JSON-RPC) for tests and dry runs.
    Devnet(vesting_devnet::DevnetArgs),
    /// Follow finalized blocks of a subnet into the database.
    Ingest(ingest_cmd::IngestArgs),
    /// Ingest history from a block (archive endpoint), then follow.
    Backfill(ingest_cmd::BackfillArgs),
    /// Run the service: follow the chain on a background thread and serve the HTTP API.
    Run(service_cmd::RunArgs),
    /// The parameters the database's history is computed with; schedule a change.
    #[command(subcommand)]
    Params(params_cmd::ParamsCommand),
    /// The devnet's demo subnet, the full service against it, a table, weights set on chain
    /// by the demo's validator (off, then vesting-adjusted), then the API.
    Demo(demo_cmd::DemoArgs),
    /// Every miner's multiplier and holding, from the database.
    Stats(service_cmd::ServiceArgs),
    /// Adjust weights ({"uids", "weights", "hotkeys"} from a file or stdin) by the latest multipliers.
    Apply(service_cmd::ApplyArgs),
    /// One miner: its multiplier over time, its holder's holding, its earnings per epoch.
    Miner(inspect_cmd::HotkeyArgs),
    /// Why a miner got its multiplier: earned, held, days, parameters, formula values.
    Explain(inspect_cmd::HotkeyArgs),
    /// Replay recorded epoch decisions with the policy that made them; bit-identical or not.
    Replay(inspect_cmd::ReplayArgs),
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// Runs the command line; the process exit code.
pub fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Policy(cmd) => policy_cmd::run(cmd, cli.json),
        Command::Devnet(args) => runtime()
            .and_then(|rt| rt.block_on(vesting_devnet::run(args)))
            .map(|()| true),
        Command::Ingest(args) => ingest_cmd::run_ingest(args),
        Command::Backfill(args) => ingest_cmd::run_backfill(args),
        Command::Run(args) => service_cmd::run(args),
        Command::Params(cmd) => params_cmd::run(cmd, cli.json),
        Command::Demo(args) => demo_cmd::demo(args, cli.json),
        Command::Stats(args) => service_cmd::stats(args, cli.json),
        Command::Apply(args) => service_cmd::apply(args),
        Command::Miner(args) => inspect_cmd::miner(args, cli.json),
        Command::Explain(args) => inspect_cmd::explain(args, cli.json),
        Command::Replay(args) => inspect_cmd::replay(args, cli.json),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {}", message(&e));
            ExitCode::from(2)
        }
    }
}

/// An error and its causes, each said once: a cause whose text the message already holds
/// (errors that print their source, then return it as their source) is not repeated.
fn message(e: &anyhow::Error) -> String {
    let mut out = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !out.contains(&c) {
            out += ": ";
            out += &c;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every subcommand's arguments are consistent (unique names, valid conflicts).
    #[test]
    fn command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }

    #[test]
    fn every_read_command_takes_json() {
        use clap::Parser;
        for args in [
            &["vesting", "--json", "stats"][..],
            &["vesting", "miner", "5Abc", "--json"],
            &["vesting", "explain", "5Abc", "--json"],
            &["vesting", "replay", "--all", "--json"],
            &["vesting", "policy", "list", "--json"],
            &["vesting", "policy", "shadow", "--json"],
        ] {
            let cli = super::Cli::try_parse_from(args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
            assert!(cli.json, "{args:?}");
        }
    }
}
