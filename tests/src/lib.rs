//! Helpers of the end-to-end tests: where the built binary and policy components are.
use std::path::PathBuf;

pub mod clients;
pub mod ops;
pub mod proc;

/// The default policy component, built by this crate's build script.
pub const DEFAULT_POLICY_WASM: &str = env!("DEFAULT_POLICY_WASM");
/// The example `classic` policy component.
pub const CLASSIC_POLICY_WASM: &str = env!("CLASSIC_POLICY_WASM");

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The `vesting` binary of this build profile, next to the test executable's folder,
/// built (or found up to date: about a second) once per test executable, so a test never
/// runs a binary older than the sources.
pub fn vesting_bin() -> PathBuf {
    static BUILT: std::sync::Once = std::sync::Once::new();
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target profile dir");
    let bin = dir.join(format!("vesting{}", std::env::consts::EXE_SUFFIX));
    BUILT.call_once(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let release = dir.ends_with("release");
        let mut cmd = std::process::Command::new(cargo);
        cmd.current_dir(repo())
            .args(["build", "-p", "vesting-host", "--bin", "vesting"]);
        if release {
            cmd.arg("--release");
        }
        assert!(
            cmd.status().expect("run cargo").success(),
            "building the vesting binary failed"
        );
    });
    bin
}

/// Runs the `vesting` binary with `args`; (exit code, stdout, stderr).
pub fn vesting(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(vesting_bin())
        .args(args)
        .current_dir(repo())
        .output()
        .expect("run the vesting binary");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
