//! The Python validator example (`examples/python/validator.py`) against the real service:
//! `vesting devnet` and `vesting run` as processes, then the example's two paths (the
//! API's `POST /weights/apply`, and the policy `.wasm` run by wasmtime-py on the latest
//! multipliers from the API or the database) give the same full output, bit for bit.
//!
//! Needs `python3` with the `wasmtime` package; a machine without them fails this test
//! (CI installs them with `pip install -r examples/python/requirements.txt`).
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;
use vesting_e2e::proc::{free_port, spawn, wait_for};
use vesting_e2e::{CLASSIC_POLICY_WASM, DEFAULT_POLICY_WASM, repo};

const INSTALL: &str = "pip install -r examples/python/requirements.txt";
const SCRIPT: &str = "examples/python/validator.py";

/// `GET path` on loopback: (status, body).
fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    let head = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    s.write_all(head.as_bytes()).ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let status = out.split_whitespace().nth(1)?.parse().ok()?;
    let body = out.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    // A chunked body: keep the JSON part.
    let body = match (body.find(['{', '[']), body.rfind(['}', ']'])) {
        (Some(a), Some(b)) => &body[a..=b],
        _ => body,
    };
    Some((status, body.to_string()))
}

fn multipliers(port: u16) -> Vec<Value> {
    get(port, "/multipliers")
        .and_then(|(_, b)| serde_json::from_str::<Value>(&b).ok())
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
}

/// Runs `python3 validator.py args...` in the repository; fails the test with how to
/// install python3 and wasmtime when they are missing.
fn validator(args: &[&str]) -> Output {
    let probe = Command::new("python3")
        .args(["-c", "import wasmtime, wasmtime.component"])
        .output()
        .unwrap_or_else(|e| panic!("python3 is needed to run this test ({e}); then {INSTALL}"));
    assert!(
        probe.status.success(),
        "python3 has no usable `wasmtime` package; {INSTALL}\n{}",
        String::from_utf8_lossy(&probe.stderr)
    );
    Command::new("python3")
        .arg(SCRIPT)
        .args(args)
        .current_dir(repo())
        .output()
        .expect("run python3")
}

/// Runs the example, expecting exit `code`: (stdout, stderr).
fn expect_exit(args: &[&str], code: i32) -> (String, String) {
    let out = validator(args);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert_eq!(
        out.status.code(),
        Some(code),
        "validator.py {args:?}: expected exit {code}:\n{stdout}{stderr}"
    );
    (stdout, stderr)
}

/// Runs the example and expects success: its stdout.
fn ok(args: &[&str]) -> String {
    expect_exit(args, 0).0
}

/// Runs the example and expects a clean failure (exit 1, `error: ...`): its stderr.
fn fails(args: &[&str]) -> String {
    let (stdout, stderr) = expect_exit(args, 1);
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.starts_with("error: ") && !stderr.contains("Traceback"),
        "{stderr}"
    );
    stderr
}

fn fixed(v: &Value, key: &str) -> Vec<u64> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key} in {v}"))
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect()
}

/// Temporary files removed when dropped.
struct Temp(Vec<PathBuf>);
impl Temp {
    fn file(&mut self, name: &str, text: &str) -> String {
        let p = std::env::temp_dir().join(format!("pyvalidator-{}-{name}", std::process::id()));
        std::fs::write(&p, text).unwrap();
        self.0.push(p.clone());
        p.to_str().unwrap().to_string()
    }
}
impl Drop for Temp {
    fn drop(&mut self) {
        for p in &self.0 {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
            }
        }
    }
}

/// Weights with floats that are hard to send: 0.9274858346060287 has no decimal that
/// serde_json's default parser (the service's) reads as it, 1/3 and 0.1 + 0.2 need 16 and
/// 17 digits, 2.5e-7 is below the range sent exactly.
const WEIGHTS: [f64; 6] = [
    0.927_485_834_606_028_7,
    1.0 / 3.0,
    0.1 + 0.2,
    0.75,
    2.5e-7,
    0.618_033_988_749_894_8,
];

#[test]
fn validator_api_and_local_paths_agree_bit_for_bit() {
    let mut temp = Temp(Vec::new());
    let (chain, api) = (free_port(), free_port());
    let devnet = spawn(&[
        "devnet",
        "--scenario",
        "tiny",
        "--port",
        &chain.to_string(),
        "--block-time-ms",
        "20",
        "--archive",
    ]);
    wait_for("the devnet", Duration::from_secs(60), || {
        TcpStream::connect(("127.0.0.1", chain)).is_ok()
    });
    let db = temp.file("service.db", "");
    std::fs::remove_file(&db).unwrap();
    let run = spawn(&[
        "run",
        "--netuid",
        "1",
        "--subtensor.chain_endpoint",
        &format!("ws://127.0.0.1:{chain}"),
        "--db",
        &db,
        "--api",
        &format!("127.0.0.1:{api}"),
    ]);
    wait_for("the API", Duration::from_secs(120), || {
        get(api, "/health").is_some_and(|(s, _)| s == 200)
    });
    // Multipliers that differ between miners and exceed 1.01 (they grow with the holding
    // duration; the tiny scenario's two holders differ), so the weights change shape.
    wait_for(
        "distinct multipliers above 1.01",
        Duration::from_secs(180),
        || {
            let rows = multipliers(api);
            let m: Vec<u64> = rows
                .iter()
                .map(|r| r["multiplier"].as_u64().unwrap())
                .collect();
            m.len() >= 2 && m.iter().any(|x| *x != m[0]) && m.iter().all(|x| *x > 1_010_000_000)
        },
    );
    // Stop the chain so both paths see the same multipliers (the service keeps serving).
    drop(devnet);
    let mut rows = multipliers(api);
    wait_for("the multipliers to settle", Duration::from_secs(30), || {
        std::thread::sleep(Duration::from_millis(750));
        let again = multipliers(api);
        std::mem::replace(&mut rows, again) == rows
    });

    // Every miner with a varied weight, and one uid whose hotkey has no multiplier.
    let mut uids: Vec<u64> = rows.iter().map(|r| r["uid"].as_u64().unwrap()).collect();
    let mut hotkeys: Vec<String> = rows
        .iter()
        .map(|r| r["hotkey"].as_str().unwrap().to_string())
        .collect();
    let stranger = uids.iter().max().unwrap() + 1;
    uids.push(stranger);
    hotkeys.push("5StrangerHotkeyWithNoMultiplier".into());
    let weights: Vec<f64> = (0..uids.len())
        .map(|i| WEIGHTS[i % WEIGHTS.len()] * (1 + i / WEIGHTS.len()) as f64)
        .collect();
    let input = temp.file(
        "weights.json",
        &serde_json::json!({ "uids": uids, "weights": weights, "hotkeys": hotkeys }).to_string(),
    );
    let url = format!("http://127.0.0.1:{api}");
    let wasm = DEFAULT_POLICY_WASM;

    // The two paths, the local one with the multipliers from the API and from the database.
    let via_api = ok(&["api", "--api", &url, "--input", &input]);
    let via_local = ok(&["local", "--api", &url, "--wasm", wasm, "--input", &input]);
    let via_db = ok(&["local", "--db", &db, "--wasm", wasm, "--input", &input]);
    assert_eq!(via_api, via_local, "API and local paths differ");
    assert_eq!(via_api, via_db, "API and local (database) paths differ");
    let compare = ok(&["compare", "--api", &url, "--wasm", wasm, "--input", &input]);
    assert!(compare.ends_with("identical\n"), "{compare}");

    // The output is the full `apply-weights` output, and not a trivial one.
    let out: Value = serde_json::from_str(via_api.trim()).unwrap();
    assert_eq!(fixed(&out, "uids"), uids, "{out}");
    let (w, m) = (fixed(&out, "weights"), fixed(&out, "multipliers"));
    let (chain_uids, chain_weights) = (fixed(&out, "chain_uids"), fixed(&out, "chain_weights"));
    assert_eq!(w.iter().sum::<u64>(), 1_000_000_000, "{out}");
    assert_eq!(chain_weights.iter().max(), Some(&65535), "{out}");
    assert_eq!(chain_uids.len(), chain_weights.len());
    // Each miner gets its latest multiplier; the stranger gets none, and no weight.
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(m[i], r["multiplier"].as_u64().unwrap(), "{out}");
    }
    let s = uids.len() - 1;
    assert_eq!((m[s], w[s]), (0, 0), "{out}");
    assert!(!chain_uids.contains(&stranger), "{out}");
    // The multipliers differ, so the weights are not the input's proportions.
    let total: f64 = weights[..s].iter().sum();
    let moved = (0..s)
        .map(|i| (w[i] as f64 / 1e9 - weights[i] / total).abs())
        .fold(0.0, f64::max);
    assert!(moved > 1e-6, "weights kept the input's proportions: {out}");

    // The request body: each weight as a decimal that serde_json (as the service has it)
    // and a correct parser read as the same float, within a few units in the last place
    // of the weight (2.5e-7 is rounded to 22 decimals).
    let body = ok(&["body", "--input", &input]);
    let sent = body
        .split_once("\"weights\":[")
        .and_then(|(_, r)| r.split_once(']'))
        .map(|(w, _)| w)
        .unwrap_or_else(|| panic!("{body}"));
    let sent: Vec<&str> = sent.split(',').collect();
    assert_eq!(sent.len(), weights.len(), "{body}");
    for (text, w) in sent.iter().zip(&weights) {
        let serde: f64 = serde_json::from_str(text).unwrap();
        let exact: f64 = text.parse().unwrap();
        assert_eq!(serde.to_bits(), exact.to_bits(), "{text} reads two ways");
        let ulps = serde.to_bits().abs_diff(w.to_bits());
        assert!(
            ulps <= 8 || (w - serde).abs() <= 1e-22,
            "{w} sent as {text}"
        );
    }
    if serde_json::from_str::<f64>(&serde_json::to_string(&WEIGHTS[0]).unwrap()).unwrap()
        != WEIGHTS[0]
    {
        // Why the example does not send Python's repr: the service would read another float.
        assert_ne!(sent[0], serde_json::to_string(&WEIGHTS[0]).unwrap());
    }

    // The service's parameters matter: another max_multiplier gives other weights.
    let config = temp.file("config.toml", "netuid = 1\nmax_multiplier = 1.01\n");
    let capped = ok(&[
        "local", "--api", &url, "--wasm", wasm, "--input", &input, "--config", &config,
    ]);
    assert_ne!(capped, via_api, "max_multiplier = 1.01 changed nothing");
    let capped: Value = serde_json::from_str(capped.trim()).unwrap();
    assert!(
        fixed(&capped, "multipliers")
            .iter()
            .all(|m| *m <= 1_010_000_000),
        "{capped}"
    );

    // Bad input: the policy's error, from both paths.
    let mut bad: Value = serde_json::from_str(&std::fs::read_to_string(&input).unwrap()).unwrap();
    bad["weights"].as_array_mut().unwrap().pop();
    let bad = temp.file("bad.json", &bad.to_string());
    let n = uids.len();
    let why = format!(
        "uids, weights and hotkeys must have one entry per uid: got {n}, {} and {n}",
        n - 1
    );
    for err in [
        fails(&["api", "--api", &url, "--input", &bad]),
        fails(&["local", "--api", &url, "--wasm", wasm, "--input", &bad]),
        fails(&["local", "--db", &db, "--wasm", wasm, "--input", &bad]),
    ] {
        assert!(
            err.contains(&why) && err.contains("LengthMismatch"),
            "{err}"
        );
    }
    // A policy other than the service's is refused, not silently used.
    let err = fails(&[
        "local",
        "--api",
        &url,
        "--wasm",
        CLASSIC_POLICY_WASM,
        "--input",
        &input,
    ]);
    assert!(err.contains("results would differ"), "{err}");
    let err = fails(&[
        "local",
        "--db",
        Path::new(&db).with_extension("missing").to_str().unwrap(),
        "--wasm",
        wasm,
        "--input",
        &input,
    ]);
    assert!(err.contains("no vesting database"), "{err}");
    drop(run);
    let err = fails(&["api", "--api", &url, "--input", &input]);
    assert!(err.contains("cannot reach the vesting service"), "{err}");
}
