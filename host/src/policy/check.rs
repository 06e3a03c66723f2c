//! `policy check`: what the host verifies before it trusts a policy: the contract version,
//! the imports, `info` and its parameter schema, typed refusals of bad input, and a dry
//! run whose outputs keep the contract's invariants.

use super::*;
use serde::Serialize;
use std::sync::Arc;

/// The parameters every policy must declare (the seeds' configuration).
pub const SEED_PARAMS: &[&str] = &[
    "minimum_stake",
    "retention_window_days",
    "retention_target",
    "max_multiplier",
    "vesting_duration_days",
    "vesting_interval_days",
    "min_vesting_amount",
];

/// What `check` found.
#[derive(Debug, Serialize)]
pub struct Report {
    pub sha256: String,
    pub size_bytes: usize,
    pub contract: Option<String>,
    pub imports: Vec<String>,
    pub info: Option<PolicyInfo>,
    /// Each check and whether it passed.
    pub checks: Vec<(String, Result<(), String>)>,
}

impl Report {
    pub fn passed(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|(_, r)| r.is_ok())
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "sha256:   {}", self.sha256)?;
        writeln!(f, "size:     {} bytes", self.size_bytes)?;
        if let Some(info) = &self.info {
            writeln!(
                f,
                "policy:   {} {} — {}",
                info.name, info.version, info.description
            )?;
        }
        let contract = self.contract.as_deref().unwrap_or("?");
        match super::contract::Contract::of_name(contract) {
            Some(c) if c != super::contract::Contract::NEWEST => writeln!(
                f,
                "contract: {contract} (older: this host still runs it; new policies implement {})",
                super::contract::Contract::NEWEST.name()
            )?,
            _ => writeln!(f, "contract: {contract}")?,
        }
        writeln!(
            f,
            "imports:  {}",
            if self.imports.is_empty() {
                "none".into()
            } else {
                self.imports.join(", ")
            }
        )?;
        for (name, r) in &self.checks {
            match r {
                Ok(()) => writeln!(f, "  pass  {name}")?,
                Err(why) => writeln!(f, "  FAIL  {name}: {why}")?,
            }
        }
        write!(f, "{}", if self.passed() { "PASS" } else { "FAIL" })
    }
}

fn expect_refusal<T>(r: Result<T, CallError>, code: ErrorCode) -> Result<(), String> {
    match r {
        Err(CallError {
            failure: Failure::Refused { code: c, .. },
            ..
        }) if c == code => Ok(()),
        Err(e) => Err(format!("expected a {code:?} refusal, got: {e}")),
        Ok(_) => Err(format!("expected a {code:?} refusal, got an output")),
    }
}

/// Checks a policy component. Never fails itself: every problem is a failed check.
pub fn check(engine: &PolicyEngine, wasm: &[u8]) -> Report {
    let mut report = Report {
        sha256: hex::encode(PolicyEngine::sha256(wasm)),
        size_bytes: wasm.len(),
        contract: None,
        imports: Vec::new(),
        info: None,
        checks: Vec::new(),
    };
    let policy: Arc<Policy> = match engine.load(wasm) {
        Ok(p) => p,
        Err(e) => {
            report.checks.push(("load".into(), Err(e.to_string())));
            return report;
        }
    };
    report.contract = Some(policy.info().contract.clone());
    report.imports = policy.imports().to_vec();
    report.info = Some(policy.info().clone());
    let mut push = |name: &str, r: Result<(), String>| report.checks.push((name.into(), r));
    push(
        "loads, implements the contract and imports nothing else",
        Ok(()),
    );

    let names: Vec<&str> = policy
        .info()
        .params
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    let missing: Vec<&&str> = SEED_PARAMS.iter().filter(|s| !names.contains(s)).collect();
    push(
        "declares the seed parameters",
        if missing.is_empty() {
            Ok(())
        } else {
            Err(format!("missing {missing:?}"))
        },
    );
    let params = policy.resolve_params(&[]).map_err(|e| e.to_string());
    push(
        "resolves its defaults",
        params.as_ref().map(|_| ()).map_err(|e| e.clone()),
    );
    let params = params.unwrap_or_default();
    let unknown = [Param {
        name: "no-such-parameter".into(),
        value: ParamValue::Count(1),
    }];
    push(
        "refuses an unknown parameter",
        expect_refusal(policy.resolve_params(&unknown), ErrorCode::InvalidParameter),
    );

    let weights = |uids: Vec<u16>, weights: Vec<f64>| WeightsInput {
        hotkeys: uids.iter().map(|u| format!("hk{u}")).collect(),
        uids,
        weights,
        multipliers: Vec::new(),
    };
    push(
        "refuses a NaN weight",
        expect_refusal(
            policy.apply_weights(&params, &weights(vec![0, 1], vec![1.0, f64::NAN])),
            ErrorCode::InvalidWeight,
        ),
    );
    push(
        "refuses an infinite weight",
        expect_refusal(
            policy.apply_weights(&params, &weights(vec![0], vec![f64::INFINITY])),
            ErrorCode::InvalidWeight,
        ),
    );
    push(
        "refuses a negative weight",
        expect_refusal(
            policy.apply_weights(&params, &weights(vec![0], vec![-1.0])),
            ErrorCode::InvalidWeight,
        ),
    );
    push(
        "refuses duplicate uids",
        expect_refusal(
            policy.apply_weights(&params, &weights(vec![3, 3], vec![1.0, 1.0])),
            ErrorCode::DuplicateUid,
        ),
    );
    let mut short = weights(vec![0, 1], vec![1.0, 1.0]);
    short.hotkeys.pop();
    push(
        "refuses lists of different lengths",
        expect_refusal(
            policy.apply_weights(&params, &short),
            ErrorCode::LengthMismatch,
        ),
    );

    push(
        "dry run on a synthetic subnet keeps the invariants",
        dry_run(&policy, &params),
    );
    report
}

/// Runs a synthetic epoch of 32 miners with 3 days of history end to end and checks the
/// multipliers and weights against the contract's invariants.
pub fn dry_run(policy: &Policy, params: &[Param]) -> Result<(), String> {
    let s = sample::epoch(policy, 32, 3).map_err(|e| e.to_string())?;
    let mults = policy
        .multipliers(params, &s.multipliers)
        .map_err(|e| e.to_string())?;
    invariants::multipliers(&s.multipliers, &mults, invariants::max_multiplier(params))?;
    let out = policy
        .apply_weights(params, &s.weights)
        .map_err(|e| e.to_string())?;
    if out.weights.iter().all(|w| *w == 0) {
        return Err("every weight is zero on a subnet where most miners hold".into());
    }
    Ok(())
}
