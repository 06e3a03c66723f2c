//! A different policy drops into the same host binary with no rebuild: the example
//! `classic` policy is checked and tested as a file by the real `vesting` command.
use vesting_e2e::{CLASSIC_POLICY_WASM, DEFAULT_POLICY_WASM, vesting};

#[test]
fn the_classic_policy_passes_check_from_a_file() {
    let (code, out, err) = vesting(&["policy", "check", CLASSIC_POLICY_WASM]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("policy:   classic"), "{out}");
    assert!(out.trim_end().ends_with("PASS"), "{out}");
}

#[test]
fn the_classic_policy_passes_the_contract_vectors_and_its_own() {
    for dir in [
        "tests/vectors/contract",
        "examples/policies/classic/vectors",
    ] {
        let (code, out, err) = vesting(&["policy", "test", CLASSIC_POLICY_WASM, dir]);
        assert_eq!(code, 0, "{dir}: {out}{err}");
        assert!(out.contains(" 0 failed"), "{out}");
    }
}

#[test]
fn the_two_policies_really_differ() {
    // The classic policy fails the default policy's exact vectors, and the other way round.
    let (code, out, _) = vesting(&[
        "policy",
        "test",
        CLASSIC_POLICY_WASM,
        "tests/vectors/default",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL  attribute-epoch"), "{out}");
    let (code, out, _) = vesting(&[
        "policy",
        "test",
        DEFAULT_POLICY_WASM,
        "examples/policies/classic/vectors",
    ]);
    assert_eq!(code, 1, "{out}");
}

#[test]
fn a_file_that_is_not_a_policy_is_refused_with_reasons() {
    let bogus = std::env::temp_dir().join(format!("not-a-policy-{}.wasm", std::process::id()));
    std::fs::write(&bogus, b"\0asm\x01\0\0\0").unwrap();
    let (code, out, _) = vesting(&["policy", "check", bogus.to_str().unwrap(), "--json"]);
    assert_eq!(code, 1);
    let report: serde_json::Value = serde_json::from_str(&out).expect("--json prints JSON");
    assert!(
        report["checks"][0][1]["Err"]
            .as_str()
            .unwrap()
            .contains("not a valid wasm component"),
        "{out}"
    );
    let (code, _, err) = vesting(&["policy", "check", "/no/such/file.wasm"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("cannot read policy file `/no/such/file.wasm`"),
        "{err}"
    );
}
