//! The Python package (`python/`, `bittensor-vesting`): installed with pip into a virtual
//! environment under the target directory, its own pytest suite (`python/tests`) runs
//! against this build's `vesting` binary (`VESTING_BIN`), which it starts as `vesting
//! devnet` and `vesting run` processes, and this build's default policy (the 0.2 contract,
//! `VESTING_POLICY_WASM_V2`) beside the 0.1 fixture. Every test must pass; none may be skipped.
//!
//! Needs `python3` (with `venv`) and the packages of `python/requirements-test.txt` (pytest,
//! numpy) and `wasmtime`; the environment sees the system's site-packages, so CI's
//! `pip install -r python/requirements-test.txt` is enough. A machine without them fails
//! this test with how to install them.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use vesting_e2e::{DEFAULT_POLICY_WASM, repo, vesting_bin};

const INSTALL: &str =
    "pip install -r examples/python/requirements.txt -r python/requirements-test.txt";

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs `cmd`; fails the test with `what` and its output unless it succeeds.
fn check(cmd: &mut Command, what: &str) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run {cmd:?}: {e}"));
    assert!(out.status.success(), "{what} failed:\n{}", text(&out));
    text(&out)
}

/// The virtual environment's python, the environment created once (it sees the system's
/// site-packages: pytest, numpy and wasmtime come from there).
fn venv_python(profile_dir: &Path) -> PathBuf {
    let venv = profile_dir.join("python-venv");
    let python = venv.join("bin").join("python");
    if !python.exists() {
        check(
            Command::new("python3")
                .args(["-m", "venv", "--system-site-packages"])
                .arg(&venv),
            "python3 -m venv (python3 and its venv module are needed)",
        );
    }
    python
}

#[test]
fn python_package_installs_and_its_pytest_suite_passes() {
    let bin = vesting_bin();
    let profile_dir = bin.parent().expect("the binary's folder");
    let python = venv_python(profile_dir);
    let probe = Command::new(&python)
        .args(["-c", "import pytest, numpy, wasmtime.component"])
        .output()
        .expect("run the venv's python");
    assert!(
        probe.status.success(),
        "the Python test dependencies are missing; {INSTALL}\n{}",
        text(&probe)
    );

    // `pip install ./python`, as a user does (again each run: the sources may have changed).
    let python_dir = repo().join("python");
    check(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(["--force-reinstall", "--no-deps"])
            .arg(&python_dir)
            .current_dir(repo()),
        "pip install ./python",
    );
    // The tests import the installed package, not the sources.
    let location = check(
        Command::new(&python)
            .args(["-c", "import bittensor_vesting as b; print(b.__file__)"])
            .current_dir(&python_dir),
        "import bittensor_vesting",
    );
    assert!(
        location.contains("site-packages") && location.contains(&*profile_dir.to_string_lossy()),
        "bittensor_vesting imported from {location}"
    );

    let out = Command::new(&python)
        .args([
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "-rfEs",
            "tests",
        ])
        .current_dir(&python_dir)
        .env("VESTING_BIN", &bin)
        // The 0.2 build of the default policy, compared with the 0.1 fixture
        // (tests/fixtures/policies/default-0.1.0.wasm) by `test_policy_contracts.py`.
        .env("VESTING_POLICY_WASM_V2", DEFAULT_POLICY_WASM)
        .env_remove("PYTHONPATH")
        .output()
        .expect("run pytest");
    let report = text(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "pytest python/tests failed:\n{report}"
    );
    let summary = report
        .lines()
        .rev()
        .find(|l| l.contains(" in "))
        .unwrap_or("");
    assert!(
        summary.contains(" passed")
            && !["skipped", "xfail", "deselected", "failed", "error"]
                .iter()
                .any(|w| summary.contains(w)),
        "every test must pass, none skipped: {summary}\n{report}"
    );
}
