//! Builds the default policy (`plugin/`) into a wasm component and embeds it, so that
//! `cargo run` and `cargo test` work on a fresh clone with no separate build step.
use std::path::Path;

fn main() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    vesting_wasm_build::rerun_if_changed(&workspace, "plugin");
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    vesting_wasm_build::build_policy(&workspace, "vesting-policy-default", Path::new(&out));
}
