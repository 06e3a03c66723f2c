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

fn native<I: serde::de::DeserializeOwned, O: serde::Serialize>(
    input: &Value,
    f: impl FnOnce(
        Vec<vesting_policy_default::types::Param>,
        I,
    ) -> Result<O, vesting_policy_default::types::PolicyError>,
    params: &Value,
) -> Value {
    let out = f(
        serde_json::from_value(params.clone()).unwrap(),
        serde_json::from_value(input.clone()).unwrap(),
    );
    serde_json::to_value(out).unwrap()
}

/// The vector's function called on the native build of the default policy crate.
fn native_call(v: &vectors::Vector) -> Value {
    let params = serde_json::to_value(&v.params).unwrap();
    let i = &v.input;
    match v.function.as_str() {
        "info" => serde_json::json!({ "Ok": DefaultPolicy::info() }),
        "resolve-params" => native(
            &Value::Null,
            |p, ()| DefaultPolicy::resolve_params(p),
            &params,
        ),
        "attribute" => native(i, DefaultPolicy::attribute, &params),
        "ledger-step" => native(i, DefaultPolicy::ledger_step, &params),
        "holdings" => native(i, DefaultPolicy::holdings, &params),
        "multipliers" => native(i, DefaultPolicy::multipliers, &params),
        "apply-weights" => native(i, DefaultPolicy::apply_weights, &params),
        f => panic!("unknown function {f}"),
    }
}

#[test]
fn default_vectors_pass_in_wasm_and_native_identically() {
    let policy = default_policy();
    let mut count = 0;
    for kind in ["default", "contract"] {
        for (file, v) in vectors::load_dir(&vectors_dir(kind)).unwrap() {
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

#[test]
fn the_component_imports_only_the_contract() {
    let policy = default_policy();
    assert_eq!(
        policy.imports(),
        ALLOWED_IMPORTS,
        "the default policy imports more than the contract"
    );
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
            native(
                &serde_json::to_value(&s.attribution).unwrap(),
                DefaultPolicy::attribute,
                &params,
            ),
        ),
        (
            "ledger-step",
            serde_json::to_value(policy.ledger_step(&s.params, &s.ledger).unwrap()).unwrap(),
            native(
                &serde_json::to_value(&s.ledger).unwrap(),
                DefaultPolicy::ledger_step,
                &params,
            ),
        ),
        (
            "holdings",
            serde_json::to_value(policy.holdings(&s.params, &s.holdings).unwrap()).unwrap(),
            native(
                &serde_json::to_value(&s.holdings).unwrap(),
                DefaultPolicy::holdings,
                &params,
            ),
        ),
        (
            "multipliers",
            serde_json::to_value(policy.multipliers(&s.params, &s.multipliers).unwrap()).unwrap(),
            native(
                &serde_json::to_value(&s.multipliers).unwrap(),
                DefaultPolicy::multipliers,
                &params,
            ),
        ),
        (
            "apply-weights",
            serde_json::to_value(policy.apply_weights(&s.params, &s.weights).unwrap()).unwrap(),
            native(
                &serde_json::to_value(&s.weights).unwrap(),
                DefaultPolicy::apply_weights,
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
