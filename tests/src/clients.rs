//! The third-party clients the devnet tests drive: polkadot.js scripts in `tests/js` (run
//! with `node`, packages from `npm ci`) and bittensor SDK scripts in `tests/python` (run
//! with `python3`, packages from `pip install -r tests/python/requirements-sdk.txt`). Each
//! script prints one JSON summary line last; a failed run fails the test with its output.

use crate::repo;
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::Instant;

/// A summary's field; fails the test naming it when absent.
pub fn field<'a>(summary: &'a Value, key: &str) -> &'a Value {
    summary
        .get(key)
        .unwrap_or_else(|| panic!("summary lacks {key}: {summary}"))
}

/// Runs `cmd` to completion and returns the JSON of its last stdout line.
fn summary(mut cmd: Command, what: &str) -> Value {
    let t0 = Instant::now();
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{what} failed after {:?}:\nstdout: {stdout}\nstderr: {}",
        t0.elapsed(),
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout.lines().last().unwrap_or_default();
    let s: Value = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("{what}: the last line is not a JSON summary ({e}): {line:?}"));
    eprintln!("{what} ({:?}): {s}", t0.elapsed());
    s
}

/// `node tests/js/<script> <args>` (Node 20 or later), after checking `npm ci` was run.
pub fn node(script: &str, args: &[&str]) -> Value {
    let js = repo().join("tests/js");
    assert!(
        js.join("node_modules/@polkadot/api").is_dir(),
        "tests/js/node_modules is missing: run `npm ci` in tests/js \
         (`cd tests/js && npm ci --no-audit --no-fund`) before this test"
    );
    let mut cmd = Command::new("node");
    cmd.arg(js.join(script)).args(args).current_dir(&js);
    summary(cmd, &format!("node {script}"))
}

/// Fails the test, saying what to install, unless `python3` imports the bittensor SDK.
pub fn require_sdk() {
    let probe = Command::new("python3")
        .args(["-c", "import bittensor"])
        .output()
        .expect("python3 must be on PATH");
    assert!(
        probe.status.success(),
        "the bittensor SDK is not installed: run `pip install -r \
         tests/python/requirements-sdk.txt` ({})",
        String::from_utf8_lossy(&probe.stderr).trim()
    );
}

/// `python3 tests/python/<script> <args>` with a scratch HOME (the SDK writes its config
/// there), after checking the bittensor SDK is installed.
pub fn python(script: &str, args: &[&str]) -> Value {
    require_sdk();
    let home = std::env::temp_dir().join(format!("sdk-home-{}", std::process::id()));
    let mut cmd = Command::new("python3");
    cmd.arg(repo().join("tests/python").join(script))
        .args(args)
        .env("HOME", home);
    summary(cmd, &format!("python3 {script}"))
}
