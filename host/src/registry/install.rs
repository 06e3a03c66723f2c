//! Install checks: everything `policy check` verifies, plus the contract conformance
//! vectors and a dry run on the store's current state (one multiplier per miner, each
//! within [0, max_multiplier]; weights sum to exactly 1.0).

use crate::policy::check::{self, Report};
use crate::policy::{CONTRACT_VECTORS, Miner, Param, PolicyEngine, decision, vectors};
use crate::store::Store;

/// What an install check found (the `policy check` report with the install checks added).
pub type InstallReport = Report;

/// Checks `wasm` for installation. `state`: the store and subnet to dry-run on.
pub fn install_check(
    engine: &PolicyEngine,
    wasm: &[u8],
    params: &[Param],
    state: Option<(&Store, u16)>,
) -> InstallReport {
    let mut report = check::check(engine, wasm);
    let Ok(policy) = engine.load(wasm) else {
        return report;
    };
    let (mut failed, mut ran) = (vec![], 0);
    for (file, json) in CONTRACT_VECTORS {
        let r = serde_json::from_str::<vectors::Vector>(json)
            .map_err(|e| format!("not a vector: {e}"))
            .and_then(|v| {
                if v.skip_reason(&policy).is_some() {
                    return Ok(());
                }
                ran += 1;
                vectors::judge(&v, &vectors::call(&policy, &v))
            });
        if let Err(why) = r {
            failed.push(format!("{file}: {why}"));
        }
    }
    report.checks.push((
        format!(
            "passes the {ran} conformance vectors of {}",
            policy.contract().name()
        ),
        if failed.is_empty() {
            Ok(())
        } else {
            Err(failed.join("; "))
        },
    ));
    report.checks.push(match policy.resolve_params(params) {
        Ok(_) => ("accepts the configured parameters".into(), Ok(())),
        Err(e) => (
            "accepts the configured parameters".into(),
            Err(e.to_string()),
        ),
    });
    if let Some((store, netuid)) = state {
        report
            .checks
            .push(stored_state_dry_run(&policy, params, store, netuid));
    }
    report
}

/// Runs holdings and multipliers on the store's latest ledgers and miners.
fn stored_state_dry_run(
    policy: &crate::policy::Policy,
    params: &[Param],
    store: &Store,
    netuid: u16,
) -> (String, Result<(), String>) {
    let name = "dry run on the stored state keeps the invariants";
    let state = (|| -> crate::store::Result<_> {
        let block = store.checkpoint()?.map(|c| c.block);
        let owners = store.owners()?;
        let miners: Vec<Miner> = store
            .registrations(netuid)?
            .into_iter()
            .map(|(uid, hotkey)| Miner {
                uid,
                coldkey: owners.get(&hotkey).cloned().unwrap_or_default(),
                hotkey,
            })
            .collect();
        Ok((block, store.ledgers()?, miners))
    })();
    match state {
        Err(e) => (name.into(), Err(format!("cannot read the store: {e}"))),
        Ok((None, _, _)) => (
            format!("{name} (skipped: the store has no blocks yet)"),
            Ok(()),
        ),
        Ok((Some(block), ledgers, miners)) => {
            let n = (ledgers.len(), miners.len());
            let r = decision::run(policy, params, block, ledgers, miners.clone())
                .map_err(|e| e.to_string())
                .and_then(|d| decision::check_invariants(policy, params, block, &miners, &d));
            (
                format!("{name} ({} holders, {} miners at block #{block})", n.0, n.1),
                r,
            )
        }
    }
}
