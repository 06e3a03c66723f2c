//! `vesting policy ...`: check a policy component, run conformance vectors against it;
//! the lifecycle subcommands are in `lifecycle_cmd`.

use crate::policy::{DEFAULT_POLICY_WASM, Limits, PolicyEngine, check, vectors};
use anyhow::Context;
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum PolicyCommand {
    /// Check a policy: contract version, imports, info, typed refusals, a dry run.
    Check {
        /// The policy's .wasm file, or `default` for the built-in policy.
        file: String,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Run conformance vectors (a directory of JSON files) against a policy.
    Test {
        /// The policy's .wasm file, or `default` for the built-in policy.
        file: String,
        /// Directory of vector files.
        vectors: PathBuf,
        /// Write the actual outputs into the vectors' `expect` (to create or update them).
        #[arg(long)]
        bless: bool,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// The stored policies and their roles (active, pending, shadow, previous).
    List {
        #[command(flatten)]
        service: super::service_cmd::ServiceArgs,
    },
    /// Check a policy (contract, conformance vectors, a dry run on the stored state) and store it.
    Install(super::lifecycle_cmd::InstallArgs),
    /// Put a stored policy in service, now or at the next epoch boundary.
    Activate(super::lifecycle_cmd::ActivateArgs),
    /// Put the previous policy back in service.
    Rollback {
        #[command(flatten)]
        service: super::service_cmd::ServiceArgs,
    },
    /// Run a stored policy beside the active one at every epoch, or show how they differ.
    Shadow(super::lifecycle_cmd::ShadowArgs),
}

#[derive(clap::Args, Debug)]
pub struct LimitArgs {
    /// Fuel a policy call may burn (about one unit per wasm instruction).
    #[arg(long, default_value_t = Limits::default().fuel)]
    pub fuel: u64,
    /// Memory a policy call may use, in MiB.
    #[arg(long, default_value_t = Limits::default().memory_bytes >> 20)]
    pub memory_mib: usize,
}

impl LimitArgs {
    fn engine(&self) -> anyhow::Result<PolicyEngine> {
        PolicyEngine::new(
            Limits {
                fuel: self.fuel,
                memory_bytes: self.memory_mib << 20,
            },
            crate::policy::default_cache_dir(),
        )
    }
}

/// Reads a policy file, or the built-in one for `default`.
pub fn read_policy(file: &str) -> anyhow::Result<Vec<u8>> {
    if file == "default" {
        return Ok(DEFAULT_POLICY_WASM.to_vec());
    }
    std::fs::read(file).with_context(|| format!("cannot read policy file `{file}`"))
}

/// Runs a policy subcommand; `Ok(false)` when a check or a vector failed.
pub fn run(cmd: PolicyCommand, json: bool) -> anyhow::Result<bool> {
    use super::lifecycle_cmd as l;
    match cmd {
        PolicyCommand::List { service } => l::list(service, json),
        PolicyCommand::Install(a) => l::install(a, json),
        PolicyCommand::Activate(a) => l::activate(a, json),
        PolicyCommand::Rollback { service } => l::rollback(service, json),
        PolicyCommand::Shadow(a) => l::shadow(a, json),
        PolicyCommand::Check { file, limits } => {
            let report = check::check(&limits.engine()?, &read_policy(&file)?);
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!("{report}");
            }
            Ok(report.passed())
        }
        PolicyCommand::Test {
            file,
            vectors: dir,
            bless,
            limits,
        } => {
            let engine = limits.engine()?;
            let policy = engine.load(&read_policy(&file)?)?;
            let outcomes = vectors::run_dir(&policy, &dir, bless)?;
            let failed = outcomes.iter().filter(|o| !o.passed).count();
            let skipped = outcomes.iter().filter(|o| o.skipped).count();
            if json {
                println!("{}", serde_json::to_string_pretty(&outcomes)?);
            } else {
                println!("policy {} ({})", policy.label(), policy.contract().name());
                for o in &outcomes {
                    match (o.passed, o.skipped) {
                        (_, true) => println!("  skip  {}: {}", o.name, o.reason),
                        (true, false) => println!("  pass  {}", o.name),
                        (false, false) => {
                            println!("  FAIL  {} ({}): {}", o.name, o.file.display(), o.reason)
                        }
                    }
                }
                let ran = outcomes.len() - skipped;
                print!("{} passed, {} failed", ran - failed, failed);
                match skipped {
                    0 => println!(),
                    n => println!(", {n} skipped (for another contract)"),
                }
            }
            if outcomes.is_empty() {
                anyhow::bail!("no vectors found in {}", dir.display());
            }
            Ok(failed == 0)
        }
    }
}
