//! A looping, a memory-hungry and an invalid-output policy are each refused at install,
//! and when forced into service (loaded with no check) do not take it down: the built-in
//! policy answers, and the failure is counted.

use std::sync::Arc;
use vesting_host::policy::Failure;
use vesting_host::service::{VestingConfig, VestingSystem};

const POLICIES: [(&str, &str); 3] = [
    ("spin", env!("MISBEHAVING_SPIN_WASM")),
    ("hog", env!("MISBEHAVING_HOG_WASM")),
    ("invalid", env!("MISBEHAVING_INVALID_WASM")),
];

fn system(policy: Option<&str>, db: &std::path::Path) -> VestingSystem {
    // An empty store: what a fresh validator has.
    drop(vesting_host::store::Store::open(db).expect("create the store"));
    let config = VestingConfig {
        db_path: db.to_path_buf(),
        policy: policy.map(Into::into),
        ..VestingConfig::default()
    };
    VestingSystem::new(config).expect("the system starts")
}

#[test]
fn each_is_refused_at_install_with_the_reason() {
    let db = std::env::temp_dir().join(format!("vesting-bad-install-{}.db", std::process::id()));
    let s = system(None, &db);
    for (what, path) in POLICIES {
        let wasm = std::fs::read(path).unwrap();
        let (report, activated) = s.install(&wasm).unwrap();
        assert!(activated.is_none(), "{what} was activated");
        assert!(!report.passed(), "{what} passed its checks");
        let text = report.to_string();
        let reason = match what {
            "spin" => "ran out of fuel",
            "hog" => "memory limit",
            _ => "above max_multiplier",
        };
        assert!(text.contains(reason), "{what}: {text}");
        assert!(
            s.policy().info().name == "default",
            "the policy in service changed"
        );
    }
    let _ = std::fs::remove_file(&db);
}

#[test]
fn forced_into_service_they_do_not_take_it_down() {
    let uids: Vec<u16> = (0..8).collect();
    let hotkeys: Vec<String> = uids.iter().map(|u| format!("hk{u}")).collect();
    let weights: Vec<f64> = uids.iter().map(|u| 1.0 + *u as f64).collect();
    for (what, path) in POLICIES {
        let db = std::env::temp_dir().join(format!("vesting-bad-{what}-{}.db", std::process::id()));
        let s = Arc::new(system(Some(path), &db));
        assert_eq!(s.policy().info().name, "misbehaving");
        let out = s
            .apply_vesting_multipliers(&weights, &uids, &hotkeys)
            .expect("the service still answers");
        assert_eq!(out.weights.len(), 8);
        // No multipliers yet: every uid is unknown to the built-in policy (multiplier 0), so
        // the answer is all zeros rather than the broken policy's output or a crash.
        assert!(
            out.weights.iter().all(|w| *w == 0),
            "{what}: {:?}",
            out.weights
        );
        assert_eq!(
            s.metrics()
                .policy_failures
                .load(std::sync::atomic::Ordering::Relaxed),
            1,
            "{what}"
        );
        // The failure itself is named.
        let policy = s.policy();
        let input = vesting_host::policy::WeightsInput {
            uids: uids.clone(),
            weights: weights.clone(),
            hotkeys: hotkeys.clone(),
            multipliers: Vec::new(),
        };
        let e = policy.apply_weights(&[], &input).unwrap_err();
        assert_eq!(e.function, "apply-weights");
        match what {
            "spin" => assert!(matches!(e.failure, Failure::OutOfFuel { .. }), "{e}"),
            "hog" => assert!(matches!(e.failure, Failure::MemoryLimit { .. }), "{e}"),
            _ => assert!(matches!(e.failure, Failure::InvalidOutput(_)), "{e}"),
        }
        let _ = std::fs::remove_file(&db);
    }
}
