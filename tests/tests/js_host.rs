//! The JavaScript side of the contract (`examples/js`): the same policy `.wasm`, transpiled
//! by jco and run by Node, passes every conformance vector and gives bit-identical
//! weights. The host speaks both contracts: the default policy as built here
//! (`bittensor:vesting@0.2.0`, through the 0.1 <-> 0.2 adapter for the contract-neutral
//! vectors) and the 0.1 build kept as a fixture (`tests/fixtures/policies/default-0.1.0.wasm`)
//! pass the same vectors with the same results.
//!
//! Needs `node` (20 or newer) and `examples/js/node_modules` (jco, pinned by the lock
//! file); a machine without them fails these tests (CI runs `npm ci` in `examples/js`).
use std::path::PathBuf;
use std::process::{Command, Output};
use vesting_e2e::{CLASSIC_POLICY_WASM, DEFAULT_POLICY_WASM, repo};
use vesting_host::policy::{Limits, ONE, Param, PolicyEngine, WeightsInput, vectors};

const INSTALL: &str = "(cd examples/js && npm ci)";

/// The default policy as built for `bittensor:vesting@0.1.0` (repository-relative).
const DEFAULT_POLICY_0_1_WASM: &str = "tests/fixtures/policies/default-0.1.0.wasm";

/// The raw `bittensor:vesting@0.2.0` vectors (only for 0.2 policies), when there are any.
const RAW_0_2_VECTORS: &str = "tests/vectors/contract-0.2";

/// Runs `node args...` in the repository; fails the test with how to install Node and
/// jco when they are missing.
fn node(args: &[&str]) -> Output {
    node_env(args, &[])
}

/// `node` with extra environment variables.
fn node_env(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let probe = Command::new("node")
        .arg("--version")
        .output()
        .unwrap_or_else(|e| panic!("node is needed to run these tests ({e}); then {INSTALL}"));
    assert!(probe.status.success(), "`node --version` failed; {INSTALL}");
    let jco = repo().join("examples/js/node_modules/@bytecodealliance/jco/package.json");
    assert!(
        jco.is_file(),
        "examples/js/node_modules has no jco ({} is missing); run {INSTALL}",
        jco.display()
    );
    Command::new("node")
        .args(args)
        .envs(envs.iter().copied())
        .current_dir(repo())
        .output()
        .expect("run node")
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

fn read_json(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The runner's verdicts, `(vector name, passed)`, in output order.
fn verdicts(stdout: &str) -> Vec<(String, bool)> {
    stdout
        .lines()
        .filter_map(|l| {
            if let Some(name) = l.strip_prefix("  pass  ") {
                Some((name.to_string(), true))
            } else {
                l.strip_prefix("  FAIL  ")
                    .map(|rest| (rest.split(" (").next().unwrap().to_string(), false))
            }
        })
        .collect()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("js-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn js_passes_every_conformance_vector() {
    // Every vector file, named one by one: each must pass, by name, against the default
    // policy (0.2) and its 0.1 build. The raw 0.2 vectors (if any) run only against the
    // 0.2 one; the 0.1 one skips them and says so.
    let files: Vec<PathBuf> = ["tests/vectors/default", "tests/vectors/contract"]
        .iter()
        .flat_map(|d| vector_files(d))
        .collect();
    assert!(files.len() > 20, "only {} vectors found", files.len());
    let raw: Vec<PathBuf> = if repo().join(RAW_0_2_VECTORS).is_dir() {
        vector_files(RAW_0_2_VECTORS)
    } else {
        Vec::new()
    };
    let name = |p: &PathBuf| read_json(p)["name"].as_str().unwrap().to_string();
    let paths: Vec<String> = files
        .iter()
        .chain(&raw)
        .map(|p| p.to_str().unwrap().to_string())
        .collect();
    for (wasm, contract) in [
        (DEFAULT_POLICY_WASM, "bittensor:vesting@0.2.0"),
        (DEFAULT_POLICY_0_1_WASM, "bittensor:vesting@0.1.0"),
    ] {
        // A vector that names a contract runs only against policies of that contract.
        let applies = |p: &&PathBuf| {
            read_json(p)["contract"]
                .as_str()
                .is_none_or(|c| c == contract)
        };
        let names: Vec<(String, bool)> = files
            .iter()
            .chain(&raw)
            .filter(applies)
            .map(|p| (name(p), true))
            .collect();
        let skipped = files.len() + raw.len() - names.len();
        let mut args = vec!["examples/js/run_vectors.mjs", wasm];
        args.extend(paths.iter().map(String::as_str));
        let out = node(&args);
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(0), "{wasm}: {stdout}{stderr}");
        assert!(stdout.starts_with("policy default@"), "{stdout}");
        assert!(
            stdout
                .lines()
                .nth(1)
                .is_some_and(|l| l.starts_with(&format!("contract {contract}"))),
            "{wasm}: {stdout}"
        );
        assert_eq!(verdicts(&stdout), names, "{wasm}: {stdout}");
        let last = match skipped {
            0 => format!("{} passed, 0 failed", names.len()),
            k => format!("{} passed, 0 failed, {k} skipped", names.len()),
        };
        assert_eq!(
            stdout.lines().last(),
            Some(last.as_str()),
            "{wasm}: {stdout}"
        );
        assert!(!stdout.contains("FAIL"), "{wasm}: {stdout}");
    }
}

#[test]
fn js_contract_adapter_tests_pass() {
    // examples/js/test_contract.mjs: the 0.1 <-> 0.2 adapter on its own (UTF-8 byte order
    // of the account table, ledgers flattened and back, invalid output), the 0.1 build
    // behind a 0.2 face, and the 0.2 build against the 0.1 one.
    let out = node_env(
        &["--test", "examples/js/test_contract.mjs"],
        &[
            ("VESTING_WASM_0_1", DEFAULT_POLICY_0_1_WASM),
            ("VESTING_WASM_0_2", DEFAULT_POLICY_WASM),
        ],
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("\n# fail 0\n"), "{stdout}");
    assert!(!stdout.contains("# SKIP VESTING_WASM_0_2"), "{stdout}");
}

#[test]
fn js_0_1_and_0_2_builds_agree_on_every_vector() {
    // The 0.2 build through the adapter gives the 0.1 build's results, vector by vector.
    let files: Vec<PathBuf> = ["tests/vectors/default", "tests/vectors/contract"]
        .iter()
        .flat_map(|d| vector_files(d))
        .collect();
    let out = node(&[
        "examples/js/compare_contracts.mjs",
        DEFAULT_POLICY_0_1_WASM,
        DEFAULT_POLICY_WASM,
        "tests/vectors/default",
        "tests/vectors/contract",
    ]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    // A vector for one contract only (`info`, which declares it) is skipped.
    let one_contract = files
        .iter()
        .filter(|p| read_json(p)["contract"].is_string())
        .count();
    assert!(one_contract >= 1, "info.json names its contract");
    assert_eq!(
        stdout.lines().last(),
        Some(
            format!(
                "{} same, 0 different, {one_contract} skipped",
                files.len() - one_contract
            )
            .as_str()
        ),
        "{stdout}"
    );
}

#[test]
fn js_runner_fails_a_vector_that_does_not_match() {
    // The runner is not vacuous: an expectation off by one unit, an integer turned into a
    // float, or a u64 off by one above 2^53 (where a Number would round it away) fails.
    let dir = temp_dir("vectors");
    let v = read_json(&repo().join("tests/vectors/default/weights-basic.json"));
    let mut off_by_one = v.clone();
    off_by_one["expect"]["Ok"]["chain_weights"][1] = serde_json::json!(43691);
    let mut float = v.clone();
    float["name"] = serde_json::json!("weights-basic-float");
    float["expect"]["Ok"]["weights"][0] = serde_json::json!(600000000.0);
    let mut big = read_json(&repo().join("tests/vectors/default/attribute-u64-extremes.json"));
    let expect = big["expect"].to_string();
    let max = u64::MAX.to_string();
    assert!(
        expect.contains(&max),
        "attribute-u64-extremes expects no u64::MAX"
    );
    let below = (u64::MAX - 1).to_string();
    big["expect"] = serde_json::from_str(&expect.replacen(&max, &below, 1)).unwrap();
    big["name"] = serde_json::json!("u64-off-by-one");
    std::fs::write(dir.join("a.json"), off_by_one.to_string()).unwrap();
    std::fs::write(dir.join("b.json"), float.to_string()).unwrap();
    std::fs::write(dir.join("c.json"), v.to_string()).unwrap();
    std::fs::write(dir.join("d.json"), big.to_string()).unwrap();
    let out = node(&[
        "examples/js/run_vectors.mjs",
        DEFAULT_POLICY_WASM,
        dir.to_str().unwrap(),
    ]);
    let (stdout, stderr) = text(&out);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert_eq!(
        stdout.lines().last(),
        Some("1 passed, 3 failed"),
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
    assert!(
        stdout.contains(&format!("expected {below}, got {max}")),
        "{stdout}"
    );
}

#[test]
fn js_and_rust_runners_agree_vector_by_vector() {
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

    let out = node(&["examples/js/run_vectors.mjs", CLASSIC_POLICY_WASM, dir]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert_eq!(verdicts(&stdout), rust, "{stdout}");
    assert_eq!(
        stdout.lines().last(),
        Some(format!("{} passed, {failing} failed", rust.len() - failing).as_str()),
        "{stdout}"
    );
}

/// The library's convenience for validators on each `{params, input}` file: (f64 bits of
/// each adjusted weight, chain uids, chain weights), one JSON line per file.
const APPLY: &str = r#"
import { readFileSync } from "node:fs";
import { Policy, parseJson } from "./examples/js/vesting_policy.mjs";
const policy = await Policy.load(process.argv[1]);
const bits = (x) => { const d = new DataView(new ArrayBuffer(8)); d.setFloat64(0, x, true); return d.getBigUint64(0, true).toString(); };
for (const path of process.argv.slice(2)) {
  const v = parseJson(readFileSync(path, "utf8"));
  const i = v.input;
  const r = await policy.applyVestingMultipliers(i.weights, i.uids, i.hotkeys, i.multipliers, v.params);
  console.log(JSON.stringify({ file: path, weight_bits: r.weights.map(bits), chain_uids: r.chainUids, chain_weights: r.chainWeights }));
}
"#;

/// A 64-uid validator: awkward float weights, multipliers for most uids (some zero, one
/// uid re-registered under another hotkey), as a `{params, input}` file.
fn synthetic_weights() -> serde_json::Value {
    let n = 64u16;
    let uids: Vec<u16> = (0..n).collect();
    let weights: Vec<f64> = (0..n)
        .map(|i| ((i as f64 * 0.7331).sin().abs() + 1e-3) / 3.0)
        .collect();
    let hotkeys: Vec<String> = (0..n).map(|i| format!("5Hotkey{i:02}")).collect();
    let multipliers: Vec<serde_json::Value> = (0..n)
        .filter(|i| i % 7 != 3)
        .map(|i| {
            let m = (i as u64 * 23_456_789) % 1_500_000_001;
            serde_json::json!({
                "uid": i,
                "hotkey": if i == 10 { "5Previous".to_string() } else { format!("5Hotkey{i:02}") },
                "holder": format!("5Cold{}", i % 5),
                "multiplier": if i % 11 == 0 { 0 } else { m },
                "held_factor": m / 2,
                "duration_factor": m / 3,
                "eligible": i % 11 != 0,
            })
        })
        .collect();
    serde_json::json!({
        "params": [{"name": "max_multiplier", "value": {"Fixed": 1_500_000_000u64}}],
        "input": {"uids": uids, "weights": weights, "hotkeys": hotkeys, "multipliers": multipliers},
    })
}

#[test]
fn js_weights_match_the_rust_host_bit_for_bit() {
    let engine = PolicyEngine::new(Limits::default(), None).unwrap();
    let policy = engine
        .load(&std::fs::read(DEFAULT_POLICY_WASM).unwrap())
        .unwrap();
    // Every apply-weights vector that succeeds, and the synthetic validator.
    let dir = temp_dir("weights");
    let synthetic = dir.join("synthetic.json");
    std::fs::write(&synthetic, synthetic_weights().to_string()).unwrap();
    let mut cases: Vec<(PathBuf, serde_json::Value)> = vector_files("tests/vectors/default")
        .into_iter()
        .map(|p| {
            let v = read_json(&p);
            (p, v)
        })
        .filter(|(_, v)| v["function"] == "apply-weights" && v["expect"].get("Ok").is_some())
        .collect();
    assert!(cases.len() >= 3, "{} apply-weights vectors", cases.len());
    cases.push((synthetic.clone(), read_json(&synthetic)));

    let paths: Vec<String> = cases
        .iter()
        .map(|(p, _)| p.to_str().unwrap().to_string())
        .collect();
    let mut args = vec!["--input-type=module", "-e", APPLY, DEFAULT_POLICY_WASM];
    args.extend(paths.iter().map(String::as_str));
    let out = node(&args);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), cases.len(), "{stdout}{stderr}");

    let mut nonzero = 0;
    for ((path, v), js) in cases.iter().zip(&lines) {
        let name = path.file_name().unwrap().to_string_lossy();
        let params: Vec<Param> = serde_json::from_value(v["params"].clone()).unwrap();
        let input: WeightsInput = serde_json::from_value(v["input"].clone()).unwrap();
        let rust = policy.apply_weights(&params, &input).unwrap();
        if let Some(expect) = v.get("expect") {
            // The Rust host agrees with the vector.
            assert_eq!(serde_json::to_value(&rust).unwrap(), expect["Ok"], "{name}");
        }
        let bits: Vec<String> = rust
            .weights
            .iter()
            .map(|w| (*w as f64 / ONE as f64).to_bits().to_string())
            .collect();
        assert_eq!(js["weight_bits"], serde_json::json!(bits), "{name}: {js}");
        assert_eq!(
            js["chain_uids"],
            serde_json::json!(rust.chain_uids),
            "{name}"
        );
        assert_eq!(
            js["chain_weights"],
            serde_json::json!(rust.chain_weights),
            "{name}"
        );
        if rust.weights.iter().any(|w| *w > 0) {
            nonzero += 1;
            assert_eq!(rust.weights.iter().sum::<u64>(), ONE, "{name}");
            assert!(!rust.chain_uids.is_empty(), "{name}");
        }
    }
    assert!(nonzero >= 3, "too few cases with non-zero weights");

    // The validator's command line on the synthetic validator: the policy's whole output,
    // every integer exact, as the Rust host's serde writes it.
    let v = read_json(&synthetic);
    let params: Vec<Param> = serde_json::from_value(v["params"].clone()).unwrap();
    let input: WeightsInput = serde_json::from_value(v["input"].clone()).unwrap();
    let rust = policy.apply_weights(&params, &input).unwrap();
    let mut file = v["input"].clone();
    file["params"] = v["params"].clone();
    let input_path = dir.join("input.json");
    std::fs::write(&input_path, file.to_string()).unwrap();
    let out = node(&[
        "examples/js/adjust_weights.mjs",
        "--wasm",
        DEFAULT_POLICY_WASM,
        "--input",
        input_path.to_str().unwrap(),
    ]);
    let (stdout, stderr) = text(&out);
    std::fs::remove_dir_all(&dir).ok();
    assert!(out.status.success(), "{stdout}{stderr}");
    let js: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(js, serde_json::to_value(&rust).unwrap(), "{stdout}");
    assert!(
        rust.chain_weights.contains(&65535) && rust.chain_uids.len() > 40,
        "{rust:?}"
    );
}

#[test]
fn js_refuses_bad_input_with_a_clear_error() {
    // A uid that does not fit u16 is refused, not truncated into another uid; the
    // policy's typed refusal arrives as PolicyError with its code.
    let out = node(&[
        "--input-type=module",
        "-e",
        r#"
import { Policy, PolicyError, PolicyInputError } from "./examples/js/vesting_policy.mjs";
const policy = await Policy.load(process.argv[1]);
for (const [uids, hotkeys] of [[[65536], ["h"]], [[3, 3], ["a", "b"]]]) {
  try {
    await policy.applyVestingMultipliers(uids.map(() => 1.0), uids, hotkeys, []);
    console.log("no error");
  } catch (e) {
    if (e instanceof PolicyInputError) console.log("input:", e.message);
    else if (e instanceof PolicyError) console.log("refused:", e.code);
    else throw e;
  }
}
"#,
        DEFAULT_POLICY_WASM,
    ]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains("input: input.uids[0]: 65536 is out of range for u16"),
        "{stdout}"
    );
    assert!(stdout.contains("refused: DuplicateUid"), "{stdout}");
    assert!(!stdout.contains("no error"), "{stdout}");
}

#[test]
fn js_types_are_what_jco_generates_from_the_wit() {
    // `examples/js/types/` is committed; a contract change must regenerate it
    // (`npm run types`).
    let out = node(&["examples/js/gen_types.mjs", "--check"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    // Both contracts: types/ (wit/vesting.wit) and types/0.1.0/ (wit/0.1.0/vesting.wit).
    assert!(stdout.contains("types/ is current (6 files)"), "{stdout}");
}
