//! Builds a policy crate of this workspace into a wasm32-wasip2 component, for build
//! scripts that embed or ship policies. It runs a nested `cargo build` with the
//! workspace's `policy` profile in a target directory of its own, so it never waits on
//! the outer build's lock.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Builds `package` (a member of the workspace at `workspace`) for wasm32-wasip2, copies
/// its `.wasm` component into `out_dir` at once (a later build of a policy that depends
/// on this one rewrites the shared artifact) and returns the copy's path. Meant for build
/// scripts: on failure it panics with a message that says what to do, which cargo shows
/// as a build error.
pub fn build_policy(workspace: &Path, package: &str, out_dir: &Path) -> PathBuf {
    build_policy_variant(workspace, package, &[], package, out_dir)
}

/// [`build_policy`] with cargo `features` turned on, copied to `out_dir/<name>.wasm`.
pub fn build_policy_variant(
    workspace: &Path,
    package: &str,
    features: &[&str],
    name: &str,
    out_dir: &Path,
) -> PathBuf {
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"))
        .join("policy-wasm");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace)
        .args([
            "build",
            "--package",
            package,
            "--target",
            "wasm32-wasip2",
            "--profile",
            "policy",
        ])
        .args(["--features", &features.join(",")])
        .arg("--target-dir")
        .arg(&target_dir);
    // Flags meant for the outer (native) build must not leak into the wasm build.
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        // Wrappers too: clippy lints the policy crates natively, as workspace members.
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_WRAPPER",
        "CLIPPY_ARGS",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("could not run cargo to build `{package}`: {e}"));
    if !status.success() {
        panic!(
            "building the policy `{package}` for wasm32-wasip2 failed ({status}). \
             If the target is missing, run `rustup target add wasm32-wasip2`."
        );
    }
    let artifact = target_dir
        .join("wasm32-wasip2/policy")
        .join(format!("{}.wasm", package.replace('-', "_")));
    let copy = out_dir.join(format!("{name}.wasm"));
    if let Err(e) = std::fs::copy(&artifact, &copy) {
        panic!(
            "`{package}` built, but copying {} failed: {e}",
            artifact.display()
        );
    }
    copy
}

/// Tells cargo to rebuild the caller when the policy crate or the contract changes.
pub fn rerun_if_changed(workspace: &Path, crate_dir: &str) {
    for p in [crate_dir, "wit", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", workspace.join(p).display());
    }
}
