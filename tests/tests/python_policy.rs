//! The Python side of the contract (`examples/python`): the same policy `.wasm`, run by
//! wasmtime-py, passes every conformance vector and gives bit-identical weights.
//!
//! Needs `python3` with the `wasmtime` package; a machine without them fails these tests
//! (CI installs them with `pip install -r examples/python/requirements.txt`).
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use vesting_e2e::{CLASSIC_POLICY_WASM, DEFAULT_POLICY_WASM, repo};
use vesting_host::policy::{Limits, ONE, Param, PolicyEngine, WeightsInput, vectors};

const INSTALL: &str = "pip install -r examples/python/requirements.txt";

/// Runs `python3 args...` in the repository; fails the test with how to install
/// python3 and wasmtime when they are missing.
fn python(args: &[&str]) -> Output {
    let probe = Command::new("python3")
        .args(["-c", "import wasmtime, wasmtime.component"])
        .output()
        .unwrap_or_else(|e| panic!("python3 is needed to run these tests ({e}); then {INSTALL}"));
    assert!(
        probe.status.success(),
        "python3 has no usable `wasmtime` package; {INSTALL}\n{}",
        String::from_utf8_lossy(&probe.stderr)
    );
    Command::new("python3")
        .args(args)
        .current_dir(repo())
        .output()
        .expect("run python3")
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn vector_files(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

#[test]
fn python_passes_every_conformance_vector() {
    let dirs = ["tests/vectors/default", "tests/vectors/contract"];
    let count: usize = dirs.iter().map(|d| vector_files(d).len()).sum();
    assert!(count > 20, "only {count} vectors found");
    let mut args = vec!["examples/python/run_vectors.py", DEFAULT_POLICY_WASM];
    args.extend(dirs);
    let out = python(&args);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert_eq!(
        stdout.lines().last(),
        Some(format!("{count} passed, 0 failed").as_str()),
        "{stdout}"
    );
    // One pass line per vector file, none failing.
    assert_eq!(stdout.matches("\n  pass  ").count(), count, "{stdout}");
    assert!(!stdout.contains("FAIL"), "{stdout}");
}

#[test]
fn python_runner_fails_a_vector_that_does_not_match() {
    // The runner is not vacuous: an expectation off by one unit, or an integer turned
    // into a float, fails, and the exit code says so.
    let dir = std::env::temp_dir().join(format!("py-vectors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let original = repo().join("tests/vectors/default/weights-basic.json");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&original).unwrap()).unwrap();
    let mut off_by_one = v.clone();
    off_by_one["expect"]["Ok"]["chain_weights"][1] = serde_json::json!(43691);
    let mut float = v.clone();
    float["name"] = serde_json::json!("weights-basic-float");
    float["expect"]["Ok"]["weights"][0] = serde_json::json!(600000000.0);
    std::fs::write(dir.join("a.json"), off_by_one.to_string()).unwrap();
    std::fs::write(dir.join("b.json"), float.to_string()).unwrap();
    std::fs::write(dir.join("c.json"), v.to_string()).unwrap();
    let out = python(&[
        "examples/python/run_vectors.py",
        DEFAULT_POLICY_WASM,
        dir.to_str().unwrap(),
    ]);
    let (stdout, stderr) = text(&out);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert_eq!(
        stdout.lines().last(),
        Some("1 passed, 2 failed"),
        "{stdout}"
    );
    assert!(
        stdout.contains("$.Ok.chain_weights[1]: expected 43691, got 43690"),
        "{stdout}"
    );
    assert!(
        stdout.contains("$.Ok.weights[0]: expected 600000000.0, got 600000000"),
        "{stdout}"
    );
}

#[test]
fn python_and_rust_runners_agree_vector_by_vector() {
    // The example `classic` policy fails some of the default policy's exact vectors:
    // both runners must pass and fail the very same ones.
    let dir = "tests/vectors/default";
    let engine = PolicyEngine::new(Limits::default(), None).unwrap();
    let policy = engine
        .load(&std::fs::read(CLASSIC_POLICY_WASM).unwrap())
        .unwrap();
    let rust: Vec<(String, bool)> = vectors::run_dir(&policy, &repo().join(dir), false)
        .unwrap()
        .into_iter()
        .map(|o| (o.name, o.passed))
        .collect();
    let failing = rust.iter().filter(|(_, passed)| !passed).count();
    assert!(failing > 0 && failing < rust.len(), "{rust:?}");

    let out = python(&["examples/python/run_vectors.py", CLASSIC_POLICY_WASM, dir]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    let python: Vec<(String, bool)> = stdout
        .lines()
        .filter_map(|l| {
            if let Some(name) = l.strip_prefix("  pass  ") {
                Some((name.to_string(), true))
            } else {
                l.strip_prefix("  FAIL  ")
                    .map(|rest| (rest.split(" (").next().unwrap().to_string(), false))
            }
        })
        .collect();
    assert_eq!(python, rust, "{stdout}");
    assert_eq!(
        stdout.lines().last(),
        Some(format!("{} passed, {failing} failed", rust.len() - failing).as_str()),
        "{stdout}"
    );
}

/// The Python convenience for validators, on every `apply-weights` vector that succeeds:
/// (f64 bits of each adjusted weight, chain uids, chain weights), one JSON line per file.
const APPLY: &str = r#"
import json, struct, sys
sys.path.insert(0, "examples/python")
from vesting_policy import Policy
policy = Policy.load(sys.argv[1])
for path in sys.argv[2:]:
    v = json.load(open(path))
    i = v["input"]
    w, cu, cw = policy.apply_vesting_multipliers(i["weights"], i["uids"], i["hotkeys"], i["multipliers"], v["params"])
    bits = [struct.unpack("<Q", struct.pack("<d", x))[0] for x in w]
    print(json.dumps({"file": path, "weight_bits": bits, "chain_uids": cu, "chain_weights": cw}))
"#;

fn apply_weights_vectors() -> Vec<(PathBuf, serde_json::Value)> {
    vector_files("tests/vectors/default")
        .into_iter()
        .map(|p| {
            let v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            (p, v)
        })
        .filter(|(_, v)| v["function"] == "apply-weights" && v["expect"].get("Ok").is_some())
        .collect()
}

#[test]
fn python_apply_vesting_multipliers_matches_the_rust_host() {
    let vectors = apply_weights_vectors();
    assert!(
        vectors.len() >= 3,
        "{} apply-weights vectors",
        vectors.len()
    );
    let engine = PolicyEngine::new(Limits::default(), None).unwrap();
    let policy = engine
        .load(&std::fs::read(DEFAULT_POLICY_WASM).unwrap())
        .unwrap();

    let mut args = vec!["-c", APPLY, DEFAULT_POLICY_WASM];
    let paths: Vec<String> = vectors
        .iter()
        .map(|(p, _)| p.to_str().unwrap().to_string())
        .collect();
    args.extend(paths.iter().map(String::as_str));
    let out = python(&args);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), vectors.len(), "{stdout}{stderr}");

    let mut nonzero = 0;
    for ((path, v), py) in vectors.iter().zip(&lines) {
        let name = Path::new(path).file_name().unwrap().to_string_lossy();
        let params: Vec<Param> = serde_json::from_value(v["params"].clone()).unwrap();
        let input: WeightsInput = serde_json::from_value(v["input"].clone()).unwrap();
        let rust = policy.apply_weights(&params, &input).unwrap();
        // The Rust host agrees with the vector, and Python agrees with the Rust host.
        assert_eq!(
            serde_json::to_value(&rust).unwrap(),
            v["expect"]["Ok"],
            "{name}"
        );
        let bits: Vec<u64> = rust
            .weights
            .iter()
            .map(|w| (*w as f64 / ONE as f64).to_bits())
            .collect();
        assert_eq!(py["weight_bits"], serde_json::json!(bits), "{name}: {py}");
        assert_eq!(
            py["chain_uids"],
            serde_json::json!(rust.chain_uids),
            "{name}"
        );
        assert_eq!(
            py["chain_weights"],
            serde_json::json!(rust.chain_weights),
            "{name}"
        );
        if rust.weights.iter().any(|w| *w > 0) {
            nonzero += 1;
            let sum: f64 = rust.weights.iter().map(|w| *w as f64 / ONE as f64).sum();
            assert!((sum - 1.0).abs() < 1e-9, "{name}: sum {sum}");
            assert!(!rust.chain_uids.is_empty(), "{name}");
        }
    }
    assert!(nonzero >= 2, "too few vectors with non-zero weights");
}

#[test]
fn python_refuses_bad_input_with_a_clear_error() {
    // A uid that does not fit u16 must not be truncated into another uid, and the
    // policy's typed refusal arrives as PolicyError with its code.
    let script = r#"
import sys
sys.path.insert(0, "examples/python")
from vesting_policy import Policy, PolicyError, PolicyInputError
policy = Policy.load(sys.argv[1])
try:
    policy.apply_vesting_multipliers([1.0], [65536], ["h"], [])
    print("no error")
except PolicyInputError as e:
    print("input:", e)
try:
    policy.apply_vesting_multipliers([1.0, 1.0], [3, 3], ["a", "b"], [])
    print("no error")
except PolicyError as e:
    print("refused:", e.code)
"#;
    let out = python(&["-c", script, DEFAULT_POLICY_WASM]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains("input: input.uids[0]: 65536 is out of range for u16"),
        "{stdout}"
    );
    assert!(stdout.contains("refused: DuplicateUid"), "{stdout}");
    assert!(!stdout.contains("no error"), "{stdout}");
}
