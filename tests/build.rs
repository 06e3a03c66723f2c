//! Builds the policy components the end-to-end tests load as files: the default policy
//! and the example `classic` policy. Their paths reach the tests as env vars.
use std::path::Path;

fn main() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    for (package, dir, var) in [
        ("vesting-policy-default", "plugin", "DEFAULT_POLICY_WASM"),
        (
            "vesting-policy-classic",
            "examples/policies/classic",
            "CLASSIC_POLICY_WASM",
        ),
    ] {
        vesting_wasm_build::rerun_if_changed(&workspace, dir);
        let wasm = vesting_wasm_build::build_policy(&workspace, package, Path::new(&out));
        println!("cargo:rustc-env={var}={}", wasm.display());
    }
    // Policies that break the rules, one build per misbehaviour.
    vesting_wasm_build::rerun_if_changed(&workspace, "tests/policies/misbehaving");
    for feature in ["spin", "hog", "invalid"] {
        let name = format!("misbehaving-{feature}");
        let wasm = vesting_wasm_build::build_policy_variant(
            &workspace,
            "vesting-policy-misbehaving",
            &[feature],
            &name,
            Path::new(&out),
        );
        println!(
            "cargo:rustc-env=MISBEHAVING_{}_WASM={}",
            feature.to_uppercase(),
            wasm.display()
        );
    }
}
