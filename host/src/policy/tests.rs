//! The policy runtime against the real default policy component: the conformance vectors
//! through wasm and through the native build of the same crate (identical outputs), the
//! import list, typed refusals and limits.

use super::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use vesting_policy_default::{DefaultPolicy, Guest};

fn vectors_dir(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/vectors")
        .join(kind)
}

/// The default policy, compiled once per test binary (compiling is slow in debug builds).
fn default_policy() -> Arc<Policy> {
    static POLICY: std::sync::OnceLock<Arc<Policy>> = std::sync::OnceLock::new();
    POLICY
        .get_or_init(|| {
            PolicyEngine::new(Limits::default(), None)
                .unwrap()
                .load(DEFAULT_POLICY_WASM)
                .unwrap()
        })
        .clone()
}

/// A host value converted into the native crate's types (both derive serde from the same WIT).
fn same<T: serde::Serialize, U: serde::de::DeserializeOwned>(v: &T) -> U {
    serde_json::from_value(serde_json::to_value(v).unwrap()).unwrap()
}

/// `f` of the native build on a 0.1-shaped JSON input, through the host's 0.2 adapter both
/// ways, as `{"Ok": ...}` / `{"Err": ...}` in 0.1's shape.
fn native<I, V, N, O, B>(
    input: &Value,
    to_v2: impl FnOnce(&I) -> V,
    accounts: impl FnOnce(&V) -> Vec<String>,
    f: impl FnOnce(
        Vec<vesting_policy_default::types::Param>,
        N,
    ) -> Result<O, vesting_policy_default::types::PolicyError>,
    back: impl FnOnce(B, &[String]) -> Result<Value, String>,
    params: &Value,
) -> Value
where
    I: serde::de::DeserializeOwned,
    V: serde::Serialize,
    N: serde::de::DeserializeOwned,
    O: serde::Serialize,
    B: serde::de::DeserializeOwned,
{
    let host: I = serde_json::from_value(input.clone()).unwrap();
    let v2 = to_v2(&host);
    let table = accounts(&v2);
    let params: Vec<Param> = serde_json::from_value(params.clone()).unwrap();
    match f(same(&contract::params(&params)), same(&v2)) {
        Ok(out) => serde_json::json!({ "Ok": back(same(&out), &table).unwrap() }),
        Err(e) => {
            let (code, message) = contract::error_back(same(&e));
            serde_json::json!({ "Err": PolicyError { code, message } })
        }
    }
}

fn json<T: serde::Serialize>(r: Result<T, String>) -> Result<Value, String> {
    r.map(|v| serde_json::to_value(v).unwrap())
}

/// The native build's `function` on a 0.1-shaped JSON input (see [`native`]).
fn native_fn(function: &str, i: &Value, params: &Value) -> Value {
    use contract as c;
    match function {
        "attribute" => native(
            i,
            c::attribution_input,
            |v| v.accounts.clone(),
            DefaultPolicy::attribute,
            |o, t| json(c::attributions_back(o, t)),
            params,
        ),
        "ledger-step" => native(
            i,
            c::ledger_input,
            |v| v.accounts.clone(),
            DefaultPolicy::ledger_step,
            |o, t| json(c::ledger_output_back(o, t)),
            params,
        ),
        "holdings" => native(
            i,
            c::holdings_input,
            |v| v.accounts.clone(),
            DefaultPolicy::holdings,
            |o, t| json(c::holdings_back(o, t)),
            params,
        ),
        "multipliers" => native(
            i,
            c::multipliers_input,
            |v| v.accounts.clone(),
            DefaultPolicy::multipliers,
            |o, t| json(c::multipliers_back(o, t)),
            params,
        ),
        "apply-weights" => native(
            i,
            c::weights_input,
            |v| v.accounts.clone(),
            DefaultPolicy::apply_weights,
            |o, _| json(Ok(c::weights_back(o))),
            params,
        ),
        other => panic!("no native call for `{other}`"),
    }
}

/// The vector's function called on the native build of the default policy crate.
fn native_call(v: &vectors::Vector) -> Value {
    let params = serde_json::to_value(&v.params).unwrap();
    let i = &v.input;
    match v.function.as_str() {
        "info" => serde_json::json!({ "Ok": DefaultPolicy::info() }),
        "resolve-params" => {
            let p: Vec<Param> = serde_json::from_value(params).unwrap();
            match DefaultPolicy::resolve_params(same(&contract::params(&p))) {
                Ok(r) => serde_json::json!({ "Ok": contract::params_back(same(&r)) }),
                Err(e) => {
                    let (code, message) = contract::error_back(same(&e));
                    serde_json::json!({ "Err": PolicyError { code, message } })
                }
            }
        }
        f => native_fn(f, i, &params),
    }
}

#[test]
fn default_vectors_pass_in_wasm_and_native_identically() {
    let policy = default_policy();
    let mut count = 0;
    for kind in ["default", "contract"] {
        for (file, v) in vectors::load_dir(&vectors_dir(kind)).unwrap() {
            assert!(v.skip_reason(&policy).is_none(), "{}", file.display());
            let wasm = vectors::call(&policy, &v);
            let native = native_call(&v);
            vectors::judge(&v, &wasm).unwrap_or_else(|e| panic!("{} (wasm): {e}", file.display()));
            vectors::judge(&v, &Ok(native.clone()))
                .unwrap_or_else(|e| panic!("{} (native): {e}", file.display()));
            if v.expect_error.is_none() {
                assert_eq!(
                    wasm.unwrap(),
                    native,
                    "{}: wasm and native differ",
                    file.display()
                );
            }
            count += 1;
        }
    }
    assert!(count >= 30, "only {count} vectors found");
}

/// The default policy as it was built for contract 0.1.0 (commit 1771f28): a policy an
/// operator stored before 0.2.0.
fn stored_0_1_policy() -> Arc<Policy> {
    static POLICY: std::sync::OnceLock<Arc<Policy>> = std::sync::OnceLock::new();
    POLICY
        .get_or_init(|| {
            let wasm = std::fs::read(
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../tests/fixtures/policies/default-0.1.0.wasm"),
            )
            .unwrap();
            PolicyEngine::new(Limits::default(), None)
                .unwrap()
                .load(&wasm)
                .unwrap()
        })
        .clone()
}

#[test]
fn a_stored_0_1_policy_still_runs_and_agrees_with_the_0_2_build() {
    let (old, new) = (stored_0_1_policy(), default_policy());
    assert_eq!(old.contract(), contract::Contract::V0_1);
    assert_eq!(old.info().contract, "bittensor:vesting@0.1.0");
    assert_eq!(old.imports(), ["bittensor:vesting/types@0.1.0"]);
    // Every vector that applies to both, with the same output from both contracts.
    let (mut same, mut skipped) = (0, 0);
    for kind in ["default", "contract", "contract-0.2"] {
        for (file, v) in vectors::load_dir(&vectors_dir(kind)).unwrap() {
            if v.skip_reason(&old).is_some() {
                skipped += 1;
                continue;
            }
            let got = vectors::call(&old, &v);
            vectors::judge(&v, &got).unwrap_or_else(|e| panic!("{} (0.1.0): {e}", file.display()));
            assert_eq!(got, vectors::call(&new, &v), "{}", file.display());
            same += 1;
        }
    }
    assert!(
        same >= 30 && skipped >= 10,
        "{same} same, {skipped} skipped"
    );
    // A synthetic epoch, function by function.
    let s = sample::epoch(&new, 64, 5).unwrap();
    let p = &s.params;
    assert_eq!(
        old.attribute(p, &s.attribution).unwrap(),
        new.attribute(p, &s.attribution).unwrap()
    );
    assert_eq!(
        old.ledger_step(p, &s.ledger).unwrap(),
        new.ledger_step(p, &s.ledger).unwrap()
    );
    assert_eq!(
        old.holdings(p, &s.holdings).unwrap(),
        new.holdings(p, &s.holdings).unwrap()
    );
    assert_eq!(
        old.multipliers(p, &s.multipliers).unwrap(),
        new.multipliers(p, &s.multipliers).unwrap()
    );
    assert_eq!(
        old.apply_weights(p, &s.weights).unwrap(),
        new.apply_weights(p, &s.weights).unwrap()
    );
    // The raw 0.2.0 path refuses a 0.1.0 policy with a reason, not a trap.
    let e = old.call_raw_v0_2("holdings", p, &Value::Null).unwrap_err();
    assert!(
        e.contains("does not implement bittensor:vesting@0.2.0"),
        "{e}"
    );
}

#[test]
fn raw_0_2_vectors_refuse_bad_tables_and_flat_ledgers() {
    let policy = default_policy();
    let outcomes = vectors::run_dir(&policy, &vectors_dir("contract-0.2"), false).unwrap();
    assert!(outcomes.len() >= 9);
    for o in &outcomes {
        assert!(o.passed && !o.skipped, "{}: {}", o.name, o.reason);
    }
    // The same vectors are skipped, with the reason, for a 0.1.0 policy.
    let old = vectors::run_dir(&stored_0_1_policy(), &vectors_dir("contract-0.2"), false).unwrap();
    assert!(
        old.iter()
            .all(|o| o.skipped && o.reason.contains("implements bittensor:vesting@0.1.0"))
    );
}

#[test]
fn the_component_imports_only_the_contract() {
    let policy = default_policy();
    assert_eq!(
        policy.imports(),
        [contract::Contract::V0_2.types_import()],
        "the default policy imports more than the contract"
    );
    assert_eq!(policy.contract(), contract::Contract::V0_2);
    assert_eq!(policy.info().contract, CONTRACT);
}

#[test]
fn a_synthetic_epoch_is_bit_identical_in_wasm_and_native() {
    let policy = default_policy();
    let s = sample::epoch(&policy, 64, 5).unwrap();
    let params = serde_json::to_value(&s.params).unwrap();
    let pairs = [
        (
            "attribute",
            serde_json::to_value(policy.attribute(&s.params, &s.attribution).unwrap()).unwrap(),
            native_fn(
                "attribute",
                &serde_json::to_value(&s.attribution).unwrap(),
                &params,
            ),
        ),
        (
            "ledger-step",
            serde_json::to_value(policy.ledger_step(&s.params, &s.ledger).unwrap()).unwrap(),
            native_fn(
                "ledger-step",
                &serde_json::to_value(&s.ledger).unwrap(),
                &params,
            ),
        ),
        (
            "holdings",
            serde_json::to_value(policy.holdings(&s.params, &s.holdings).unwrap()).unwrap(),
            native_fn(
                "holdings",
                &serde_json::to_value(&s.holdings).unwrap(),
                &params,
            ),
        ),
        (
            "multipliers",
            serde_json::to_value(policy.multipliers(&s.params, &s.multipliers).unwrap()).unwrap(),
            native_fn(
                "multipliers",
                &serde_json::to_value(&s.multipliers).unwrap(),
                &params,
            ),
        ),
        (
            "apply-weights",
            serde_json::to_value(policy.apply_weights(&s.params, &s.weights).unwrap()).unwrap(),
            native_fn(
                "apply-weights",
                &serde_json::to_value(&s.weights).unwrap(),
                &params,
            ),
        ),
    ];
    for (f, wasm, native) in pairs {
        assert_eq!(
            serde_json::json!({ "Ok": wasm }),
            native,
            "{f} differs between wasm and native"
        );
    }
    // The sample is not trivial: multipliers spread over the range.
    let m = policy.multipliers(&s.params, &s.multipliers).unwrap();
    let distinct: std::collections::BTreeSet<u64> = m.iter().map(|m| m.multiplier).collect();
    assert!(distinct.len() > 3, "{distinct:?}");
}

#[test]
fn a_refusal_names_the_policy_and_the_function() {
    let policy = default_policy();
    let input = WeightsInput {
        uids: vec![1, 1],
        weights: vec![1.0, 1.0],
        hotkeys: vec!["a".into(), "b".into()],
        multipliers: vec![],
    };
    let e = policy.apply_weights(&[], &input).unwrap_err();
    assert_eq!(e.function, "apply-weights");
    assert!(e.policy.starts_with("default@0.1.0 ("), "{}", e.policy);
    assert!(matches!(
        e.failure,
        Failure::Refused {
            code: ErrorCode::DuplicateUid,
            ..
        }
    ));
    assert!(
        e.to_string().contains("uid 1 appears at positions 0 and 1"),
        "{e}"
    );
}

#[test]
fn fuel_and_memory_limits_stop_a_call_with_a_named_error() {
    let engine = PolicyEngine::new(
        Limits {
            fuel: 50_000,
            memory_bytes: 256 << 20,
        },
        None,
    )
    .unwrap();
    // Loading calls `info`, which fits in 50k fuel; a 64-miner epoch does not.
    let small = engine.load(DEFAULT_POLICY_WASM).unwrap();
    let big = default_policy();
    let s = sample::epoch(&big, 64, 2).unwrap();
    let Err(e) = small.ledger_step(&s.params, &s.ledger) else {
        panic!("a 64-miner step fit in 50k fuel")
    };
    assert_eq!(e.failure, Failure::OutOfFuel { limit: 50_000 });
    assert_eq!(e.function, "ledger-step");
    // 2 MiB holds the 1 MiB stack and `info`, not 100,000 earnings (about 8 MB).
    let engine = PolicyEngine::new(
        Limits {
            fuel: u64::MAX / 2,
            memory_bytes: 2 << 20,
        },
        None,
    )
    .unwrap();
    let tight = engine.load(DEFAULT_POLICY_WASM).unwrap();
    let mut input = s.ledger.clone();
    input.earnings = (0..100_000)
        .map(|i| Earning {
            hotkey: format!("hk{i}"),
            coldkey: format!("ck{i}"),
            block: input.block,
            alpha: 1,
        })
        .collect();
    let Err(e) = tight.ledger_step(&s.params, &input) else {
        panic!("100,000 earnings fit in 2 MiB")
    };
    assert_eq!(
        e.failure,
        Failure::MemoryLimit {
            limit_bytes: 2 << 20
        },
        "{e}"
    );
}

#[test]
fn garbage_and_foreign_components_are_refused_with_reasons() {
    let engine = PolicyEngine::new(Limits::default(), None).unwrap();
    let e = engine.load(b"not wasm at all").err().unwrap();
    assert!(matches!(e, LoadError::Compile(_)), "{e}");
    let report = check::check(&engine, b"\0asm\x01\0\0\0");
    assert!(!report.passed());
    assert!(report.to_string().contains("FAIL  load"), "{report}");
}

#[test]
fn compiled_policies_are_cached_by_sha256_on_disk() {
    let dir = std::env::temp_dir().join(format!("vesting-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let engine = PolicyEngine::new(Limits::default(), Some(dir.clone())).unwrap();
    let a = engine.load(DEFAULT_POLICY_WASM).unwrap();
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(files.len(), 1, "one compiled artifact");
    // A second engine loads from the cache and behaves the same.
    let again = PolicyEngine::new(Limits::default(), Some(dir.clone()))
        .unwrap()
        .load(DEFAULT_POLICY_WASM)
        .unwrap();
    assert_eq!(a.sha256(), again.sha256());
    assert_eq!(a.info(), again.info());
    // The same engine hands out the same loaded policy.
    assert!(Arc::ptr_eq(&a, &engine.load(DEFAULT_POLICY_WASM).unwrap()));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn check_passes_the_default_policy() {
    let engine = PolicyEngine::new(Limits::default(), None).unwrap();
    let report = check::check(&engine, DEFAULT_POLICY_WASM);
    assert!(report.passed(), "{report}");
    assert!(report.checks.len() >= 9);
}
