//! Conformance vectors: JSON files of a function's parameters, input and expected
//! output, run against any policy (like `opa test`). A vector expects either an exact
//! output (`expect`, as serde writes `Result`: `{"Ok": ...}` / `{"Err": ...}`) or only an
//! error code (`expect_error`), which is what contract-level vectors use.
//!
//! A vector is written in the host's (0.1.0) shape and runs against a policy of either
//! contract (a 0.2.0 policy through the adapter), unless it names a `contract`: then it
//! runs only against policies of that contract, its input in that contract's own shape
//! (`tests/vectors/contract-0.2/`), and is skipped for the others.

use super::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// One vector file.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vector {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Only for policies of this contract, input in its shape (see the module's doc).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract: Option<String>,
    /// The contract function: info, resolve-params, attribute, ledger-step, holdings,
    /// multipliers, apply-weights.
    pub function: String,
    #[serde(default)]
    pub params: Vec<Param>,
    #[serde(default)]
    pub input: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect_error: Option<ErrorCode>,
}

/// The outcome of one vector.
#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    pub file: PathBuf,
    pub name: String,
    pub passed: bool,
    /// Not run: the vector is for another contract than the policy's.
    pub skipped: bool,
    /// Why it failed or was skipped (empty when it passed).
    pub reason: String,
}

impl Vector {
    /// Why this vector does not apply to `policy`, if it does not.
    pub fn skip_reason(&self, policy: &Policy) -> Option<String> {
        let c = self.contract.as_deref()?;
        (c != policy.contract().name()).then(|| {
            format!(
                "for {c} policies; `{}` implements {}",
                policy.label(),
                policy.contract().name()
            )
        })
    }
}

/// Reads every `*.json` vector under `dir` (sorted by path).
pub fn load_dir(dir: &Path) -> anyhow::Result<Vec<(PathBuf, Vector)>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("cannot read vectors directory {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path)?;
            let v: Vector = serde_json::from_str(&text).map_err(|e| {
                anyhow::anyhow!("{}: not a conformance vector: {e}", path.display())
            })?;
            Ok((path, v))
        })
        .collect()
}

/// The contract's functions that take an input.
const FUNCTIONS: [&str; 5] = [
    "attribute",
    "ledger-step",
    "holdings",
    "multipliers",
    "apply-weights",
];

fn parse<T: serde::de::DeserializeOwned>(input: &Value) -> Result<T, String> {
    serde_json::from_value(input.clone())
        .map_err(|e| format!("input does not fit the function: {e}"))
}

fn encode<T: Serialize>(r: Result<T, CallError>) -> Result<Value, String> {
    match r {
        Ok(v) => Ok(serde_json::json!({ "Ok": v })),
        Err(CallError {
            failure: Failure::Refused { code, message },
            ..
        }) => Ok(serde_json::json!({ "Err": PolicyError { code, message } })),
        Err(e) => Err(e.to_string()),
    }
}

/// Calls the vector's function on `policy`; the output as JSON `{"Ok"|"Err": ...}`, or why
/// the call failed outright (trap, limit, bad vector).
pub fn call(policy: &Policy, v: &Vector) -> Result<Value, String> {
    let p = &v.params;
    let raw = v.contract.as_deref() == Some(contract::Contract::V0_2.name())
        && !matches!(v.function.as_str(), "info" | "resolve-params");
    if raw {
        let function = FUNCTIONS
            .iter()
            .find(|f| **f == v.function)
            .ok_or_else(|| format!("unknown function `{}`", v.function))?;
        return encode(policy.call_raw_v0_2(function, p, &v.input)?);
    }
    match v.function.as_str() {
        "info" => Ok(serde_json::json!({ "Ok": policy.info() })),
        "resolve-params" => encode(policy.resolve_params(p)),
        "attribute" => encode(policy.attribute(p, &parse(&v.input)?)),
        "ledger-step" => encode(policy.ledger_step(p, &parse(&v.input)?)),
        "holdings" => encode(policy.holdings(p, &parse(&v.input)?)),
        "multipliers" => encode(policy.multipliers(p, &parse(&v.input)?)),
        "apply-weights" => encode(policy.apply_weights(p, &parse(&v.input)?)),
        other => Err(format!("unknown function `{other}`")),
    }
}

/// Compares an output with what the vector expects.
pub fn judge(v: &Vector, got: &Result<Value, String>) -> Result<(), String> {
    let got = got.as_ref().map_err(|e| e.clone())?;
    if let Some(code) = &v.expect_error {
        let want = serde_json::to_value(code).unwrap_or_default();
        return match got.get("Err").and_then(|e| e.get("code")) {
            Some(c) if *c == want => Ok(()),
            _ => Err(format!("expected error {want}, got {got}")),
        };
    }
    match &v.expect {
        Some(want) if want == got => Ok(()),
        Some(want) => Err(first_difference(want, got, "$")),
        None => Err("the vector has neither `expect` nor `expect_error`".into()),
    }
}

/// The path and values of the first place two JSON values differ.
pub fn first_difference(want: &Value, got: &Value, at: &str) -> String {
    match (want, got) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                match b.get(k) {
                    Some(vb) if va == vb => {}
                    Some(vb) => return first_difference(va, vb, &format!("{at}.{k}")),
                    None => return format!("{at}.{k}: expected {va}, missing"),
                }
            }
            match b.keys().find(|k| !a.contains_key(*k)) {
                Some(k) => format!("{at}.{k}: unexpected"),
                None => format!("{at}: differs"),
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .find(|(_, (x, y))| x != y)
            .map(|(i, (x, y))| first_difference(x, y, &format!("{at}[{i}]")))
            .unwrap_or_else(|| format!("{at}: differs")),
        (Value::Array(a), Value::Array(b)) => {
            format!("{at}: expected {} items, got {}", a.len(), b.len())
        }
        _ => format!("{at}: expected {want}, got {got}"),
    }
}

/// Runs every vector under `dir`. With `bless`, writes the actual outputs into `expect`
/// of vectors that expect an exact output (to create or update them; review the diff).
pub fn run_dir(policy: &Policy, dir: &Path, bless: bool) -> anyhow::Result<Vec<Outcome>> {
    let mut outcomes = Vec::new();
    for (file, mut v) in load_dir(dir)? {
        if let Some(reason) = v.skip_reason(policy) {
            outcomes.push(Outcome {
                file,
                name: v.name.clone(),
                passed: true,
                skipped: true,
                reason,
            });
            continue;
        }
        let got = call(policy, &v);
        if let (true, None, Ok(value)) = (bless, &v.expect_error, &got) {
            v.expect = Some(value.clone());
            std::fs::write(&file, serde_json::to_string_pretty(&v)? + "\n")?;
        }
        let verdict = judge(&v, &got);
        outcomes.push(Outcome {
            file,
            name: v.name.clone(),
            passed: verdict.is_ok(),
            skipped: false,
            reason: verdict.err().unwrap_or_default(),
        });
    }
    Ok(outcomes)
}
